package dev.cordon.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Samples of one measured interval, in nanoseconds. Not thread-safe. */
final class Stats {
    private final String name;
    private final List<Long> nanos = new ArrayList<>();

    Stats(String name) {
        this.name = name;
    }

    String name() {
        return name;
    }

    void add(long sampleNanos) {
        nanos.add(sampleNanos);
    }

    int count() {
        return nanos.size();
    }

    /** The nearest-rank percentile {@code p} (0 < p <= 100), in milliseconds; NaN when empty. */
    double percentileMillis(double p) {
        if (nanos.isEmpty()) {
            return Double.NaN;
        }
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1)) / 1e6;
    }

    double medianMillis() {
        return percentileMillis(50);
    }

    double minMillis() {
        return nanos.stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
    }

    double maxMillis() {
        return nanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
    }

    static String header(String first) {
        return header(first, 34);
    }

    /** The column titles, the first column {@code width} characters wide. */
    static String header(String first, int width) {
        return String.format(
                Locale.ROOT,
                "%-" + width + "s %5s %9s %9s %9s %9s %9s",
                first,
                "n",
                "median",
                "p95",
                "p99",
                "min",
                "max");
    }

    String row() {
        return row(34);
    }

    /** The row, its name column {@code width} characters wide. */
    String row(int width) {
        return String.format(
                Locale.ROOT,
                "%-" + width + "s %5d %9.1f %9.1f %9.1f %9.1f %9.1f",
                name,
                count(),
                medianMillis(),
                percentileMillis(95),
                percentileMillis(99),
                minMillis(),
                maxMillis());
    }

    /** The JDK, the CPUs and the load, for the first line of a run. */
    static String machine() {
        return String.format(
                Locale.ROOT,
                "%s, %d CPUs; load %s",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                load());
    }

    /** The machine's load when a run started or ended, for the record. */
    static String load() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
                    .strip();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
