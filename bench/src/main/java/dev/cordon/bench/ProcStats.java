package dev.cordon.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code /proc} says about a process: CPU time, resident and proportional memory, and where a
 * JVM's memory is mapped. Linux only; a process that is gone reads as zero.
 */
final class ProcStats {
    /** {@code USER_HZ}: the unit of the CPU times in {@code /proc/PID/stat}, 100 on Linux x86 and arm. */
    private static final long TICK_NANOS = 10_000_000L;

    private ProcStats() {}

    /** User + system CPU time of the process (all its threads), in nanoseconds. */
    static long cpuNanos(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat.isEmpty()) {
            return 0;
        }
        // After the command name in parentheses: state is field 3, utime 14 and stime 15.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NANOS;
    }

    /** A {@code kB} field of {@code /proc/PID/status} ({@code VmRSS}, {@code VmHWM}, …), in kB. */
    static long statusKb(long pid, String field) {
        return kbField(read(Path.of("/proc", Long.toString(pid), "status")), field);
    }

    /** A field of {@code /proc/PID/smaps_rollup} ({@code Rss}, {@code Pss}, …), in kB. */
    static long rollupKb(long pid, String field) {
        return kbField(read(Path.of("/proc", Long.toString(pid), "smaps_rollup")), field);
    }

    /** A field of {@code /proc/meminfo} ({@code MemAvailable}, …), in kB. */
    static long meminfoKb(String field) {
        return kbField(read(Path.of("/proc/meminfo")), field);
    }

    /** The process's command name ({@code /proc/PID/comm}). */
    static String comm(long pid) {
        return read(Path.of("/proc", Long.toString(pid), "comm")).strip();
    }

    /**
     * The process's proportional set size by kind of mapping, in kB: the JVM's heap and other
     * anonymous memory cannot be told apart here, but files (the AOT cache, {@code libjvm.so}, the
     * JDK's {@code modules}, jars) and thread stacks can.
     */
    static Map<String, Long> pssByMapping(long pid) {
        Map<String, Long> kinds = new TreeMap<>();
        String kind = null;
        for (String line : read(Path.of("/proc", Long.toString(pid), "smaps")).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (Character.isDigit(line.charAt(0))
                    || (line.charAt(0) >= 'a' && line.charAt(0) <= 'f' && line.contains("-"))) {
                String[] parts = line.trim().split("\\s+", 6);
                kind = kindOf(parts.length == 6 ? parts[5] : "");
            } else if (line.startsWith("Pss:") && kind != null) {
                kinds.merge(kind, Long.parseLong(line.substring(4).trim().split("\\s+")[0]), Long::sum);
            }
        }
        return kinds;
    }

    private static String kindOf(String path) {
        if (path.isEmpty()) {
            return "anonymous (heap, metaspace, code cache, malloc)";
        }
        if (path.endsWith(".aot")) {
            return "AOT cache (file)";
        }
        if (path.endsWith("libjvm.so")) {
            return "libjvm.so";
        }
        if (path.endsWith("/lib/modules")) {
            return "JDK modules image";
        }
        if (path.endsWith(".jar")) {
            return "jars";
        }
        if (path.startsWith("[stack")) {
            return "main stack";
        }
        if (path.startsWith("[heap]")) {
            return "malloc arena [heap]";
        }
        if (path.contains(".so")) {
            return "other shared libraries";
        }
        return "other mappings";
    }

    /** The process and all its descendants' pids. */
    static List<Long> tree(long pid) {
        return ProcessHandle.of(pid)
                .map(p -> java.util.stream.Stream.concat(java.util.stream.Stream.of(p), p.descendants())
                        .map(ProcessHandle::pid)
                        .toList())
                .orElse(List.of());
    }

    private static long kbField(String text, String field) {
        for (String line : text.split("\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
