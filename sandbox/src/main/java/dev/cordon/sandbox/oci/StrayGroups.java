package dev.cordon.sandbox.oci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes the empty groups an OCI runtime left behind. Given {@code cordon/<id>}, a runtime makes
 * that group in every mounted hierarchy (blkio, freezer, devices, the named systemd one, ...), not
 * only in those Cordon limits with, and removes them when it deletes the container; a runtime that
 * was killed first (a crashed daemon) leaves them, empty, one per hierarchy.
 */
final class StrayGroups {
    private StrayGroups() {}

    /**
     * Removes {@code cordon/<sandboxId>} and everything below it that holds no process, in every
     * cgroup hierarchy mounted, below this process's own group there. Best effort; never throws: a
     * group that still holds a process stays.
     */
    static void remove(String sandboxId) {
        for (Path dir : candidates(sandboxId)) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> tree = Files.walk(dir)) {
                for (Path group : tree.filter(Files::isDirectory)
                        .sorted(Comparator.reverseOrder())
                        .toList()) {
                    try {
                        Files.delete(group);
                    } catch (IOException e) {
                        // busy (a process is still in it) or already gone
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // the tree went away while it was read
            }
        }
    }

    /** {@code <mount>/<own group>/cordon/<id>} for each cgroup mount, and {@code <mount>/cordon/<id>}. */
    private static List<Path> candidates(String sandboxId) {
        List<Path> dirs = new ArrayList<>();
        try {
            List<String> self = Files.readAllLines(Path.of("/proc/self/cgroup"));
            for (String mount : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = mount.split(" ");
                if (f.length < 4 || !(f[2].equals("cgroup") || f[2].equals("cgroup2"))) {
                    continue;
                }
                Set<String> options = new HashSet<>(Arrays.asList(f[3].split(",")));
                for (String line : self) {
                    String[] parts = line.split(":", 3);
                    if (parts.length < 3) {
                        continue;
                    }
                    boolean matches = f[2].equals("cgroup2")
                            ? parts[1].isEmpty()
                            : !parts[1].isEmpty() && options.containsAll(Arrays.asList(parts[1].split(",")));
                    if (matches) {
                        dirs.add(Path.of(f[1], parts[2].substring(1), "cordon", sandboxId));
                        dirs.add(Path.of(f[1], "cordon", sandboxId));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // nothing to remove that can be found
        }
        return dirs;
    }
}
