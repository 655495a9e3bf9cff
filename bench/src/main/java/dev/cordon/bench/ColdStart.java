package dev.cordon.bench;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.protocol.Wire;
import dev.cordon.sandbox.Sandboxes;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.oci.Oci;
import dev.cordon.sandbox.vm.Vm;
import dev.cordon.server.Runners;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Cold start of a runner in a fresh bubblewrap sandbox (launch until the runner's Ready arrives),
 * with and without the AOT cache, interleaved with the baselines: bubblewrap running {@code
 * /usr/bin/true}, {@code runc run} of {@code /bin/true}, and {@code podman run --runtime runc}. The
 * other backends side by side: Cordon's runc and gVisor (runsc) backends running {@code
 * /usr/bin/true} and the runner, with the memory of each runner's sandbox when it was Ready
 * (docs/benchmarks.md §7); and the microVM (QEMU, with KVM where it boots a kernel, else emulated),
 * whose memory is QEMU's resident set.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.ColdStart [--runs 50] [--warmup 2] [--flags]
 *      [--variants bwrap,bwrap-unlimited,runc,podman,podman-nonet,runner,runner-aot,runner-aot-unlimited,
 *                  runc-cordon,crun-cordon,podman-cordon,runsc,runner-runc,runner-crun,runner-podman,
 *                  runner-runsc,vm,runner-vm]
 *      [--runner-lib DIR] [--keep]
 * </pre>
 *
 * Every round runs each variant once, in a shuffled order, so that load from other processes hits
 * all variants alike. Sandboxes get the daemon's default limits ({@code Limits.DEFAULTS}: 1 GiB,
 * 512 pids, one CPU) unless the variant says "no limits". {@code --flags} adds runner variants with
 * other JVM flags.
 */
public final class ColdStart {
    private static final Duration TRAIN_TIMEOUT = Duration.ofMinutes(4);

    private ColdStart() {}

    /** One thing to start and wait for. */
    interface Variant extends AutoCloseable {
        String name();

        /** Starts it once and returns the nanoseconds until it was ready (or done). */
        long once() throws Exception;

        /**
         * CPU time the sandbox's processes had used when the last {@link #once} was ready, or -1 if
         * not measured. Less sensitive to other load on the machine than wall time.
         */
        default long lastCpuNanos() {
            return -1;
        }

        /** Memory charged to the sandbox when the last {@link #once} was ready, or -1 if not measured. */
        default long lastMemoryBytes() {
            return -1;
        }

