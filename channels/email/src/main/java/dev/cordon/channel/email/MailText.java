package dev.cordon.channel.email;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the agent reads of an email, and the headers that keep a reply in its thread. */
final class MailText {
    private static final Pattern MESSAGE_ID = Pattern.compile("<[^<>\\s]+>");
    /** The text an agent gets of one email at most. */
    static final int MAX_TEXT = 64 * 1024;

    private MailText() {}

    /**
     * The message's text: its first text/plain part, else its first text/html part with the tags
     * taken out; clipped to {@link #MAX_TEXT} characters. Attachments are not read.
     */
    static String body(Part part) throws MessagingException, IOException {
        String plain = find(part, "text/plain");
        String text = plain != null ? plain : html(find(part, "text/html"));
        text = text == null ? "" : text.replace("\r\n", "\n").strip();
        return text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text;
    }

    private static String find(Part part, String type) throws MessagingException, IOException {
        if (Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())) {
            return null;
        }
        if (part.isMimeType(type)) {
            return part.getContent().toString();
        }
        if (part.isMimeType("multipart/*") && part.getContent() instanceof Multipart multipart) {
            for (int i = 0; i < multipart.getCount(); i++) {
                BodyPart child = multipart.getBodyPart(i);
                String found = find(child, type);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String html(String html) {
        if (html == null) {
            return null;
        }
        return html.replaceAll("(?is)<(script|style)[^>]*>.*?</\\1>", "")
                .replaceAll("(?i)<br\\s*/?>|</p>|</div>", "\n")
                .replaceAll("<[^>]+>", "")
                .replace("&nbsp;", " ")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
    }

    /** The Message-IDs in a References or In-Reply-To header, in order; empty for null. */
    static List<String> ids(String header) {
        List<String> ids = new ArrayList<>();
        if (header != null) {
            Matcher m = MESSAGE_ID.matcher(header);
            while (m.find()) {
                ids.add(m.group());
            }
        }
        return ids;
    }

    /** {@code Re: subject}, without stacking a second {@code Re:}. */
    static String replySubject(String subject) {
        String s = subject == null ? "" : subject.strip();
        return s.regionMatches(true, 0, "re:", 0, 3) ? s : "Re: " + s;
    }
}
