package dev.cordon.cli;

import java.io.Console;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code cordon} command. Started by the {@code ./cordon} launcher, which passes the JDK it
 * found and the repository root as {@code -Dcordon.java} and {@code -Dcordon.root}.
 */
public final class Main {
    private Main() {}

    // JDK 25 returns null again when stdin or stdout is redirected (measured), while JDK 22-24
    // returned a Console whose isTerminal() is false: both checks are needed.
    @SuppressWarnings("SystemConsoleNull")
    public static void main(String[] args) {
        Console console = System.console();
        Context context = new Context(
                System.in,
                System.out,
                System.err,
                System.getenv(),
                Path.of(System.getProperty("user.home")),
                console != null && console.isTerminal(),
                new ProcessDaemonStarter(Installation.detect()),
                Duration.ofSeconds(60),
                Duration.ofSeconds(30));
        System.exit(CordonCommand.run(args, context));
    }
}
