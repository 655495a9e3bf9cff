package dev.cordon.bench;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Command-line options of the bench programs: {@code --name value} pairs and switches. */
final class Options {
    private Options() {}

    static Map<String, String> parse(String[] args, List<String> switches) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (switches.contains(args[i])) {
                options.put(args[i], "true");
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                options.put(args[i], args[++i]);
            } else {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
        }
        return options;
    }

    /** The value of option {@code name} as a number, or {@code otherwise} when it was not given. */
    static int integer(Map<String, String> options, String name, int otherwise) {
        String value = options.get(name);
        if (value == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a whole number, not '" + value + "'", e);
        }
    }

    /**
     * The runner's jars: {@code --runner-lib}, {@code CORDON_RUNNER_LIB}, or {@code runner/target/lib}
     * of the source tree holding the working directory or this bench's jar.
     */
    static Path runnerLib(Map<String, String> options) throws URISyntaxException {
        String given = options.getOrDefault("--runner-lib", System.getenv("CORDON_RUNNER_LIB"));
        if (given != null && !given.isBlank()) {
            return Path.of(given).toAbsolutePath().normalize();
        }
        Path jar = Path.of(Options.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        for (Path start : List.of(Path.of("").toAbsolutePath(), jar)) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve("runner/target/lib");
                if (Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        }
        throw new IllegalStateException("cannot find runner/target/lib; pass --runner-lib DIR");
    }
}
