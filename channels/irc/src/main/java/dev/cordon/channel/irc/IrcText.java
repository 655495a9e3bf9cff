package dev.cordon.channel.irc;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a reply into the texts of PRIVMSG lines: one or more per line of the reply, each short
 * enough that the line the server relays ({@code :nick!user@host PRIVMSG target :text} CR LF) stays
 * within IRC's 512 bytes. Control characters go: a reply can never end a line early and smuggle a
 * command of its own (CR, LF) or a CTCP request (0x01).
 */
final class IrcText {
    /** IRC's limit on one line, CR LF included. */
    static final int LINE_BYTES = 512;

    /** The longest user and host a server may put into the relayed prefix. */
    private static final int USER_HOST_BYTES = 10 + 63;

    private IrcText() {}

    /** Bytes of text one PRIVMSG from {@code nick} to {@code target} can carry. */
    static int maxTextBytes(String nick, String target) {
        String overhead = ":" + nick + "!@" + " PRIVMSG " + target + " :" + "\r\n";
        return LINE_BYTES - overhead.getBytes(StandardCharsets.UTF_8).length - USER_HOST_BYTES;
    }

    /** The texts of the PRIVMSG lines that carry {@code reply}; blank lines are left out. */
    static List<String> lines(String reply, int maxBytes) {
        List<String> out = new ArrayList<>();
        for (String line : reply.split("\n", -1)) {
            String clean = clean(line).stripTrailing();
            if (!clean.isBlank()) {
                split(clean, maxBytes, out);
            }
        }
        return out;
    }

    /** Control characters but tab removed; tab becomes a space. */
    static String clean(String text) {
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == '\t') {
                b.append(' ');
            } else if (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0)) {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    /** Splits at the last space that fits, else at the last whole code point that fits. */
    private static void split(String text, int maxBytes, List<String> out) {
        String rest = text;
        while (rest.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
            int fit = 0;
            int bytes = 0;
            while (fit < rest.length()) {
                int cp = rest.codePointAt(fit);
                int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
                if (bytes + size > maxBytes) {
                    break;
                }
                bytes += size;
                fit += Character.charCount(cp);
            }
            int space = rest.lastIndexOf(' ', fit);
            int cut = space > fit / 2 ? space : fit;
            out.add(rest.substring(0, cut));
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isEmpty()) {
            out.add(rest);
        }
    }
}
