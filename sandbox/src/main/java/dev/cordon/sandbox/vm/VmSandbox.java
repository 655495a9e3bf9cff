package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.sandbox.process.HostProcesses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running microVM. Its exit status is the one the guest reported on its status port (the
 * command's), or QEMU's own when the guest reported none (killed, crashed, failed to boot). The
 * guest is untrusted, so its report is parsed as numbers only and used only for this sandbox.
 */
final class VmSandbox implements Sandbox {
    private static final Logger LOG = LoggerFactory.getLogger(VmSandbox.class);

    private final String id;
    /** What the daemon started: QEMU, or the wrapper it runs under ({@link VmHost#diesWithDaemon}). */
    private final Process process;
    /** The file name of QEMU's program, to tell QEMU from its wrapper. */
    private final Path qemuName;

    private final Path dir;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Map<String, Long> report = Map.of();
    private volatile ProcessHandle qemu;

    VmSandbox(String id, Process process, Path qemuName, CompletableFuture<Void> logged, Path dir) {
        this.id = id;
        this.process = process;
        this.qemuName = qemuName;
        this.dir = dir;
        // Not Process.onExit(): it completes through the common ForkJoinPool (see the bubblewrap backend).
        Thread.ofVirtual().name("exit-" + id).start(() -> {
            int status = HostProcesses.awaitExit(process);
            logged.completeOnTimeout(null, 2, TimeUnit.SECONDS).join();
            report = read(dir.resolve("status"));
            Long reported = report.get("exit");
            exit.complete(reported != null ? reported.intValue() : status);
        });
    }

    /** {@code key=number} pairs from the status file; anything else is ignored. */
    static Map<String, Long> read(Path file) {
        Map<String, Long> values = new HashMap<>();
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > 4096) {
                return values;
            }
            for (String word :
                    Files.readString(file, StandardCharsets.US_ASCII).trim().split("\\s+")) {
                int eq = word.indexOf('=');
                if (eq > 0 && word.substring(eq + 1).matches("[0-9]{1,18}")) {
                    values.put(word.substring(0, eq), Long.parseLong(word.substring(eq + 1)));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("no usable status from {}: {}", file, e.toString());
        }
        return values;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    /** What the guest's cgroup recorded; known once the command has ended. */
    @Override
    public boolean oomKilled() {
        return report.getOrDefault("oom_kill", 0L) > 0;
    }

    /**
     * While the VM runs, the host's view of it: QEMU's resident memory (guest memory the guest has
     * touched plus QEMU's own) and CPU time, read from {@code /proc}. After the command ended, what
     * the guest's cgroup recorded (peak memory, CPU time, refused forks).
     */
    @Override
    public Optional<ResourceUsage> usage() {
        Map<String, Long> r = report;
        if (r.isEmpty()) {
            return process.isAlive() ? qemu().flatMap(q -> hostView(q.pid())) : Optional.empty();
        }
        long cpu = r.getOrDefault("cpu_usec", -1L);
        return Optional.of(new ResourceUsage(
                -1, r.getOrDefault("memory_peak", -1L), -1, cpu < 0 ? -1 : cpu * 1000, r.getOrDefault("pids_max", 0L)));
    }

    private static Optional<ResourceUsage> hostView(long pid) {
        try {
            long rss = -1;
            long peak = -1;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("VmHWM:")) {
                    peak = kib(line);
                }
            }
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return Optional.of(new ResourceUsage(rss, peak, -1, ticks * 10_000_000L, 0));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** QEMU's process: the one started, or the wrapper's descendant running QEMU's program; empty until it runs. */
    private Optional<ProcessHandle> qemu() {
        ProcessHandle known = qemu;
        if (known != null) {
            return Optional.of(known);
        }
        Optional<ProcessHandle> found = Stream.concat(Stream.of(process.toHandle()), process.descendants())
                .filter(h -> h.info()
                        .command()
                        .map(c -> qemuName.equals(Path.of(c).getFileName()))
                        .orElse(false))
                .findFirst();
        found.ifPresent(h -> qemu = h);
        return found;
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }

    /**
     * Kills QEMU (the whole guest with it) and removes the VM's directory. Idempotent. Killing the
     * wrapper kills QEMU a moment later (its pid namespace goes), so this waits for QEMU too.
     */
    @Override
    public void close() {
        Optional<ProcessHandle> running = process.isAlive() ? qemu() : Optional.empty();
        if (closed.compareAndSet(false, true)) {
            process.destroyForcibly();
        }
        try {
            exit.get(10, TimeUnit.SECONDS);
            if (running.isPresent()) {
                running.get().onExit().get(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("microVM {} did not exit within 10 s of being killed", id);
        }
        VmBackend.deleteTree(dir);
    }
}
