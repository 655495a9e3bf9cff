package dev.cordon.runner.tools;

import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.PatternSyntaxException;

/**
 * Glob patterns with java.nio {@code glob:} semantics, plus the one thing models expect that
 * PathMatcher does not do: {@code **}{@code /} also matches no directory at all, so
 * {@code **}{@code /*.java} matches {@code Main.java} at the top and {@code src/**}{@code /*.java}
 * matches {@code src/Main.java}. Done by also compiling the variants with those segments removed.
 */
final class Globs {
    /** Each optional {@code **}{@code /} doubles the variants; beyond this many they are kept. */
    private static final int MAX_OPTIONAL_SEGMENTS = 4;

    private static final String META = "*?[]{}\\";

    private Globs() {}

    /** A pattern split into its literal leading directories and the rest. */
    record Split(String literalPrefix, String rest) {}

    /**
     * Splits off the leading path segments that contain no glob syntax, so a search can start
     * there instead of walking everything: {@code src/main/**}{@code /*.java} gives
     * {@code src/main} and {@code **}{@code /*.java}. The last segment always stays in the rest.
     */
    static Split split(String pattern) {
        int literalEnd = 0;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (META.indexOf(c) >= 0) {
                break;
            }
            if (c == '/') {
                literalEnd = i + 1;
            }
        }
        if (literalEnd == 0) {
            return new Split("", pattern);
        }
        // Keep the root of an absolute pattern ("/"), drop the separator otherwise ("src/" -> "src").
        String prefix = literalEnd == 1 ? "/" : pattern.substring(0, literalEnd - 1);
        return new Split(prefix, pattern.substring(literalEnd));
    }

    /**
     * Compiles {@code pattern} for matching relative paths.
     *
     * @throws InvalidInputException naming {@code argument} if the pattern is malformed
     */
    static PathMatcher compile(String argument, String pattern) throws InvalidInputException {
        List<PathMatcher> matchers = new ArrayList<>();
        try {
            for (String variant : variants(pattern)) {
                matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + variant));
            }
        } catch (PatternSyntaxException e) {
            throw new InvalidInputException("Invalid argument '" + argument + "': not a valid glob pattern ("
                    + e.getDescription() + " near index " + e.getIndex() + " of \"" + pattern + "\").");
        }
        if (matchers.size() == 1) {
            return matchers.getFirst();
        }
        return path -> {
            for (PathMatcher m : matchers) {
                if (m.matches(path)) {
                    return true;
                }
            }
            return false;
        };
    }

    /**
     * An upper bound on how many directory levels below the start a match can be, or
     * {@link Integer#MAX_VALUE} if the pattern has {@code **}. Sound because in a glob only a
     * literal {@code /} matches a separator.
     */
    static int maxDepth(String pattern) {
        if (pattern.contains("**")) {
            return Integer.MAX_VALUE;
        }
        int depth = 1;
        for (int i = 0; i < pattern.length(); i++) {
            if (pattern.charAt(i) == '/') {
                depth++;
            }
        }
        return depth;
    }

    static Set<String> variants(String pattern) {
        Set<String> out = new LinkedHashSet<>();
        expand(pattern, 0, 0, out);
        return out;
    }

    private static void expand(String pattern, int from, int depth, Set<String> out) {
        int at = nextOptional(pattern, from);
        if (at < 0 || depth == MAX_OPTIONAL_SEGMENTS) {
            out.add(pattern);
            return;
        }
        expand(pattern, at + 3, depth + 1, out);
        expand(pattern.substring(0, at) + pattern.substring(at + 3), at, depth + 1, out);
    }

    /** The index of the next {@code **}{@code /} that starts a segment, or -1. */
    private static int nextOptional(String pattern, int from) {
        for (int at = pattern.indexOf("**/", from); at >= 0; at = pattern.indexOf("**/", at + 1)) {
            if (at == 0 || pattern.charAt(at - 1) == '/') {
                return at;
            }
        }
        return -1;
    }
}
