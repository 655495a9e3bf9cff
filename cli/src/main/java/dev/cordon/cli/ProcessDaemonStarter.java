package dev.cordon.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts {@code dev.cordon.server.Main daemon} as a child process that outlives this command.
 *
 * <p>The child runs under {@code setsid}: a new session has no controlling terminal, so the Ctrl-C
 * that the user types into {@code cordon chat} (sent by the terminal to its whole foreground process
 * group) never reaches the daemon. It inherits this command's environment, which is how a freshly
 * exported {@code ANTHROPIC_API_KEY} reaches it.
 */
final class ProcessDaemonStarter implements DaemonStarter {
    private final Installation installation;

    ProcessDaemonStarter(Installation installation) {
        this.installation = installation;
    }

    @Override
    public ProcessHandle start(Path home, Path log) throws IOException {
        installation.requireServerBuilt();
        List<String> command = new ArrayList<>();
        onPath("setsid").ifPresent(setsid -> command.add(setsid.toString()));
        command.addAll(List.of(
                installation.java().toString(),
                "-Xshare:auto",
                "-XX:+UseSerialGC",
                // sqlite-jdbc loads its native library; without this JDK 25 warns on every start.
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                installation.serverClasspath(),
                "dev.cordon.server.Main",
                "daemon",
                "--home",
                home.toString()));
        Process process = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
        return process.toHandle();
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator, -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
