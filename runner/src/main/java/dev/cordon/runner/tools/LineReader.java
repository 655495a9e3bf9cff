package dev.cordon.runner.tools;

import java.io.IOException;
import java.io.Reader;

/**
 * Reads lines like {@code BufferedReader.readLine} ({@code \n} and {@code \r\n} end a line) but keeps
 * at most {@code maxChars} of each line in memory and counts the rest, so one huge line (a minified
 * file, a log without newlines) cannot exhaust the heap. Not thread-safe; one per file.
 */
final class LineReader {
    private final Reader in;
    private final int maxChars;
    private final char[] buffer = new char[8_192];
    private final StringBuilder line = new StringBuilder();
    private int pos;
    private int end;
    private long dropped;

    LineReader(Reader in, int maxChars) {
        this.in = in;
        this.maxChars = maxChars;
    }

    /** The next line without its terminator, cut to {@code maxChars}; null at end of input. */
    String next() throws IOException {
        line.setLength(0);
        dropped = 0;
        boolean sawAny = false;
        boolean endsWithCr = false;
        while (true) {
            if (pos == end) {
                int n = in.read(buffer);
                if (n == -1) {
                    if (!sawAny) {
                        return null;
                    }
                    break;
                }
                pos = 0;
                end = n;
            }
            sawAny = true;
            int start = pos;
            while (pos < end && buffer[pos] != '\n') {
                pos++;
            }
            if (pos > start) {
                endsWithCr = buffer[pos - 1] == '\r';
                append(start, pos - start);
            }
            if (pos < end) {
                pos++;
                break;
            }
        }
        if (endsWithCr) {
            if (dropped > 0) {
                dropped--;
            } else {
                line.setLength(line.length() - 1);
            }
        }
        return line.toString();
    }

    /** How many characters of the last line {@link #next} cut off. */
    long dropped() {
        return dropped;
    }

    private void append(int start, int length) {
        int take = Math.min(length, maxChars - line.length());
        if (take > 0) {
            line.append(buffer, start, take);
        }
        dropped += length - take;
    }
}