        @Override
        default void close() {}
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--flags", "--keep"));
        int runs = Integer.parseInt(options.getOrDefault("--runs", "50"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "2"));
        List<String> wanted = List.of(options.getOrDefault(
                        "--variants",
                        "bwrap,bwrap-unlimited,runc,podman,podman-nonet,runner,runner-aot,runner-aot-unlimited")
                .split(","));
        Path runnerLib = Options.runnerLib(options);
        // Short: the runner socket lives under it, and Unix socket paths are limited to 107 bytes.
        Path root = Files.createTempDirectory("cb");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                "ColdStart: %d runs (+%d warm-up) per variant, interleaved; runner jars %s; %s, %d CPUs; load %s%n",
                runs, warmup, runnerLib, Runtime.version(), Runtime.getRuntime().availableProcessors(), Stats.load());
        List<Variant> variants = new ArrayList<>();
        try {
            for (String name : wanted) {
                Variant v = create(name.strip(), root, runnerLib);
                if (v != null) {
                    variants.add(v);
                }
            }
            if (options.containsKey("--flags")) {
                List<String> base = Runners.defaultJvmFlags(Runners.DEFAULT_HEAP_MB);
                addRunner(
                        variants,
                        root,
                        runnerLib,
                        "runner-aot C2 (no TieredStopAtLevel)",
                        without(base, "-XX:TieredStopAtLevel=1"),
                        true);
                addRunner(
                        variants,
                        root,
                        runnerLib,
                        "runner-aot +UsePerfData",
                        replace(base, "-XX:-UsePerfData", "-XX:+UsePerfData"),
                        true);
                addRunner(
                        variants,
                        root,
                        runnerLib,
                        "runner-aot ArchiveRelocationMode=1 (relocated)",
                        replace(base, "-XX:ArchiveRelocationMode=0", "-XX:ArchiveRelocationMode=1"),
                        true);
                addRunner(
                        variants,
                        root,
                        runnerLib,
                        "runner old flags (-Xshare:auto)",
                        List.of("-XX:+UseSerialGC", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto"),
                        false);
            }
            Map<Variant, Stats> stats = new LinkedHashMap<>();
            Map<Variant, Stats> cpu = new LinkedHashMap<>();
            Map<Variant, List<Long>> memory = new LinkedHashMap<>();
            variants.forEach(v -> memory.put(v, new ArrayList<>()));
            variants.forEach(v -> stats.put(v, new Stats(v.name())));
            variants.forEach(v -> cpu.put(v, new Stats("CPU time of " + v.name())));
            Random random = new Random(42);
            long started = System.nanoTime();
            for (int round = -warmup; round < runs; round++) {
                List<Variant> order = new ArrayList<>(variants);
                Collections.shuffle(order, random);
                for (Variant v : order) {
                    long nanos = v.once();
                    if (round >= 0) {
                        stats.get(v).add(nanos);
                        if (v.lastCpuNanos() >= 0) {
                            cpu.get(v).add(v.lastCpuNanos());
                        }
                        if (v.lastMemoryBytes() >= 0) {
                            memory.get(v).add(v.lastMemoryBytes());
                        }
                    }
                }
            }
            System.out.printf(
                    "measured in %d s; load at end %s%n%n",
                    (System.nanoTime() - started) / 1_000_000_000L, Stats.load());
            print(stats);
            System.out.println();
            System.out.println(Stats.header("runner CPU time until Ready (ms)"));
            cpu.values().stream().filter(c -> c.count() > 0).forEach(c -> System.out.println(c.row()));
            System.out.println("(user+system time of the sandbox's processes, JIT threads included; 10 ms ticks)");
            System.out.println();
            System.out.println("memory of the sandbox's cgroup when the runner said Ready (MiB): median, min, max");
            memory.forEach((v, m) -> {
                if (!m.isEmpty()) {
                    List<Long> sorted = m.stream().sorted().toList();
                    System.out.printf(
                            Locale.ROOT,
                            "  %-60s %7.1f %7.1f %7.1f%n",
                            v.name(),
                            sorted.get(sorted.size() / 2) / 1048576.0,
                            sorted.getFirst() / 1048576.0,
                            sorted.getLast() / 1048576.0);
                }
            });
            System.out.println("(charged to the group: the runner's heap and code, page cache of what it read,"
                    + " and under gVisor its kernel)");
        } finally {
            variants.forEach(Variant::close);
            if (!options.containsKey("--keep")) {
                deleteTree(root);
            } else {
                System.out.println("kept " + root);
            }
        }
    }

    private static void print(Map<Variant, Stats> stats) {
        double runc = median(stats, "runc");
        double podman = median(stats, "podman");
        double bwrap = median(stats, "bwrap");
        System.out.println(Stats.header("variant (ms)") + "   ÷bwrap ÷runc ÷podman");
        stats.values().stream()
                .sorted(Comparator.comparingDouble(Stats::medianMillis))
                .forEach(s -> System.out.println(s.row()
                        + String.format(
                                Locale.ROOT,
                                " %7s %7s %7s",
                                ratio(s.medianMillis(), bwrap),
                                ratio(s.medianMillis(), runc),
                                ratio(s.medianMillis(), podman))));
        System.out.println("(ratios: median of the row ÷ median of the baseline, same run)");
    }

    private static double median(Map<Variant, Stats> stats, String name) {
        return stats.values().stream()
                .filter(s -> s.name().startsWith(name + " "))
                .mapToDouble(Stats::medianMillis)
                .findFirst()
                .orElse(Double.NaN);
    }

    private static String ratio(double value, double baseline) {
        return Double.isNaN(baseline) ? "-" : String.format(Locale.ROOT, "%.2f", value / baseline);
    }

