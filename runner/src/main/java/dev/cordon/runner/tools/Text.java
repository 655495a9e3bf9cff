package dev.cordon.runner.tools;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/** Small text helpers shared by the tools. */
final class Text {
    /** Longest line a tool shows; longer lines are cut with a note. */
    static final int MAX_LINE_CHARS = 2_000;

    /** How much of a file's start is checked for NUL bytes to call it binary (as git and grep do). */
    private static final int BINARY_PROBE_BYTES = 8_192;

    private Text() {}

    /** {@code 1234567} as {@code "1,234,567"}. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** {@code n} followed by the noun, pluralised with a trailing s. */
    static String count(long n, String noun) {
        return count(n) + " " + noun + (n == 1 ? "" : "s");
    }

    /** {@code n} followed by the singular or plural noun. */
    static String count(long n, String singular, String plural) {
        return count(n) + " " + (n == 1 ? singular : plural);
    }

    /**
     * What is at {@code path}, following symlinks, or null if nothing is. Distinguishes "missing"
     * from "cannot look" (a directory on the way is unreadable), which {@code Files.exists} conflates.
     *
     * @throws IOException if the path cannot be examined for another reason than not existing
     */
    static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The first {@code max} characters of {@code s}, with an ellipsis if cut; for short quotes. */
    static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, safeCut(s, max)) + "...";
    }

    /** The start of {@code s} up to {@code limit} characters, with a note saying how much was cut. */
    static String capHead(String s, int limit) {
        if (s.length() <= limit) {
            return s;
        }
        int cut = safeCut(s, limit);
        return s.substring(0, cut) + "\n[... output cut at " + count(limit) + " characters; " + count(s.length() - cut)
                + " more characters not shown]";
    }

    /** A line cut to {@link #MAX_LINE_CHARS}, noting how many characters were dropped. */
    static String capLine(String line, long alreadyDropped) {
        int keep = line.length() <= MAX_LINE_CHARS ? line.length() : safeCut(line, MAX_LINE_CHARS);
        long dropped = alreadyDropped + line.length() - keep;
        return dropped == 0
                ? line
                : line.substring(0, keep) + " [... line cut, " + count(dropped) + " more characters]";
    }

    /** An index at or just below {@code index} that does not split a surrogate pair. */
    static int safeCut(CharSequence s, int index) {
        return index > 0 && index < s.length() && Character.isHighSurrogate(s.charAt(index - 1)) ? index - 1 : index;
    }

    /**
     * Whether the stream's first bytes contain a NUL byte. Leaves the stream where it was; needs a
     * stream whose buffer holds at least 8 KiB.
     */
    static boolean looksBinary(BufferedInputStream in) throws IOException {
        in.mark(BINARY_PROBE_BYTES);
        byte[] probe = in.readNBytes(BINARY_PROBE_BYTES);
        in.reset();
        for (byte b : probe) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }

    /** A model-readable reason for a failed file operation. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException n) {
            return "not found: " + n.getFile();
        }
        if (e instanceof AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (e instanceof NotDirectoryException n) {
            return "not a directory: " + n.getFile();
        }
        if (e instanceof FileSystemException f) {
            return f.getFile() + ": "
                    + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
