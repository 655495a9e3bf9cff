package dev.cordon.core.file;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Names for the files people send, safe to use as one name in a folder: a sender (or a platform)
 * chooses the name, and the agent's inbox must not get {@code ../x}, {@code .bashrc}, a name with
 * a newline that garbles the listing the model reads, or two files under one name.
 */
public final class FileNames {
    /** The longest name most file systems take, in UTF-8 bytes. */
    static final int MAX_BYTES = 255;

    private FileNames() {}

    /**
     * {@code name} as one safe file name: no {@code /} or {@code \} (each becomes {@code _}), no
     * NUL or other control character (dropped), no leading dot (so neither {@code .} nor {@code ..}
     * nor a hidden file), at most 255 bytes of UTF-8 (cut before the extension, never inside a
     * character); {@code file} if nothing is left.
     */
    public static String sanitise(String name) {
        StringBuilder out = new StringBuilder();
        name.codePoints().forEach(c -> {
            if (c == '/' || c == '\\') {
                out.append('_');
            } else if (!Character.isISOControl(c) && Character.getType(c) != Character.FORMAT) {
                out.appendCodePoint(c);
            }
        });
        String clean = out.toString().strip();
        int start = 0;
        while (start < clean.length() && clean.charAt(start) == '.') {
            start++;
        }
        clean = clean.substring(start).strip();
        return clean.isEmpty() ? "file" : fit(clean, MAX_BYTES);
    }

    /**
     * Sanitised names for files that go into one folder, in order: a name already taken (case
     * ignored, for file systems that ignore it) gets {@code -2}, {@code -3}, ... before its extension.
     */
    public static List<String> distinct(List<String> names) {
        Set<String> taken = new HashSet<>();
        List<String> out = new ArrayList<>();
        for (String raw : names) {
            String name = sanitise(raw);
            String candidate = name;
            for (int n = 2; !taken.add(candidate.toLowerCase(Locale.ROOT)); n++) {
                candidate = withSuffix(name, "-" + n);
            }
            out.add(candidate);
        }
        return out;
    }

    private static String withSuffix(String name, String suffix) {
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        return fit(stem + suffix + ext, MAX_BYTES, stem.length());
    }

    private static String fit(String name, int max) {
        int dot = name.lastIndexOf('.');
        return fit(name, max, dot > 0 ? dot : name.length());
    }

    /**
     * Cuts characters before index {@code keepFrom} until it fits; what follows (the extension and
     * any suffix) stays, so a cut name still differs from the name it was made distinct from.
     */
    private static String fit(String name, int max, int keepFrom) {
        if (bytes(name) <= max) {
            return name;
        }
        String tail = name.substring(keepFrom);
        if (bytes(tail) > max / 2) {
            tail = ""; // an "extension" this long is no extension
            keepFrom = name.length();
        }
        String head = name.substring(0, keepFrom);
        int room = max - bytes(tail);
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < head.length(); ) {
            int c = head.codePointAt(i);
            String one = new String(Character.toChars(c));
            if (bytes(kept.toString()) + bytes(one) > room) {
                break;
            }
            kept.append(one);
            i += Character.charCount(c);
        }
        return kept + tail;
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
