package dev.cordon.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a command touches outside its own objects, so that tests run the real commands
 * in-process with their own streams, environment and daemon starter.
 *
 * @param terminal whether stdin and stdout are a terminal: {@code chat} then uses JLine (line
 *     editing, history, replies printed above the prompt); otherwise it reads plain lines
 * @param starter how a missing daemon is started
 * @param startTimeout how long to wait for a started daemon's socket
 * @param stopTimeout how long to wait for a stopping daemon to go away
 */
record Context(
        InputStream in,
        PrintStream out,
        PrintStream err,
        Map<String, String> env,
        Path userHome,
        boolean terminal,
        DaemonStarter starter,
        Duration startTimeout,
        Duration stopTimeout) {

    Context {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        env = Map.copyOf(env);
        Objects.requireNonNull(userHome, "userHome");
        Objects.requireNonNull(starter, "starter");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(stopTimeout, "stopTimeout");
    }
}
