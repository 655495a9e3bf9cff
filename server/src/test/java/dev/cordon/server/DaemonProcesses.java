package dev.cordon.server;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeModelServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** A real daemon in a process of its own ({@code cordon daemon} on the test's class path), for tests that SIGKILL it. */
final class DaemonProcesses {
    private DaemonProcesses() {}

    /** Starts a daemon on {@code home} with {@code model} as its provider; its output goes to {@code home/daemon.log}. */
    static Process start(Path home, FakeModelServer model) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.cordon.server.Main",
                "daemon",
                "--home",
                home.toString());
        pb.environment().put("ANTHROPIC_API_KEY", "sk-ant-test");
        pb.environment().put("ANTHROPIC_BASE_URL", model.baseUrl().toString());
        pb.environment().put("CORDON_RUNNER_LIB", EndToEndTest.RUNNER_LIB.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(home.toFile(), "daemon.log")));
        return pb.start();
    }

    /** Whether the daemon of {@code home} answers a status request on its control socket now. */
    static boolean up(Path home) {
        try (ControlClient client = new ControlClient(new Home(home).controlSocket())) {
            client.send(new ControlRequest.Status());
            client.await(ControlEvent.StatusReport.class, e -> true, Duration.ofSeconds(5));
            return true;
        } catch (Exception | AssertionError e) {
            return false;
        }
    }
}
