package dev.cordon.cli;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where Cordon is installed: the JDK the launcher picked and the repository root, passed by
 * {@code ./cordon} as {@code -Dcordon.java} and {@code -Dcordon.root}. Run without the launcher
 * (from an IDE), the current JVM and the jar's location stand in.
 */
record Installation(Path java, Path root) {

    static Installation detect() {
        Path java = Optional.ofNullable(System.getProperty("cordon.java"))
                .map(Path::of)
                .or(() -> ProcessHandle.current().info().command().map(Path::of))
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java"));
        Path root = Optional.ofNullable(System.getProperty("cordon.root"))
                .map(Path::of)
                .orElseGet(Installation::rootFromJarLocation);
        return new Installation(java, root.toAbsolutePath().normalize());
    }

    /** The daemon's class path, in the form the {@code java} launcher expands itself. */
    String serverClasspath() {
        return serverLib() + File.separator + "*";
    }

    Path serverLib() {
        return root.resolve("server/target/lib");
    }

    /** Throws unless the server was built, with what to run instead. */
    void requireServerBuilt() {
        if (!Files.isDirectory(serverLib())) {
            throw new CliException(
                    Exit.UNREACHABLE,
                    "The Cordon server is not built (" + serverLib() + " is missing).\n"
                            + "Run ./cordon, which builds it, or ./mvnw -DskipTests package.");
        }
    }

    // cli/target/lib/cordon-cli-*.jar (or cli/target/classes) -> the repository root.
    private static Path rootFromJarLocation() {
        try {
            Path location = Path.of(Installation.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            for (Path p = location; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("cli"))) {
                    return p;
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of("").toAbsolutePath();
    }
}