    private static Variant create(String name, Path root, Path runnerLib) throws Exception {
        List<String> base = Runners.defaultJvmFlags(Runners.DEFAULT_HEAP_MB);
        return switch (name) {
            case "bwrap" -> new BwrapTrue(root, runnerLib, Limits.DEFAULTS);
            case "runc-cordon" ->
                Oci.usable("runc")
                        ? new BwrapTrue(root, runnerLib, Limits.DEFAULTS, Oci.runc())
                        : skip(name, "runc is not installed or this is not root");
            case "runsc" ->
                Oci.usable("runsc")
                        ? new BwrapTrue(root, runnerLib, Limits.DEFAULTS, Oci.runsc(Oci.DEFAULT_PLATFORM))
                        : skip(name, "runsc is not installed or this is not root");
            case "runner-runc" ->
                Oci.usable("runc")
                        ? runner(
                                root,
                                runnerLib,
                                "runner in runc (no AOT cache)",
                                base,
                                false,
                                Limits.DEFAULTS,
                                Oci.runc())
                        : skip(name, "runc is not installed or this is not root");
            case "runner-runsc" ->
                Oci.usable("runsc")
                        ? runner(
                                root,
                                runnerLib,
                                "runner in runsc (no AOT cache)",
                                base,
                                false,
                                Limits.DEFAULTS,
                                Oci.runsc(Oci.DEFAULT_PLATFORM))
                        : skip(name, "runsc is not installed or this is not root");
            case "crun-cordon", "podman-cordon" -> {
                String backend = name.substring(0, name.indexOf('-'));
                yield Sandboxes.usable(backend)
                        ? new BwrapTrue(root, runnerLib, Limits.DEFAULTS, Sandboxes.named(backend))
                        : skip(name, backend + " is not installed or this is not root");
            }
            case "runner-crun", "runner-podman" -> {
                String backend = name.substring("runner-".length());
                yield Sandboxes.usable(backend)
                        ? runner(
                                root,
                                runnerLib,
                                "runner in " + backend + " (no AOT cache)",
                                base,
                                false,
                                Limits.DEFAULTS,
                                Sandboxes.named(backend))
                        : skip(name, backend + " is not installed or this is not root");
            }
            case "vm" ->
                Vm.usable()
                        ? new BwrapTrue(root, runnerLib, Limits.DEFAULTS, Vm.backend(root.resolve("cache")))
                        : skip(name, "QEMU, a kernel, busybox-static or socat is missing (./cordon doctor)");
            case "runner-vm" ->
                Vm.usable()
                        ? runner(
                                root,
                                runnerLib,
                                "runner in a microVM (no AOT cache)",
                                base,
                                false,
                                Limits.DEFAULTS,
                                Vm.backend(root.resolve("cache")))
                        : skip(name, "QEMU, a kernel, busybox-static or socat is missing (./cordon doctor)");
            case "runc" -> Processes.available("runc") ? Runc.create(root) : skip("runc", "runc is not installed");
            case "podman" -> Podman.create(root, false);
            case "podman-nonet" -> Podman.create(root, true);
            case "runner" -> runner(root, runnerLib, "runner (no AOT cache)", base, false, Limits.DEFAULTS);
            case "runner-aot" -> runner(root, runnerLib, "runner + AOT cache", base, true, Limits.DEFAULTS);
            case "runner-aot-unlimited" ->
                runner(root, runnerLib, "runner + AOT, no limits", base, true, Limits.UNLIMITED);
            case "bwrap-unlimited" -> new BwrapTrue(root, runnerLib, Limits.UNLIMITED);
            default -> throw new IllegalArgumentException("unknown variant " + name);
        };
    }

    private static void addRunner(
            List<Variant> variants, Path root, Path lib, String name, List<String> flags, boolean aot)
            throws Exception {
        addRunner(variants, root, lib, name, flags, aot, Limits.DEFAULTS);
    }

    private static void addRunner(
            List<Variant> variants, Path root, Path lib, String name, List<String> flags, boolean aot, Limits limits)
            throws Exception {
        Variant v = runner(root, lib, name, flags, aot, limits);
        if (v != null) {
            variants.add(v);
        }
    }

    static Variant skip(String name, String why) {
        System.out.println("skipping " + name + ": " + why);
        return null;
    }

    private static Variant runner(
            Path root, Path runnerLib, String name, List<String> flags, boolean aot, Limits limits) throws Exception {
        return runner(root, runnerLib, name, flags, aot, limits, Sandboxes.bubblewrap());
    }

    private static Variant runner(
            Path root,
            Path runnerLib,
            String name,
            List<String> flags,
            boolean aot,
            Limits limits,
            SandboxBackend backend)
            throws Exception {
        Path home = root.resolve("h" + Integer.toHexString(name.hashCode()));
        Runners runners = Runners.on(backend, home, runnerLib, flags, aot, limits);
        if (aot) {
            long t0 = System.nanoTime();
            if (!runners.awaitAotCache(TRAIN_TIMEOUT)) {
                return skip(name, "the AOT cache did not train; see " + home.resolve("logs/sandboxes"));
            }
            System.out.printf("%s: AOT cache ready in %d ms%n", name, (System.nanoTime() - t0) / 1_000_000);
            if (name.equals("runner + AOT cache")) {
                verifyCacheIsUsed(home, runnerLib, flags);
            }
        }
        return new Variant() {
            private long cpu = -1;
            private long memory = -1;

            @Override
            public String name() {
                return name + " " + String.join(" ", flags);
            }

            @Override
            public long once() {
                long t0 = System.nanoTime();
                Runners.Runner runner = runners.launch();
                long nanos = System.nanoTime() - t0;
                cpu = sandboxCpuNanos();
                memory = runner.memoryBytes();
                runner.close();
                return nanos;
            }

            @Override
            public long lastCpuNanos() {
                return cpu;
            }

            @Override
            public long lastMemoryBytes() {
                return memory;
            }
        };
    }

