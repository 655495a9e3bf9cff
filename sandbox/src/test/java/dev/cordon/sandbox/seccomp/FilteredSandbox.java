package dev.cordon.sandbox.seccomp;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a sandbox with exactly the argument list {@code BubblewrapBackend} builds, plus the seccomp
 * filter handed over the way the backend is meant to: bwrap reads the program from a file descriptor
 * ({@code --seccomp 3}), and since {@link ProcessBuilder} passes no descriptors beyond 0-2, a POSIX
 * shell opens the filter file on fd 3 and execs bwrap.
 */
final class FilteredSandbox {
    /** {@code sh -c WRAPPER cordon-seccomp FILTER_FILE bwrap --seccomp 3 ...}: fd 3 is the filter. */
    static final String WRAPPER = "f=$1; shift; exec \"$@\" 3<\"$f\"";

    private FilteredSandbox() {}

    /** The backend's own argument list for {@code spec} (package-private there; called reflectively). */
    static List<String> bwrapArguments(SandboxSpec spec) throws ReflectiveOperationException {
        SandboxBackend backend = Bubblewrap.backend();
        Method arguments = backend.getClass().getDeclaredMethod("arguments", SandboxSpec.class);
        arguments.setAccessible(true);
        @SuppressWarnings("unchecked")
        List<String> args = (List<String>) arguments.invoke(backend, spec);
        return args;
    }

    /** {@code bwrapArgs} (bwrap first) started through the wrapper with {@code filterFile} on fd 3. */
    static List<String> withFilter(Path filterFile, List<String> bwrapArgs) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER, "cordon-seccomp", filterFile.toString()));
        argv.add(bwrapArgs.getFirst());
        argv.addAll(List.of("--seccomp", "3"));
        argv.addAll(bwrapArgs.subList(1, bwrapArgs.size()));
        return argv;
    }

    /** Runs {@code argv} as the backend does (empty environment, stdin from /dev/null) and returns its exit code. */
    static int run(List<String> argv, Path log) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().clear();
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Process process = builder.start();
        // A guard against a hung sandbox, not a timing assertion.
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("sandbox did not finish: " + Files.readString(log));
        }
        return process.exitValue();
    }
}
