package dev.cordon.sandbox.disk;

import java.util.Locale;

/** Sizes as people read them in messages. */
final class Sizes {
    private static final long MIB = 1L << 20;

    private Sizes() {}

    /** {@code 64 MiB}, or {@code 40.3 MiB} when not a whole number. */
    static String mib(long bytes) {
        if (bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
    }

    /** The smallest whole number of MiB that holds {@code bytes}. */
    static long ceilMib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }
}
