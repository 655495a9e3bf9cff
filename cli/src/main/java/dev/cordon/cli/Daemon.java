package dev.cordon.cli;

import dev.cordon.cli.ControlConnection.Closed;
import dev.cordon.cli.ControlConnection.Incoming;
import dev.cordon.cli.ControlConnection.Received;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.StatusReport;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The daemon of one Cordon home, seen from a command: is it running, start it, stop it.
 *
 * <p>Not thread-safe; a command uses it from its main thread. Every failure that the user must act
 * on is a {@link CliException} with {@link Exit#UNREACHABLE} and a message saying where to look.
 */
final class Daemon {
    /** The variables that give the daemon a model; see {@link #ensureRunning()}. */
    static final List<String> MODEL_VARIABLES =
            List.of("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL");

    /** Linux limits a Unix socket path to 107 bytes (sun_path is 108 with the terminating NUL). */
    private static final int MAX_SOCKET_PATH = 107;

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final int LOG_TAIL_LINES = 20;

    private final Context ctx;
    private final Path home;

    Daemon(Context ctx, Path home) {
        this.ctx = ctx;
        this.home = home;
    }

    Path home() {
        return home;
    }

    Path socket() {
        return home.resolve("run").resolve("control.sock");
    }

    Path log() {
        return home.resolve("logs").resolve("daemon.out");
    }

    /** Connects to the running daemon, or explains why that is impossible. */
    ControlConnection connect() {
        checkSocketPathLength();
        try {
            return ControlConnection.open(socket());
        } catch (IOException e) {
            throw new CliException(
                    Exit.UNREACHABLE,
                    "Cannot reach the Cordon daemon at " + socket() + " (" + e.getMessage() + ").\n"
                            + "Is it running? ./cordon status says; its log is " + log() + ".",
                    e);
        }
    }

    /**
     * Asks the running daemon for its full status ({@code cordon status}).
     *
     * @return empty if no daemon listens on the socket
     * @throws CliException if one listens but does not answer, or answers with a failure
     */
    Optional<StatusReport> status() {
        return status(false);
    }

    /**
     * As {@link #status()}; {@code brief}: only whether it runs and its model, without the figures that
     * cost the daemon a listing (a vault of 100,000 files added 0.3 s to every command).
     */
    private Optional<StatusReport> status(boolean brief) {
        checkSocketPathLength();
        if (!Files.exists(socket())) {
            return Optional.empty();
        }
        ControlConnection connection;
        try {
            connection = ControlConnection.open(socket());
        } catch (IOException e) {
            return Optional.empty();
        }
        try (connection) {
            connection.send(new ControlRequest.Status(brief));
            return Optional.of(expect(connection, StatusReport.class, "its status"));
        }
    }

    /**
     * Makes sure a daemon runs and returns its status. Starts one if none answers. If the running
     * one has no model but this shell now sets one of {@link #MODEL_VARIABLES}, restarts it: a
     * daemon reads its environment once, at start, and the usual fix for "no model" is to export a
     * key and run the command again.
     */
    StatusReport ensureRunning() {
        Optional<StatusReport> running = status(true);
        if (running.isEmpty()) {
            return start();
        }
        StatusReport status = running.get();
        List<String> modelVariables = MODEL_VARIABLES.stream()
                .filter(name -> !ctx.env().getOrDefault(name, "").isBlank())
                .toList();
        if (status.modelProblem() != null && !modelVariables.isEmpty()) {
            ctx.err()
                    .println("The running daemon has no model, but this shell sets "
                            + String.join(" and ", modelVariables) + ": restarting it to use that.");
            stop(status);
            return start();
        }
        return status;
    }

    /**
     * Asks the daemon to stop and waits until it is gone.
     *
     * @return false if none was running
     */
    boolean stop() {
        Optional<StatusReport> running = status();
        running.ifPresent(this::stop);
        return running.isPresent();
    }

    private void stop(StatusReport status) {
        try (ControlConnection connection = connect()) {
            connection.send(new ControlRequest.Stop());
            // Stopping, or the connection closing right away: both mean the daemon got the request.
            Incoming answer = await(connection, REQUEST_TIMEOUT);
            if (answer instanceof Received(ControlEvent.Failure failure)) {
                throw new CliException(Exit.UNREACHABLE, "The daemon refused to stop: " + failure.message());
            }
        }
        long deadline = System.nanoTime() + ctx.stopTimeout().toNanos();
        Optional<ProcessHandle> process = ProcessHandle.of(status.pid());
        while (acceptsConnections() || process.map(ProcessHandle::isAlive).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new CliException(
                        Exit.UNREACHABLE,
                        "The daemon (pid " + status.pid() + ") did not stop within "
                                + ctx.stopTimeout().toSeconds() + " s; see " + log() + ".");
            }
            sleep(POLL);
        }
    }

    private StatusReport start() {
        checkSocketPathLength();
        ProcessHandle process;
        try {
            createPrivateDirectory(home);
            Files.createDirectories(log().getParent());
            // Connecting failed, so a socket file left here belongs to a daemon that died without
            // cleaning up; a new daemon cannot bind while it exists.
            Files.deleteIfExists(socket());
            ctx.err().println("Starting the Cordon daemon (log: " + log() + ")…");
            process = ctx.starter().start(home, log());
        } catch (IOException e) {
            throw new CliException(Exit.UNREACHABLE, "Could not start the Cordon daemon: " + e.getMessage() + ".", e);
        }
        long deadline = System.nanoTime() + ctx.startTimeout().toNanos();
        while (true) {
            Optional<StatusReport> status = status();
            if (status.isPresent()) {
                return status.get();
            }
            if (!process.isAlive()) {
                // Another command may have started a daemon at the same moment and won the socket.
                status = status();
                if (status.isPresent()) {
                    return status.get();
                }
                throw new CliException(
                        Exit.UNREACHABLE,
                        "The Cordon daemon exited while starting. The last lines of " + log() + ":\n" + logTail());
            }
            if (System.nanoTime() > deadline) {
                throw new CliException(
                        Exit.UNREACHABLE,
                        "The Cordon daemon (pid " + process.pid() + ") did not open " + socket() + " within "
                                + ctx.startTimeout().toSeconds() + " s. The last lines of " + log() + ":\n"
                                + logTail());
            }
            sleep(POLL);
        }
    }

    /** Reads events until one of {@code type} arrives; a failure or the end is an error. */
    <T extends ControlEvent> T expect(ControlConnection connection, Class<T> type, String what) {
        long deadline = System.nanoTime() + REQUEST_TIMEOUT.toNanos();
        while (true) {
            Incoming incoming = await(connection, Duration.ofNanos(deadline - System.nanoTime()));
            switch (incoming) {
                case null ->
                    throw new CliException(
                            Exit.UNREACHABLE,
                            "The Cordon daemon did not send " + what + " within " + REQUEST_TIMEOUT.toSeconds()
                                    + " s; see " + log() + ".");
                case Closed closed ->
                    throw new CliException(
                            Exit.UNREACHABLE,
                            "The Cordon daemon did not send " + what + ": " + closed.reason() + ". See " + log() + ".");
                case Received(ControlEvent.Failure failure) ->
                    throw new CliException(Exit.UNREACHABLE, failure.message());
                case Received(ControlEvent event) -> {
                    if (type.isInstance(event)) {
                        return type.cast(event);
                    }
                }
            }
        }
    }

    private boolean acceptsConnections() {
        try (ControlConnection ignored = ControlConnection.open(socket())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Incoming await(ControlConnection connection, Duration timeout) {
        try {
            return connection.next(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.UNREACHABLE, "Interrupted while waiting for the daemon.", e);
        }
    }

    private String logTail() {
        try (RandomAccessFile file = new RandomAccessFile(log().toFile(), "r")) {
            long from = Math.max(0, file.length() - 64 * 1024);
            byte[] bytes = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(bytes);
            List<String> lines =
                    new String(bytes, StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(cannot read it: " + e.getMessage() + ")";
        }
    }

    private void checkSocketPathLength() {
        if (socket().toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new CliException(
                    Exit.UNREACHABLE,
                    "The Cordon home " + home + " is too deep: its control socket path would exceed the"
                            + " system's limit of " + MAX_SOCKET_PATH + " bytes. Use a shorter --home.");
        }
    }

    // The home holds conversations, credentials and the owner's control socket: owner only.
    private static void createPrivateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Path parent = dir.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(
                        dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // Created by a concurrent command or the daemon: fine.
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.UNREACHABLE, "Interrupted while waiting for the daemon.", e);
        }
    }
}
