package dev.cordon.channel.email;

import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.cordon.testkit.Ports;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/** GreenMail (IMAP + SMTP) on fixed free loopback ports, so it can be stopped and started again. */
final class MailServer implements AutoCloseable {
    static final String AGENT = "agent@cordon.test";
    static final String PASSWORD = "mailbox-secret";

    final ServerSetup smtp = new ServerSetup(Ports.free(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP);
    final ServerSetup imap = new ServerSetup(Ports.free(), "127.0.0.1", ServerSetup.PROTOCOL_IMAP);
    GreenMail mail;
    GreenMailUser agent;

    MailServer start() {
        mail = new GreenMail(new ServerSetup[] {smtp, imap});
        mail.start();
        agent = mail.setUser(AGENT, AGENT, PASSWORD);
        return this;
    }

    void stop() {
        mail.stop();
    }

    EmailSettings settings(boolean idle, Duration poll) {
        return new EmailSettings(
                new EmailSettings.Server("127.0.0.1", imap.getPort(), EmailSettings.Security.NONE),
                new EmailSettings.Server("127.0.0.1", smtp.getPort(), EmailSettings.Security.NONE),
                AGENT,
                AGENT,
                PASSWORD,
                "INBOX",
                idle,
                poll);
    }

    /** Sends a plain-text mail through the server's SMTP, with extra headers. */
    void send(String from, String subject, String body, Map<String, String> extra) throws MessagingException {
        Properties props = new Properties();
        props.put("mail.smtp.host", "127.0.0.1");
        props.put("mail.smtp.port", Integer.toString(smtp.getPort()));
        MimeMessage m = new MimeMessage(Session.getInstance(props)) {
            @Override
            protected void updateMessageID() throws MessagingException {
                if (extra.containsKey("Message-ID")) {
                    setHeader("Message-ID", extra.get("Message-ID"));
                } else {
                    super.updateMessageID();
                }
            }
        };
        m.setFrom(new InternetAddress(from));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress(AGENT));
        m.setSubject(subject);
        m.setText(body, "UTF-8");
        for (Map.Entry<String, String> h : extra.entrySet()) {
            m.setHeader(h.getKey(), h.getValue());
        }
        Transport.send(m);
    }

    int unseen() throws FolderException {
        return mail.getManagers().getImapHostManager().getInbox(agent).getUnseenCount();
    }

    @Override
    public void close() {
        if (mail != null) {
            mail.stop();
        }
    }
}
