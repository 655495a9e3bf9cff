package dev.cordon.bench;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.protocol.Wire;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sandbox creation to first instruction: from just before {@code SandboxBackend.start} (or, for
 * {@code runc} and {@code podman}, just before the process is spawned) until the host sees the
 * sandboxed program's first effect, a byte written to a FIFO of the host's that is bind-mounted
 * into the sandbox. Also the time until the sandbox has exited, and for bubblewrap how long
 * {@code close()} (teardown) takes after that.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.SandboxStart [--runs 100] [--warmup 3]
 *      [--variants bare,seccomp,cgroup,both,runc,podman-nonet,podman] [--keep]
 * </pre>
 *
 * The sandboxed program is {@code /usr/bin/dd if=/dev/zero of=FIFO bs=1 count=1 status=none}: a
 * dynamically linked coreutils program like {@code /usr/bin/true}, whose own start (exec, loader,
 * libc) is about a millisecond and is included, as it is for the baselines. The bubblewrap
 * variants go through the real backend ({@link Bubblewrap#backend(Bubblewrap.Options)}) with the
 * mounts a runner gets (an {@code /etc}, {@code /etc/alternatives}, the JDK, a library folder, the
 * run folder, a writable workspace), as uid 200001 when root. Every round runs each variant once in
 * a shuffled order, so load from elsewhere hits all alike.
 */
public final class SandboxStart {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String RUN_DIR = "/run/cordon";
    private static final String DEFAULT_VARIANTS = "bare,seccomp,cgroup,both,both-burst,runc,podman-nonet,podman";

    private SandboxStart() {}

    /** One measured start. {@code closeNanos} is -1 where the variant has no separate teardown. */
    record Sample(long firstNanos, long exitNanos, long closeNanos) {}

    /** One way to start a sandbox running the FIFO writer. */
    interface Variant {
        String name();

        Sample once() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep"));
        int runs = Integer.parseInt(options.getOrDefault("--runs", "100"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "3"));
        List<String> wanted =
                List.of(options.getOrDefault("--variants", DEFAULT_VARIANTS).split(","));
        // Short, as for ColdStart; and world-traversable, so the sandbox uid reaches the FIFO.
        Path root = Files.createTempDirectory("cb");
        root.toFile().setExecutable(true, false);
        Path runDir = Files.createDirectories(root.resolve("run"));
        runDir.toFile().setExecutable(true, false);
        System.out.printf(
                "SandboxStart: %d runs (+%d warm-up) per variant, interleaved; %s, %d CPUs, launchMechanism=%s;"
                        + " load %s%n",
                runs,
                warmup,
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("jdk.lang.Process.launchMechanism", "default"),
                Stats.load());
        try (Fifo fifo = Fifo.create(runDir.resolve("first"))) {
            List<Variant> variants = new ArrayList<>();
            for (String name : wanted) {
                Variant v = create(name.strip(), root, fifo);
                if (v != null) {
                    variants.add(v);
                }
            }
            Map<Variant, Stats> first = new LinkedHashMap<>();
            Map<Variant, Stats> exit = new LinkedHashMap<>();
            Map<Variant, Stats> close = new LinkedHashMap<>();
            for (Variant v : variants) {
                first.put(v, new Stats(v.name()));
                exit.put(v, new Stats(v.name()));
                close.put(v, new Stats(v.name()));
            }
            Random random = new Random(42);
            long started = System.nanoTime();
            for (int round = -warmup; round < runs; round++) {
                List<Variant> order = new ArrayList<>(variants);
                Collections.shuffle(order, random);
                for (Variant v : order) {
                    Sample s = v.once();
                    if (round >= 0) {
                        first.get(v).add(s.firstNanos());
                        exit.get(v).add(s.exitNanos());
                        if (s.closeNanos() >= 0) {
                            close.get(v).add(s.closeNanos());
                        }
                    }
                }
            }
            System.out.printf(
                    "measured in %d s; load at end %s%n%n",
                    (System.nanoTime() - started) / 1_000_000_000L, Stats.load());
            print("creation → first instruction (ms)", first);
            System.out.println();
            print("creation → exited (ms)", exit);
            System.out.println();
            System.out.println(Stats.header("teardown: close() after exit (ms)", WIDTH));
            close.values().stream().filter(c -> c.count() > 0).forEach(c -> System.out.println(c.row(WIDTH)));
        } finally {
            if (!options.containsKey("--keep")) {
                ColdStart.deleteTree(root);
            } else {
                System.out.println("kept " + root);
            }
        }
    }

    private static final int WIDTH = 44;

    private static void print(String title, Map<Variant, Stats> stats) {
        double runc = median(stats, "runc");
        double podmanNoNet = median(stats, "podman run --network none");
        double podman = median(stats, "podman run (default");
        System.out.println(Stats.header(title, WIDTH) + "   ÷runc ÷podman-nonet ÷podman");
        for (Stats s : stats.values()) {
            System.out.println(s.row(WIDTH)
                    + String.format(
                            Locale.ROOT,
                            " %7s %13s %7s",
                            ratio(s.medianMillis(), runc),
                            ratio(s.medianMillis(), podmanNoNet),
                            ratio(s.medianMillis(), podman)));
        }
        System.out.println("(ratios: median of the row ÷ median of the baseline, same run)");
    }

    private static double median(Map<Variant, Stats> stats, String prefix) {
        return stats.values().stream()
                .filter(s -> s.name().startsWith(prefix))
                .mapToDouble(Stats::medianMillis)
                .findFirst()
                .orElse(Double.NaN);
    }

    private static String ratio(double value, double baseline) {
        return Double.isNaN(baseline) ? "-" : String.format(Locale.ROOT, "%.2f", value / baseline);
    }

    private static Variant create(String name, Path root, Fifo fifo) throws Exception {
        return switch (name) {
            case "bare" ->
                new Bwrap(
                        "bwrap bare (no seccomp, no cgroup)",
                        new Bubblewrap.Options(false, false),
                        Limits.UNLIMITED,
                        root,
                        fifo);
            case "seccomp" ->
                new Bwrap("bwrap + seccomp", new Bubblewrap.Options(true, false), Limits.UNLIMITED, root, fifo);
            case "cgroup" ->
                new Bwrap("bwrap + cgroup limits", new Bubblewrap.Options(false, true), Limits.DEFAULTS, root, fifo);
            case "both" ->
                new Bwrap(
                        "bwrap + seccomp + cgroup limits (daemon)",
                        Bubblewrap.Options.DEFAULTS,
                        Limits.DEFAULTS,
                        root,
                        fifo);
            case "both-burst" ->
                new Bwrap(
                        "daemon, 2nd of 2 started back to back",
                        Bubblewrap.Options.DEFAULTS,
                        Limits.DEFAULTS,
                        root,
                        fifo,
                        true);
            case "runc" ->
                Processes.available("runc")
                        ? checked(Container.runc(root, fifo))
                        : skip("runc", "runc is not installed");
            case "podman-nonet" ->
                Processes.available("podman")
                        ? checked(Container.podman(root, fifo, true))
                        : skip("podman", "podman is not installed");
            case "podman" ->
                Processes.available("podman")
                        ? checked(Container.podman(root, fifo, false))
                        : skip("podman", "podman is not installed");
            default -> throw new IllegalArgumentException("unknown variant " + name + "; known: " + DEFAULT_VARIANTS);
        };
    }

    private static Variant skip(String name, String why) {
        System.out.println("skipping " + name + ": " + why);
        return null;
    }

    /** The variant if one trial run works, else null with the reason printed. */
    private static Variant checked(Variant v) {
        try {
            v.once();
            return v;
        } catch (Exception e) {
            return skip(v.name(), e.getMessage());
        }
    }

    /** The FIFO writer's command line, the FIFO being at {@code RUN_DIR/first} inside. */
    private static List<String> writer(Fifo fifo) {
        return List.of(
                "/usr/bin/dd",
                "if=/dev/zero",
                "of=" + RUN_DIR + "/" + fifo.path().getFileName(),
                "bs=1",
                "count=1",
                "status=none");
    }

    /** The bubblewrap backend with some layers on, in the same kind of sandbox as a runner's. */
    static final class Bwrap implements Variant {
        private final String name;
        private final SandboxBackend backend;
        private final Limits limits;
        private final Fifo fifo;
        private final List<Mount> mounts;
        private final Path log;
        private final String idPrefix;
        private final boolean burst;
        private final int uid = Bubblewrap.isRoot() ? 200_001 : Bubblewrap.effectiveUid();
        private int counter;

        Bwrap(String name, Bubblewrap.Options options, Limits limits, Path root, Fifo fifo) throws Exception {
            this(name, options, limits, root, fifo, false);
        }

        /**
         * @param burst start a sandbox running {@code /usr/bin/true} right before the measured one,
         *     so that the measured one finds no spare shell: what the second of a burst of starts gets
         */
        Bwrap(String name, Bubblewrap.Options options, Limits limits, Path root, Fifo fifo, boolean burst)
                throws Exception {
            this.name = name;
            this.burst = burst;
            this.backend = Bubblewrap.backend(options);
            this.limits = limits;
            this.fifo = fifo;
            Path etc = root.resolve("etc");
            if (!Files.isDirectory(etc)) {
                Files.createDirectories(etc);
                Files.writeString(
                        etc.resolve("passwd"),
                        "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nagent:x:" + uid + ":" + uid
                                + ":agent:/workspace:/bin/bash\n");
                // The mount point of /etc/alternatives, as the daemon's own /etc has one.
                Files.createDirectories(etc.resolve("alternatives"));
            }
            Path javaHome = Path.of(System.getProperty("java.home"));
            this.mounts = new ArrayList<>();
            mounts.add(new Mount(etc, "/etc", Mode.READ_ONLY));
            if (Files.isDirectory(Path.of("/etc/alternatives"))) {
                mounts.add(new Mount(Path.of("/etc/alternatives"), "/etc/alternatives", Mode.READ_ONLY));
            }
            mounts.add(new Mount(javaHome, javaHome.toString(), Mode.READ_ONLY));
            mounts.add(new Mount(Files.createDirectories(root.resolve("lib")), "/opt/cordon/lib", Mode.READ_ONLY));
            mounts.add(new Mount(fifo.path().getParent(), RUN_DIR, Mode.READ_ONLY));
            mounts.add(new Mount(Files.createDirectories(root.resolve("workspace")), "/workspace", Mode.READ_WRITE));
            this.log = root.resolve("logs").resolve(name.replaceAll("[^A-Za-z0-9]+", "-") + ".log");
            this.idPrefix = "bench-" + ProcessHandle.current().pid() + "-"
                    + name.replaceAll("[^A-Za-z]+", "").toLowerCase(Locale.ROOT) + "-";
        }

        @Override
        public String name() {
            return name;
        }

        private SandboxSpec spec(List<String> command) {
            return new SandboxSpec(
                    idPrefix + counter++,
                    mounts,
                    command,
                    Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8"),
                    uid,
                    uid,
                    "cordon",
                    "/workspace",
                    log,
                    limits);
        }

        @Override
        public Sample once() throws Exception {
            SandboxSpec spec = spec(writer(fifo));
            Sandbox first = burst ? backend.start(spec(List.of("/usr/bin/true"))) : null;
            try {
                return measure(spec);
            } finally {
                if (first != null) {
                    first.close();
                }
            }
        }

        private Sample measure(SandboxSpec spec) throws Exception {
            fifo.clear();
            long t0 = System.nanoTime();
            Sandbox sandbox = backend.start(spec);
            long first;
            long exited;
            try {
                first = fifo.await(TIMEOUT, sandbox.exit());
                int status = sandbox.exit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                exited = System.nanoTime();
                if (status != 0) {
                    throw new IllegalStateException(name + " exited with " + status);
                }
            } catch (IllegalStateException e) {
                sandbox.close();
                throw new IllegalStateException(e.getMessage() + "; " + log + " says:\n" + tail(log), e);
            } catch (Exception e) {
                sandbox.close();
                throw e;
            }
            long c0 = System.nanoTime();
            sandbox.close();
            long closed = System.nanoTime();
            return new Sample(first - t0, exited - t0, closed - c0);
        }
    }

    /** {@code runc run} or {@code podman run} of the FIFO writer; exit includes podman's {@code --rm}. */
    static final class Container implements Variant {
        private final String name;
        private final Supplier<List<String>> command;
        private final Fifo fifo;

        private Container(String name, Supplier<List<String>> command, Fifo fifo) {
            this.name = name;
            this.command = command;
            this.fifo = fifo;
        }

        /** A bundle from {@code runc spec}: empty read-only rootfs, {@code /usr} and the run folder bound. */
        static Container runc(Path root, Fifo fifo) throws Exception {
            Path bundle = Files.createDirectories(root.resolve("runc-bundle"));
            Path rootfs = ColdStart.rootfs(bundle);
            Files.createDirectories(rootfs.resolve(RUN_DIR.substring(1)));
            Processes.run(List.of("runc", "spec", "--bundle", bundle.toString()));
            ObjectNode config = (ObjectNode)
                    Wire.mapper().readTree(bundle.resolve("config.json").toFile());
            ObjectNode process = (ObjectNode) config.get("process");
            process.put("terminal", false);
            ArrayNode argv = process.putArray("args");
            writer(fifo).forEach(argv::add);
            config.putObject("root").put("path", rootfs.toString()).put("readonly", true);
            ArrayNode mounts = (ArrayNode) config.get("mounts");
            bind(mounts, Path.of("/usr"), "/usr");
            bind(mounts, fifo.path().getParent(), RUN_DIR);
            Files.writeString(bundle.resolve("config.json"), Wire.mapper().writeValueAsString(config));
            String prefix = "cordon-ss-" + ProcessHandle.current().pid() + "-";
            AtomicInteger counter = new AtomicInteger();
            // runc wants a fresh container id per run; it removes the container when it exits.
            return new Container(
                    "runc run",
                    () -> List.of("runc", "run", "--bundle", bundle.toString(), prefix + counter.getAndIncrement()),
                    fifo);
        }

        private static void bind(ArrayNode mounts, Path source, String target) {
            mounts.addObject()
                    .put("destination", target)
                    .put("type", "bind")
                    .put("source", source.toString())
                    .putArray("options")
                    .add("rbind")
                    .add("ro");
        }

        /** {@code podman run --rm --runtime runc} on a local rootfs (no image registry here). */
        static Container podman(Path root, Fifo fifo, boolean noNetwork) throws Exception {
            Path rootfs = root.resolve("podman-rootfs");
            if (!Files.isDirectory(rootfs)) {
                Files.move(ColdStart.rootfs(root.resolve("podman-tmp")), rootfs);
                Files.createDirectories(rootfs.resolve(RUN_DIR.substring(1)));
            }
            List<String> command = new ArrayList<>(List.of("podman", "run", "--rm", "--runtime", "runc"));
            if (noNetwork) {
                command.addAll(List.of("--network", "none"));
            }
            // --rootfs is a switch: the rootfs takes the image's place, so every option goes before it.
            command.addAll(List.of(
                    "--ulimit",
                    "nofile=20000:20000",
                    "--ulimit",
                    "nproc=20000:20000",
                    "-v",
                    "/usr:/usr:ro",
                    "-v",
                    fifo.path().getParent() + ":" + RUN_DIR + ":ro",
                    "--rootfs",
                    rootfs.toString()));
            command.addAll(writer(fifo));
            List<String> fixed = List.copyOf(command);
            return new Container(
                    noNetwork ? "podman run --network none (runc)" : "podman run (default network, runc)",
                    () -> fixed,
                    fifo);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Sample once() throws Exception {
            ProcessBuilder builder = new ProcessBuilder(command.get())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true);
            fifo.clear();
            long t0 = System.nanoTime();
            Process process = builder.start();
            long first;
            try {
                first = fifo.await(TIMEOUT, process.onExit());
            } catch (IllegalStateException e) {
                process.destroyForcibly();
                throw new IllegalStateException(e.getMessage() + "; " + name + " said: "
                        + new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
            }
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(name + " did not exit within " + TIMEOUT);
            }
            long exited = System.nanoTime();
            if (process.exitValue() != 0) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ": "
                        + new String(output, StandardCharsets.UTF_8).strip());
            }
            return new Sample(first - t0, exited - t0, -1);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (java.io.IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
