package dev.cordon.channel.email;

import dev.cordon.core.channel.Attachment;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.IOException;

/** The body of a mail that carries a file: {@code multipart/mixed}, the text first, then the file as an attachment. */
final class MailAttachment {
    private MailAttachment() {}

    /**
     * Sets {@code mail}'s body to {@code text} and {@code file}.
     *
     * @throws IOException if the file's bytes cannot be read from the host
     */
    static void fill(MimeMessage mail, String text, Attachment file) throws MessagingException, IOException {
        MimeBodyPart body = new MimeBodyPart();
        body.setText(text, "UTF-8");
        MimeBodyPart attached = new MimeBodyPart();
        attached.setDataHandler(new DataHandler(new ByteArrayDataSource(file.readAllBytes(), file.mediaType())));
        attached.setFileName(file.name());
        attached.setDisposition(MimeBodyPart.ATTACHMENT);
        mail.setContent(new MimeMultipart(body, attached));
    }
}
