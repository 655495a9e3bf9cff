package dev.cordon.bench;

import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real daemon in a process of its own ({@code cordon daemon}, the bench's class path), so that
 * {@code /proc} shows its CPU time and memory apart from the bench's clients and fake model. Its
 * log is {@code HOME/daemon.log}.
 */
final class DaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path home;

    private DaemonProcess(Process process, Path home) {
        this.process = process;
        this.home = home;
    }

    /** Starts the daemon on {@code home} with {@code model} as its provider; returns once it answers. */
    static DaemonProcess start(Path home, FakeModelServer model, Path runnerLib)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.cordon.server.Main",
                "daemon",
                "--home",
                home.toString()));
        pb.environment().putAll(BenchHomes.env(model));
        pb.environment().put("CORDON_RUNNER_LIB", runnerLib.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(home.toFile(), "daemon.log")));
        DaemonProcess daemon = new DaemonProcess(pb.start(), home);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!daemon.process.isAlive()) {
                throw new IllegalStateException(
                        "the daemon exited with " + daemon.process.exitValue() + "; see " + home.resolve("daemon.log"));
            }
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.status();
                return daemon;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        daemon.process.destroyForcibly();
        throw new IllegalStateException("the daemon did not answer within 60 s; see " + home.resolve("daemon.log"));
    }

    long pid() {
        return process.pid();
    }

    Path controlSocket() {
        return home.resolve("run/control.sock");
    }

    /** Stops the daemon as {@code cordon stop} does; kills it if it has not exited within 40 s. */
    @Override
    public void close() throws IOException, InterruptedException {
        try (ControlClient client = new ControlClient(controlSocket())) {
            client.send(new ControlRequest.Stop());
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
