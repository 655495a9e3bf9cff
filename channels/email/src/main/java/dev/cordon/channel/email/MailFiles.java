package dev.cordon.channel.email;

import dev.cordon.core.channel.InboundFile;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeUtility;
import java.io.IOException;
import java.io.UnsupportedEncodingException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The files an email carries: each part that is an attachment, or an inline part with a name (a
 * pasted image), as an {@link InboundFile}. The bytes are read from the message only when the host
 * fetches them (while the message is offered, the folder still open), decoded, and only as far as
 * the host's limit: a huge attachment is never held in memory whole.
 */
final class MailFiles {
    private MailFiles() {}

    /** The message's files, in the order they appear. */
    static List<InboundFile> of(Part message) throws MessagingException, IOException {
        List<InboundFile> files = new ArrayList<>();
        collect(message, files, true);
        return files;
    }

    private static void collect(Part part, List<InboundFile> files, boolean top)
            throws MessagingException, IOException {
        if (part.isMimeType("multipart/*") && part.getContent() instanceof Multipart multipart) {
            for (int i = 0; i < multipart.getCount(); i++) {
                BodyPart child = multipart.getBodyPart(i);
                collect(child, files, false);
            }
            return;
        }
        String name = name(part);
        boolean attached = Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition());
        if (top || (!attached && name == null)) {
            return; // the message's own text, or a text part of its body
        }
        files.add(new InboundFile(
                name == null ? "attachment" : name,
                type(part),
                -1, // the part's size is of its transfer encoding (base64 is a third larger), not the file's
                () -> {
                    try {
                        return part.getInputStream();
                    } catch (MessagingException e) {
                        throw new IOException("the mail server did not give the attachment: " + e.getMessage(), e);
                    }
                }));
    }

    private static String name(Part part) throws MessagingException {
        String name = part.getFileName();
        if (name == null || name.isBlank()) {
            return null;
        }
        try {
            return MimeUtility.decodeText(name);
        } catch (UnsupportedEncodingException e) {
            return name;
        }
    }

    private static String type(Part part) throws MessagingException {
        try {
            return new ContentType(part.getContentType()).getBaseType().toLowerCase(Locale.ROOT);
        } catch (MessagingException | RuntimeException e) {
            return "application/octet-stream";
        }
    }
}
