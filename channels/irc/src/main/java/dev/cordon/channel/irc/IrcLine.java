package dev.cordon.channel.irc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One line of the IRC protocol (RFC 1459/2812, with IRCv3 message tags): {@code [@tags] [:prefix]
 * COMMAND params... [:trailing]}.
 */
record IrcLine(Map<String, String> tags, String prefix, String command, List<String> params) {
    /** Parses one line without its CR LF; a line with no command has an empty one. */
    static IrcLine parse(String line) {
        Map<String, String> tags = new TreeMap<>();
        String rest = line;
        if (rest.startsWith("@")) {
            int space = rest.indexOf(' ');
            String raw = space < 0 ? rest.substring(1) : rest.substring(1, space);
            for (String tag : raw.split(";")) {
                int eq = tag.indexOf('=');
                tags.put(eq < 0 ? tag : tag.substring(0, eq), eq < 0 ? "" : tag.substring(eq + 1));
            }
            rest = space < 0 ? "" : rest.substring(space + 1).stripLeading();
        }
        String prefix = null;
        if (rest.startsWith(":")) {
            int space = rest.indexOf(' ');
            prefix = space < 0 ? rest.substring(1) : rest.substring(1, space);
            rest = space < 0 ? "" : rest.substring(space + 1).stripLeading();
        }
        List<String> params = new ArrayList<>();
        String command = "";
        while (!rest.isEmpty()) {
            if (rest.startsWith(":") && !command.isEmpty()) {
                params.add(rest.substring(1));
                break;
            }
            int space = rest.indexOf(' ');
            String word = space < 0 ? rest : rest.substring(0, space);
            if (command.isEmpty()) {
                command = word.toUpperCase(java.util.Locale.ROOT);
            } else {
                params.add(word);
            }
            rest = space < 0 ? "" : rest.substring(space + 1).stripLeading();
        }
        return new IrcLine(tags, prefix, command, List.copyOf(params));
    }

    /** The nick in the prefix ({@code nick!user@host}), or the whole prefix (a server). */
    String nick() {
        if (prefix == null) {
            return "";
        }
        int bang = prefix.indexOf('!');
        return bang < 0 ? prefix : prefix.substring(0, bang);
    }

    String param(int i) {
        return i < params.size() ? params.get(i) : "";
    }
}
