package dev.cordon.channel.email;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.time.Duration;
import java.util.Locale;

/**
 * The mailbox the email adapter reads (IMAP) and the server it sends through (SMTP).
 *
 * @param address the agent's own address: the chat's id, and the From of every reply
 * @param username the login for both servers
 * @param password the login's password, or null; comes from the vault, never the config
 * @param folder the IMAP folder to watch, usually {@code INBOX}
 * @param idle use IMAP IDLE where the server offers it (else poll every {@code poll})
 * @param poll how often to look for new mail without IDLE
 */
public record EmailSettings(
        Server imap,
        Server smtp,
        String address,
        String username,
        String password,
        String folder,
        boolean idle,
        Duration poll) {

    /** How a connection is protected: implicit TLS, STARTTLS (required), or nothing (loopback tests). */
    public enum Security {
        TLS,
        STARTTLS,
        NONE;

        /** {@code tls}, {@code starttls} or {@code none}. */
        public static Security of(String label) {
            for (Security s : values()) {
                if (s.name().equalsIgnoreCase(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("'" + label + "' is not tls, starttls or none");
        }
    }

    /** One server. */
    public record Server(String host, int port, Security security) {
        public Server {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("a host name is required");
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port must be from 1 to 65535, got " + port);
            }
        }
    }

    /** @throws IllegalArgumentException naming the field that is wrong */
    public EmailSettings {
        try {
            InternetAddress parsed = new InternetAddress(address, true);
            address = parsed.getAddress().toLowerCase(Locale.ROOT);
        } catch (AddressException | NullPointerException e) {
            throw new IllegalArgumentException("address: '" + address + "' is not an email address");
        }
        if (username == null || username.isBlank()) {
            username = address;
        }
        if (folder == null || folder.isBlank()) {
            folder = "INBOX";
        }
        if (poll.isNegative() || poll.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive, got " + poll);
        }
    }

    /** Without the password: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "EmailSettings[" + address + " as " + username + ", imap " + imap + ", smtp " + smtp + ", " + folder
                + (password == null ? "" : ", password set") + "]";
    }

    /** The domain of {@link #address}: where the adapter's Message-IDs live. */
    String domain() {
        return address.substring(address.indexOf('@') + 1);
    }
}
