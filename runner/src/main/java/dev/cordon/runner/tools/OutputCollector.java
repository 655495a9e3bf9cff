package dev.cordon.runner.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/**
 * Drains a process's output to the end while keeping only its first and last characters: memory
 * stays bounded however much the command prints, and the pipe never fills up, so the command never
 * blocks on a write we are not reading. {@link #run} reads until end of stream on the calling
 * thread; {@link #text} may be called from any thread at any time for a consistent snapshot.
 */
final class OutputCollector implements Runnable {
    private final InputStream in;
    private final int headCapacity;
    private final StringBuilder head = new StringBuilder();
    private final char[] tail;
    private int tailStart;
    private int tailLength;
    private long total;

    /** Keeps at most {@code limit} characters: the first half and the last half. */
    OutputCollector(InputStream in, int limit) {
        this.in = in;
        this.headCapacity = limit / 2;
        this.tail = new char[limit - headCapacity];
    }

    @Override
    public void run() {
        char[] buffer = new char[8_192];
        try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            for (int n = reader.read(buffer); n != -1; n = reader.read(buffer)) {
                append(buffer, n);
            }
        } catch (IOException e) {
            // The stream was closed under us or the pipe broke: what was read so far is the output.
        }
    }

    private synchronized void append(char[] buffer, int n) {
        total += n;
        int i = 0;
        int toHead = Math.min(n, headCapacity - head.length());
        if (toHead > 0) {
            head.append(buffer, 0, toHead);
            i = toHead;
        }
        for (; i < n && tail.length > 0; i++) {
            if (tailLength < tail.length) {
                tail[(tailStart + tailLength) % tail.length] = buffer[i];
                tailLength++;
            } else {
                tail[tailStart] = buffer[i];
                tailStart = (tailStart + 1) % tail.length;
            }
        }
    }

    /** Everything read so far, or its head and tail around a note saying how much was left out. */
    synchronized String text() {
        StringBuilder end = new StringBuilder(tailLength);
        for (int i = 0; i < tailLength; i++) {
            end.append(tail[(tailStart + i) % tail.length]);
        }
        long omitted = total - head.length() - tailLength;
        if (omitted == 0) {
            return head.toString() + end;
        }
        // Do not leave half of a surrogate pair at either side of the cut.
        int headEnd = head.length() > 0 && Character.isHighSurrogate(head.charAt(head.length() - 1))
                ? head.length() - 1
                : head.length();
        int tailStartAt = end.length() > 0 && Character.isLowSurrogate(end.charAt(0)) ? 1 : 0;
        omitted += head.length() - headEnd + tailStartAt;
        return head.substring(0, headEnd)
                + "\n\n[... " + Text.count(omitted) + " characters of output omitted ...]\n\n"
                + end.substring(tailStartAt);
    }
}
