package dev.cordon.bench;

import dev.cordon.testkit.FakeModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Daemon homes for the end-to-end benches: agents, {@code cordon.yaml}, the runner's AOT cache. */
final class BenchHomes {
    /** A {@code cordon.yaml} without the workspace quota (see {@link #roomFor}). */
    static final String NO_QUOTA = "sandbox:\n  disk_mb: 0\n";

    private BenchHomes() {}

    /** Deletes a bench's temporary {@code root}, unless {@code --keep} was given: then says where it is. */
    static void cleanUp(Path root, Map<String, String> options) {
        if (options.containsKey("--keep")) {
            System.out.println("kept " + root);
        } else {
            ColdStart.deleteTree(root);
        }
    }

    /** The daemon's environment: the fake model server as its Anthropic endpoint. */
    static Map<String, String> env(FakeModelServer model) {
        return Map.of(
                "ANTHROPIC_API_KEY",
                "bench-key",
                "ANTHROPIC_BASE_URL",
                model.baseUrl().toString());
    }

    /**
     * A {@code cordon.yaml} with room for {@code sandboxes} live sandboxes (the default memory cap,
     * 80 % of the host, counts 1 GiB a sandbox) and no workspace quota (a loop-mounted image per
     * agent would only slow the set-up; it does not touch a message's way).
     */
    static String roomFor(int sandboxes) {
        return "sandbox:\n  disk_mb: 0\n  max_live: " + sandboxes + "\n  max_memory_mb: " + (sandboxes * 1024) + "\n";
    }

    /**
     * When the one model request since the fake server had {@code before} arrived ({@link
     * System#nanoTime}, the bench's clock).
     *
     * @throws IllegalStateException if there was not exactly one
     */
    static long modelRequestArrival(FakeModelServer model, int before) {
        List<dev.cordon.testkit.RecordedRequest> requests = model.requests();
        if (requests.size() != before + 1) {
            throw new IllegalStateException("expected one model request, got " + (requests.size() - before));
        }
        return requests.getLast().receivedNanos();
    }

    /**
     * Makes {@code home} with {@code cordon.yaml} and agents {@code prefix0 … prefix(n-1)} (each
     * attached from the terminal is one chat, so one session).
     *
     * @return the agents' names
     */
    static List<String> create(Path home, String cordonYaml, String prefix, int agents) throws IOException {
        Files.createDirectories(home);
        Files.writeString(home.resolve("cordon.yaml"), cordonYaml);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            names.add(prefix + i);
            Files.createDirectories(home.resolve("agents").resolve(prefix + i));
        }
        return names;
    }

    /** Waits (up to 4 minutes) until the daemon in {@code home} has trained its runner AOT cache. */
    static void awaitCache(Path home) throws InterruptedException, IOException {
        Path dir = home.resolve("cache/aot");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    if (files.anyMatch(p -> p.getFileName().toString().endsWith(".aot"))) {
                        return;
                    }
                }
            }
            Thread.sleep(200);
        }
        System.out.println("warning: the AOT cache was not trained within 4 minutes");
    }

    /** Copies the trained cache: the same jars, JDK and flags give the same key in another home. */
    static void copyCache(Path from, Path to) throws IOException {
        Path source = from.resolve("cache/aot");
        if (!Files.isDirectory(source)) {
            return;
        }
        Path target = Files.createDirectories(to.resolve("cache/aot"));
        try (Stream<Path> files = Files.list(source)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".aot"))
                    .toList()) {
                Files.copy(p, target.resolve(p.getFileName()));
            }
        }
    }
}
