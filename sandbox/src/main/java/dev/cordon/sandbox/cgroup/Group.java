package dev.cordon.sandbox.cgroup;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/** One sandbox's groups: a directory per hierarchy, all with the same sandbox id. */
final class Group implements Cgroup {
    /** How long {@link #close()} keeps killing and removing before it gives up. */
    static final Duration DEADLINE = Duration.ofSeconds(5);

    record Node(Hierarchy hierarchy, Path dir) {}

    private final String sandboxId;
    private final List<Node> nodes;
    private final Kernel kernel;
    private final Clock clock;
    private final AtomicBoolean closed = new AtomicBoolean();

    Group(String sandboxId, List<Node> nodes, Kernel kernel, Clock clock) {
        this.sandboxId = sandboxId;
        this.nodes = List.copyOf(nodes);
        this.kernel = kernel;
        this.clock = clock;
    }

    @Override
    public String sandboxId() {
        return sandboxId;
    }

    @Override
    public List<Path> procsFiles() {
        return nodes.stream().map(n -> n.dir().resolve("cgroup.procs")).toList();
    }

    List<Node> nodes() {
        return nodes;
    }

    @Override
    public ResourceUsage usage() {
        try {
            Node memory = node("memory");
            Node pids = node("pids");
            long memoryNow = -1;
            long peak = -1;
            if (memory != null) {
                memoryNow = number(memory, memory.hierarchy().v2() ? "memory.current" : "memory.usage_in_bytes");
                peak = number(memory, memory.hierarchy().v2() ? "memory.peak" : "memory.max_usage_in_bytes");
            }
            return new ResourceUsage(
                    memoryNow,
                    peak,
                    pids == null ? -1 : number(pids, "pids.current"),
                    cpuNanos(),
                    pids == null ? -1 : limitHits(pids));
        } catch (IOException e) {
            throw new SandboxException(
                    "cannot read the cgroup usage of sandbox " + sandboxId + ": " + e.getMessage(), e);
        }
    }

    /** The "max" count of {@code pids.events}: forks refused at the limit (-1 where the kernel lacks the file). */
    private static long limitHits(Node pids) throws IOException {
        Path events = pids.dir().resolve("pids.events");
        return Files.exists(events) ? ProcFiles.keyed(Files.readString(events), "max") : -1;
    }

    private long cpuNanos() throws IOException {
        Node cpuacct = node("cpuacct");
        if (cpuacct != null) {
            return number(cpuacct, "cpuacct.usage");
        }
        // Every v2 group has cpu.stat's usage, whether or not the cpu controller is enabled.
        for (Node n : nodes) {
            if (n.hierarchy().v2()) {
                long micros = ProcFiles.keyed(Files.readString(n.dir().resolve("cpu.stat")), "usage_usec");
                return micros < 0 ? -1 : micros * 1000;
            }
        }
        return -1;
    }

    @Override
    public boolean oomKilled() {
        Node memory = node("memory");
        if (memory == null) {
            return false;
        }
        try {
            if (memory.hierarchy().v2()) {
                return ProcFiles.keyed(Files.readString(memory.dir().resolve("memory.events")), "oom_kill") > 0;
            }
            long kills = ProcFiles.keyed(Files.readString(memory.dir().resolve("memory.oom_control")), "oom_kill");
            if (kills >= 0) {
                return kills > 0;
            }
            // Before Linux 4.13 v1 does not count kills; a hit limit is the best evidence left.
            return number(memory, "memory.failcnt") > 0
                    || (Files.exists(memory.dir().resolve("memory.memsw.failcnt"))
                            && number(memory, "memory.memsw.failcnt") > 0);
        } catch (IOException e) {
            throw new SandboxException("cannot read the OOM state of sandbox " + sandboxId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            empty(nodes, kernel, clock);
        }
    }

    /**
     * Kills everything in {@code nodes} and removes them, within {@link #DEADLINE}.
     *
     * @throws SandboxException if a process or a group outlives the deadline
     */
    static void empty(List<Node> nodes, Kernel kernel, Clock clock) {
        Instant deadline = clock.instant().plus(DEADLINE);
        for (Node node : nodes) {
            // v2 (Linux 5.14+) kills a whole group atomically, so a forking process cannot race the loop below.
            Path kill = node.dir().resolve("cgroup.kill");
            if (node.hierarchy().v2() && Files.exists(kill)) {
                try {
                    Host.write(kill, "1");
                } catch (IOException e) {
                    // The loop below kills one pid at a time instead.
                }
            }
        }
        Set<Long> left = pids(nodes);
        while (!left.isEmpty()) {
            left.forEach(kernel::kill);
            if (clock.instant().isAfter(deadline)) {
                throw new SandboxException("processes " + left + " survived SIGKILL in the cgroups of " + dirs(nodes)
                        + " for " + DEADLINE.toSeconds() + " s; the groups stay until they exit");
            }
            pause();
            left = pids(nodes);
        }
        for (Node node : nodes) {
            while (true) {
                try {
                    kernel.rmdir(node.dir());
                    break;
                } catch (NoSuchFileException e) {
                    break;
                } catch (IOException e) {
                    // EBUSY until the kernel has finished tearing down the processes it just killed.
                    if (clock.instant().isAfter(deadline)) {
                        throw new SandboxException("cannot remove cgroup " + node.dir() + ": " + e.getMessage(), e);
                    }
                    pause();
                }
            }
        }
    }

    private static Set<Long> pids(List<Node> nodes) {
        Set<Long> pids = new LinkedHashSet<>();
        for (Node node : nodes) {
            try {
                pids.addAll(ProcFiles.parsePids(Files.readString(node.dir().resolve("cgroup.procs"))));
            } catch (NoSuchFileException e) {
                // Already removed.
            } catch (IOException e) {
                throw new SandboxException("cannot list the processes in " + node.dir() + ": " + e.getMessage(), e);
            }
        }
        return pids;
    }

    private static List<Path> dirs(List<Node> nodes) {
        List<Path> dirs = new ArrayList<>();
        nodes.forEach(n -> dirs.add(n.dir()));
        return dirs;
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while emptying a cgroup", e);
        }
    }

    private Node node(String controller) {
        for (Node n : nodes) {
            if (n.hierarchy().has(controller)) {
                return n;
            }
        }
        return null;
    }

    private static long number(Node node, String file) throws IOException {
        Path path = node.dir().resolve(file);
        if (!Files.exists(path)) {
            return -1;
        }
        return Long.parseLong(Files.readString(path).trim());
    }
}
