package dev.cordon.sandbox.mounts;

import java.util.List;
import java.util.Optional;

/** Where inside a sandbox an extra mount may go. Targets are compared as strings of components. */
final class Targets {
    private Targets() {}

    /**
     * Paths the sandbox itself is built from (see BubblewrapBackend and the daemon's own mounts): the
     * system, the generated {@code /etc}, the private {@code /proc}, {@code /dev} and {@code /tmp},
     * the agent's workspace, the host channel socket and the runner. A mount on one of them, inside
     * one, or on a parent of one would hide what the runner and the security walls rely on (a
     * writable folder over {@code /run/cordon} could replace the host socket), or make bubblewrap
     * create mount points inside a host folder.
     */
    static final List<String> RESERVED = List.of(
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/etc",
            "/proc",
            "/sys",
            "/dev",
            "/tmp",
            "/workspace",
            "/run/cordon",
            "/opt/cordon");

    /** Why {@code target} is not a usable mount point, or empty when it is. */
    static Optional<String> problem(String target) {
        if (!target.startsWith("/")) {
            return Optional.of("target is not an absolute path");
        }
        if (target.equals("/")) {
            return Optional.of("target is /, which the sandbox needs");
        }
        if (target.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            return Optional.of("target contains a control character");
        }
        for (String part : target.substring(1).split("/", -1)) {
            if (part.equals("..")) {
                return Optional.of("target contains '..'");
            }
            if (part.isEmpty() || part.equals(".")) {
                return Optional.of("target is not in normal form (no '.', '//' or trailing '/')");
            }
        }
        for (String reserved : RESERVED) {
            if (target.equals(reserved)) {
                return Optional.of("target is " + reserved + ", which the sandbox needs");
            }
            if (inside(target, reserved)) {
                return Optional.of("target is inside " + reserved + ", which the sandbox needs");
            }
            if (inside(reserved, target)) {
                return Optional.of("target would hide " + reserved + ", which the sandbox needs");
            }
        }
        return Optional.empty();
    }

    /** Whether two normal absolute targets are equal or one lies inside the other. */
    static boolean overlap(String a, String b) {
        return a.equals(b) || inside(a, b) || inside(b, a);
    }

    /** Whether {@code path} lies strictly inside {@code dir}, by components (/a/b2 is not inside /a/b). */
    static boolean inside(String path, String dir) {
        String prefix = dir.endsWith("/") ? dir : dir + "/";
        return path.startsWith(prefix) && path.length() > prefix.length();
    }
}