    /**
     * Starts one runner with class-load logging (logging flags are not part of the cache key) and
     * counts, in its sandbox log, the classes that came from the AOT cache.
     */
    private static void verifyCacheIsUsed(Path home, Path runnerLib, List<String> flags) throws Exception {
        List<String> logging = new ArrayList<>(flags);
        logging.add("-Xlog:class+load=info,aot=warning");
        Runners logged = Runners.bubblewrap(home, runnerLib, logging, true);
        try (Runners.Runner r = logged.launch()) {
            // the log is complete enough once Ready arrived
        }
        Path log;
        try (Stream<Path> logs = Files.list(home.resolve("logs/sandboxes"))) {
            log = logs.filter(p -> p.getFileName().toString().startsWith("bench-"))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()))
                    .orElseThrow();
        }
        List<String> lines = Files.readAllLines(log);
        long shared = lines.stream()
                .filter(l -> l.contains("source: shared objects file"))
                .count();
        long cordonShared = lines.stream()
                .filter(l -> l.contains(" dev.cordon.") && l.contains("source: shared objects file"))
                .count();
        long cordonJar = lines.stream()
                .filter(l -> l.contains(" dev.cordon.") && l.contains("source: file:"))
                .count();
        long otherJar = lines.stream()
                .filter(l ->
                        l.contains("[class,load]") && !l.contains("shared objects file") && !l.contains(" dev.cordon."))
                .count();
        List<String> aotProblems =
                lines.stream().filter(l -> l.contains("[aot")).limit(3).toList();
        System.out.printf(
                "AOT check inside the sandbox: %d classes from the cache (%d of Cordon's), %d Cordon classes and %d"
                        + " others loaded another way; AOT warnings: %s%n",
                shared, cordonShared, cordonJar, otherJar, aotProblems.isEmpty() ? "none" : aotProblems);
    }

    /** CPU time used so far by this JVM's child processes: the one live sandbox (bwrap, setpriv, java). */
    static long sandboxCpuNanos() {
        return ProcessHandle.current()
                .descendants()
                .mapToLong(
                        p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L))
                .sum();
    }

    private static List<String> without(List<String> flags, String flag) {
        return flags.stream().filter(f -> !f.equals(flag)).toList();
    }

    private static List<String> replace(List<String> flags, String from, String to) {
        return flags.stream().map(f -> f.equals(from) ? to : f).toList();
    }

    /** bubblewrap running /usr/bin/true in the same kind of sandbox as a runner (backend, mounts, uid). */
    static final class BwrapTrue implements Variant {
        private final SandboxBackend backend;
        private final Limits limits;
        private final Path root;
        private final Path runnerLib;
        private final Path workspace;
        private final int uid = Bubblewrap.isRoot() ? 200_001 : Bubblewrap.effectiveUid();
        private int counter;

        BwrapTrue(Path root, Path runnerLib, Limits limits) throws IOException {
            this(root, runnerLib, limits, Sandboxes.bubblewrap());
        }

        /** /usr/bin/true in a sandbox of {@code backend} (Cordon's own bundle for runc and runsc). */
        BwrapTrue(Path root, Path runnerLib, Limits limits, SandboxBackend backend) throws IOException {
            this.backend = backend;
            this.limits = limits;
            this.root = root;
            this.runnerLib = runnerLib;
            this.workspace = Files.createDirectories(root.resolve("bwrap-workspace"));
        }

        @Override
        public String name() {
            String who = backend.name().equals("bubblewrap") ? "bwrap" : "cordon " + backend.name();
            return who + " /usr/bin/true" + (limits.equals(Limits.UNLIMITED) ? ", no limits" : "");
        }

        @Override
        public long once() throws Exception {
            Path javaHome = Path.of(System.getProperty("java.home"));
            SandboxSpec spec = new SandboxSpec(
                    "true-" + backend.name() + "-" + ProcessHandle.current().pid() + "-" + counter++,
                    List.of(
                            new Mount(javaHome, javaHome.toString(), Mode.READ_ONLY),
                            new Mount(runnerLib, "/opt/cordon/lib", Mode.READ_ONLY),
                            new Mount(workspace, "/workspace", Mode.READ_WRITE)),
                    List.of("/usr/bin/true"),
                    Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8"),
                    uid,
                    uid,
                    "cordon",
                    "/workspace",
                    root.resolve(backend.name() + ".log"),
                    limits);
            long t0 = System.nanoTime();
            try (Sandbox sandbox = backend.start(spec)) {
                int status = sandbox.exit().get(120, TimeUnit.SECONDS);
                long nanos = System.nanoTime() - t0;
                if (status != 0) {
                    throw new IllegalStateException(name() + " exited with " + status);
                }
                return nanos;
            }
        }
    }

    /** {@code runc run} of /usr/bin/true: empty rootfs with the usual symlinks and /usr bound read-only. */
    static final class Runc implements Variant {
        private final Path bundle;
        private int counter;

        private Runc(Path bundle) {
            this.bundle = bundle;
        }

        static Variant create(Path root) throws Exception {
            Path bundle = Files.createDirectories(root.resolve("runc-bundle"));
            Path rootfs = rootfs(bundle);
            Processes.run(List.of("runc", "spec", "--bundle", bundle.toString()));
            ObjectNode config = (ObjectNode)
                    Wire.mapper().readTree(bundle.resolve("config.json").toFile());
            ObjectNode process = (ObjectNode) config.get("process");
            process.put("terminal", false);
            process.putArray("args").add("/usr/bin/true");
            config.putObject("root").put("path", rootfs.toString()).put("readonly", true);
            ArrayNode mounts = (ArrayNode) config.get("mounts");
            mounts.addObject()
                    .put("destination", "/usr")
                    .put("type", "bind")
                    .put("source", "/usr")
                    .putArray("options")
                    .add("rbind")
                    .add("ro");
            Files.writeString(bundle.resolve("config.json"), Wire.mapper().writeValueAsString(config));
            Runc runc = new Runc(bundle);
            try {
                runc.once();
            } catch (IllegalStateException e) {
                return skip("runc", e.getMessage());
            }
            return runc;
        }

        @Override
        public String name() {
            return "runc run /usr/bin/true";
        }

        @Override
        public long once() throws Exception {
            String id = "cordon-bench-" + ProcessHandle.current().pid() + "-" + counter++;
            return Processes.time(List.of("runc", "run", "--bundle", bundle.toString(), id));
        }
    }

    /** {@code podman run --rm --runtime runc} of /usr/bin/true on a local rootfs (no image registry here). */
    static final class Podman implements Variant {
        private final List<String> command;
        private final boolean noNetwork;

        private Podman(List<String> command, boolean noNetwork) {
            this.command = command;
            this.noNetwork = noNetwork;
        }

        static Variant create(Path root, boolean noNetwork) throws Exception {
            String name = noNetwork ? "podman-nonet" : "podman";
            if (!Processes.available("podman")) {
                return skip(name, "podman is not installed");
            }
            Path rootfs = root.resolve("podman-rootfs");
            if (!Files.isDirectory(rootfs)) {
                Files.createDirectories(rootfs);
                rootfs(rootfs.getParent().resolve("podman-tmp"));
                Files.delete(rootfs);
                Files.move(rootfs.getParent().resolve("podman-tmp/rootfs"), rootfs);
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
                    "--rootfs",
                    rootfs.toString(),
                    "/usr/bin/true"));
            Podman podman = new Podman(command, noNetwork);
            try {
                podman.once();
            } catch (IllegalStateException e) {
                return skip(name, e.getMessage());
            }
            return podman;
        }

        @Override
        public String name() {
            return noNetwork ? "podman run --network none (runc)" : "podman run (runc, default network)";
        }

        @Override
        public long once() throws Exception {
            return Processes.time(command);
        }
    }

    /** An empty rootfs with the merged-/usr symlinks; returns it. */
    static Path rootfs(Path parent) throws IOException {
        Path rootfs = Files.createDirectories(parent.resolve("rootfs"));
        for (String dir : List.of("bin", "sbin", "lib", "lib64")) {
            if (Files.isSymbolicLink(Path.of("/", dir))) {
                Files.createSymbolicLink(rootfs.resolve(dir), Files.readSymbolicLink(Path.of("/", dir)));
            }
        }
        for (String dir : List.of("usr", "proc", "dev", "sys", "tmp", "etc")) {
            Files.createDirectories(rootfs.resolve(dir));
        }
        return rootfs;
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException | java.io.UncheckedIOException e) {
            System.out.println("could not delete " + dir + ": " + e);
        }
    }
}
