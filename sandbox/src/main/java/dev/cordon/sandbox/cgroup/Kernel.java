package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The few things cgroupfs does that ordinary files do not: {@code mkdir} fills a group with its
 * control files, {@code rmdir} removes a group that still lists them, and the pids in {@code
 * cgroup.procs} are live processes. Tests fake this on a directory tree; everything else goes
 * through plain file reads and writes.
 */
interface Kernel {
    /** This process's pid, as the cgroup files list it. */
    long selfPid();

    /** Whether this process may write into {@code dir} (create groups, write control files). */
    boolean canWrite(Path dir);

    /** Creates a group; fails if it exists. */
    void mkdir(Path dir) throws IOException;

    /** Removes an empty group; fails with EBUSY while a process is still in it. */
    void rmdir(Path dir) throws IOException;

    /** Sends SIGKILL to {@code pid}, if it still exists. */
    void kill(long pid);

    /**
     * Whether process {@code pid} may be the one that made a group at {@code made}: it exists and
     * did not start after then (a pid reused by a later process is not the owner). When its start
     * time cannot be read, it may be.
     */
    boolean mayOwn(long pid, Instant made);

    static Kernel real() {
        return new Real();
    }

    /** Reads only: for hosts detected from a sample tree, where a kill would hit an unrelated pid. */
    static Kernel inspectOnly() {
        return new InspectOnly();
    }

    final class Real implements Kernel {
        @Override
        public long selfPid() {
            return ProcessHandle.current().pid();
        }

        @Override
        public boolean canWrite(Path dir) {
            return Files.isWritable(dir);
        }

        @Override
        public void mkdir(Path dir) throws IOException {
            Files.createDirectory(dir);
        }

        @Override
        public void rmdir(Path dir) throws IOException {
            // On cgroupfs a group's control files vanish with it: rmdir(2) is the whole removal.
            Files.delete(dir);
        }

        @Override
        public void kill(long pid) {
            if (pid != selfPid()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }

        @Override
        public boolean mayOwn(long pid, Instant made) {
            // A process's start time is counted in clock ticks from boot, a group's in file time: a
            // second of slack, towards keeping a group.
            return ProcessHandle.of(pid)
                    .map(h -> h.info()
                            .startInstant()
                            .map(start -> !start.isAfter(made.plusSeconds(1)))
                            .orElse(true))
                    .orElse(false);
        }
    }

    final class InspectOnly implements Kernel {
        @Override
        public long selfPid() {
            return ProcessHandle.current().pid();
        }

        @Override
        public boolean canWrite(Path dir) {
            return Files.isWritable(dir);
        }

        @Override
        public void mkdir(Path dir) {
            throw refused();
        }

        @Override
        public void rmdir(Path dir) {
            throw refused();
        }

        @Override
        public void kill(long pid) {
            throw refused();
        }

        @Override
        public boolean mayOwn(long pid, Instant made) {
            return true;
        }

        private static SandboxException refused() {
            return new SandboxException("this cgroup host was detected from a sample tree; it cannot create groups");
        }
    }
}
