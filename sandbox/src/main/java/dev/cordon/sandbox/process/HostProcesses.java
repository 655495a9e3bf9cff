package dev.cordon.sandbox.process;

import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.LoggerFactory;

/**
 * What every backend does with the host process that holds a sandbox: fork it from one long-lived
 * thread, and copy its output into the sandbox's log without letting it fill the disk.
 *
 * <p>Thread-safe: both methods may be called from any thread.
 */
public final class HostProcesses {
    /** Most a sandbox may write to its log; beyond it output is read and dropped (no disk fill). */
    public static final long LOG_LIMIT_BYTES = 8L * 1024 * 1024;

    /**
     * The thread every sandbox process is forked from. A parent-death signal (bwrap's {@code
     * --die-with-parent}, {@code setpriv --pdeathsig}) fires when the parent <em>thread</em> exits, not
     * the process: a sandbox forked from a virtual thread died (status 137) when its carrier thread
     * retired after 30 s idle. This platform thread lives as long as the JVM, the lifetime those
     * signals should bind to.
     */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("sandbox-spawner").factory());

    private HostProcesses() {}

    /**
     * Starts {@code builder} on the spawner thread. Blocks for the fork and exec.
     *
     * @throws IOException if the program cannot be started
     */
    public static Process spawn(ProcessBuilder builder) throws IOException {
        try {
            return SPAWNER.submit(builder::start).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new SandboxException("could not start " + builder.command().getFirst() + ": " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while starting a sandbox", e);
        }
    }

    /**
     * Copies the process's output into {@code log} (appending), up to {@link #LOG_LIMIT_BYTES}, on a
     * virtual thread; completes when the output ends. Output goes through a pipe rather than the log
     * file itself: handed the file, a sandbox could reopen it through {@code /proc/self/fd/1} and read
     * or rewrite what earlier sandboxes wrote there.
     */
    public static CompletableFuture<Void> copyToLog(Process process, Path log, String id) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name("log-" + id).start(() -> {
            try (InputStream in = process.getInputStream();
                    OutputStream out = Files.newOutputStream(
                            log, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[8192];
                long written = 0;
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (written < LOG_LIMIT_BYTES) {
                        int keep = (int) Math.min(n, LOG_LIMIT_BYTES - written);
                        out.write(buffer, 0, keep);
                        out.flush();
                        written += keep;
                        if (written >= LOG_LIMIT_BYTES) {
                            out.write(("\n[cordon: log limit of " + LOG_LIMIT_BYTES
                                            + " bytes reached; the rest is dropped]\n")
                                    .getBytes(StandardCharsets.UTF_8));
                            out.flush();
                        }
                    }
                }
            } catch (IOException e) {
                LoggerFactory.getLogger(HostProcesses.class)
                        .warn("log copy of sandbox {} stopped: {}", id, e.toString());
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /** Waits for {@code process} to exit, ignoring interrupts (re-asserted afterwards). */
    public static int awaitExit(Process process) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return process.waitFor();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
