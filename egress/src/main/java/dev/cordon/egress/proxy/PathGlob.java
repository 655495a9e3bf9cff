package dev.cordon.egress.proxy;

/**
 * Path globs for egress rules: {@code *} matches within one segment, {@code **} across segments.
 * The path comes from a sandbox, so matching is a bottom-up table, not backtracking or recursion:
 * time is glob length × path length and the stack stays flat, whatever the path (a backtracking
 * matcher is exponential in the number of stars; a recursive one overflows on a long path).
 */
final class PathGlob {
    private PathGlob() {}

    private static final int STAR = -1;
    private static final int DEEP = -2;

    static boolean matches(String glob, String path) {
        int[] tokens = tokens(glob);
        int p = path.length();
        // after[j]: whether tokens[i+1..] match path[j..]; row i is computed from the end.
        boolean[] after = new boolean[p + 1];
        after[p] = true;
        boolean[] row = new boolean[p + 1];
        for (int i = tokens.length - 1; i >= 0; i--) {
            int t = tokens[i];
            for (int j = p; j >= 0; j--) {
                row[j] = switch (t) {
                    case STAR -> after[j] || (j < p && path.charAt(j) != '/' && row[j + 1]);
                    case DEEP -> after[j] || (j < p && row[j + 1]);
                    default -> j < p && path.charAt(j) == t && after[j + 1];
                };
            }
            boolean[] swap = after;
            after = row;
            row = swap;
        }
        return after[0];
    }

    private static int[] tokens(String glob) {
        int[] out = new int[glob.length()];
        int n = 0;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                out[n++] = DEEP;
                i++;
            } else {
                out[n++] = c == '*' ? STAR : c;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
