package dev.cordon.sandbox.disk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * This process's mounts ({@code /proc/self/mountinfo}) and the kernel's loop devices ({@code
 * /sys/block/loop*}). Read fresh on every call: mounts change under us (another daemon, an operator).
 */
final class MountTable {
    private MountTable() {}

    /**
     * One line of mountinfo.
     *
     * @param device {@code major:minor} of the mounted filesystem
     * @param mountPoint where it is mounted, unescaped
     * @param type the filesystem type ({@code ext4})
     * @param source what was mounted ({@code /dev/loop3}), unescaped
     * @param options the per-mount options ({@code rw,nosuid,nodev,relatime})
     */
    record Entry(String device, String mountPoint, String type, String source, List<String> options) {}

    /** This process's mounts, in mount order (a later entry at the same point is on top). */
    static List<Entry> read() {
        return parse(readFile(Path.of("/proc/self/mountinfo")).orElse(""));
    }

    /** The mount on top at {@code mountPoint} (a real path), if any. */
    static Optional<Entry> topAt(Path mountPoint) {
        String wanted = mountPoint.toString();
        Entry top = null;
        for (Entry entry : read()) {
            if (entry.mountPoint().equals(wanted)) {
                top = entry;
            }
        }
        return Optional.ofNullable(top);
    }

    /** How many mounts of this process sit at {@code mountPoint}. */
    static long countAt(Path mountPoint) {
        String wanted = mountPoint.toString();
        return read().stream().filter(e -> e.mountPoint().equals(wanted)).count();
    }

    /**
     * Parses mountinfo: {@code id parent major:minor root mount-point options [optional...] - type
     * source super-options}. Malformed lines are skipped.
     */
    static List<Entry> parse(String text) {
        List<Entry> entries = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String[] fields = line.trim().split(" ", -1);
            int dash = List.of(fields).indexOf("-");
            if (fields.length < 6 || dash < 6 || dash + 2 >= fields.length) {
                continue;
            }
            entries.add(new Entry(
                    fields[2],
                    unescape(fields[4]),
                    fields[dash + 1],
                    unescape(fields[dash + 2]),
                    List.of(fields[5].split(",", -1))));
        }
        return entries;
    }

    /**
     * The file behind loop device {@code device} ({@code /dev/loop3}), from sysfs; empty if it is
     * not a bound loop device. A file deleted while bound reads as {@code "<path> (deleted)"}.
     */
    static Optional<String> backingFile(String device) {
        if (!device.startsWith("/dev/loop")) {
            return Optional.empty();
        }
        String name = device.substring("/dev/".length());
        return readFile(Path.of("/sys/block", name, "loop", "backing_file")).map(String::strip);
    }

    /** The loop devices ({@code /dev/loopN}) currently bound to {@code file} (a real path). */
    static List<String> loopDevicesOf(Path file) {
        List<String> devices = new ArrayList<>();
        try (DirectoryStream<Path> blocks = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path block : blocks) {
                Optional<String> backing = readFile(block.resolve("loop/backing_file"));
                if (backing.map(String::strip).filter(file.toString()::equals).isPresent()) {
                    devices.add("/dev/" + block.getFileName());
                }
            }
        } catch (IOException e) {
            // No /sys/block: no loop device can be bound to anything we could see.
        }
        return devices;
    }

    // mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && isOctal(field.substring(i + 1, i + 4))) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String three) {
        return three.chars().allMatch(c -> c >= '0' && c <= '7');
    }

    // Not Files.readString: sysfs and procfs files report a size of 4096 or 0; a stream reads to EOF.
    static Optional<String> readFile(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
