package dev.cordon.bench;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.protocol.Wire;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.server.Daemon;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;

/**
 * Egress overhead: the same curl requests to an origin on the host, made directly on the host
 * (baseline), through two bare relays on the host joined by a Unix socket ({@link RelayFloor}: the
 * least a path of Cordon's shape costs here), and from inside a real sandbox through the runner's
 * relay, the one channel and the host's egress proxy, alternating in rounds so load from elsewhere
 * hits all three alike.
 *
 * <pre>
 * java -cp 'bench/target/lib/*' dev.cordon.bench.EgressBench [--rounds 5] [--requests 40] [--big-mb 100]
 *      [--big-runs 3] [--warmup 3] [--fresh-sandbox] [--cpu-millicores N] [--runner-lib DIR] [--keep]
 * </pre>
 *
 * Per-request time is curl's own {@code time_total} for a 100-byte answer (the process start of
 * curl is outside it); throughput is curl's {@code speed_download} for a {@code --big-mb} answer.
 *
 * <p>{@code --warmup N} makes N requests on each path first, not measured. With {@code
 * --fresh-sandbox} the sandbox is killed before each relayed round, so every round runs in a new
 * runner while the daemon stays as warm as the warm-up made it: a long-running daemon serving a
 * sandbox that has just started, the common case in use.
 *
 * <p>{@code --cpu-millicores N} sets the sandbox's CPU quota ({@code sandbox.cpu_millicores} of the
 * agent's policy; 0 is none) instead of the default one CPU: a diagnosis of whether the quota that
 * the runner and curl share is what limits a download, not a documented set-up.
 */
public final class EgressBench {
    private static final String AGENT = "main";

    private EgressBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Options.parse(args, List.of("--keep", "--fresh-sandbox"));
        boolean freshSandbox = options.containsKey("--fresh-sandbox");
        int rounds = Integer.parseInt(options.getOrDefault("--rounds", "5"));
        int requests = Integer.parseInt(options.getOrDefault("--requests", "40"));
        int bigMb = Integer.parseInt(options.getOrDefault("--big-mb", "100"));
        int bigRuns = Integer.parseInt(options.getOrDefault("--big-runs", "3"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "3"));
        String cpu = options.get("--cpu-millicores");
        String cpuLine = cpu == null ? "" : "  cpu_millicores: " + Integer.parseInt(cpu) + "\n";
        Path runnerLib = Options.runnerLib(options);
        Path root = Files.createTempDirectory("ce");
        System.setProperty("cordon.logdir", root.resolve("logs").toString());
        System.out.printf(
                "EgressBench: %d warm-up requests, %d rounds x %d small requests, %d x %d MB; %s, %d CPUs; load %s%n",
                warmup,
                rounds,
                requests,
                bigRuns,
                bigMb,
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Stats.load());
        HttpServer origin = origin(bigMb);
        int port = origin.getAddress().getPort();
        String small = "http://127.0.0.1:" + port + "/small";
        String big = "http://127.0.0.1:" + port + "/big";
        Stats direct = new Stats("direct on the host");
        Stats bare = new Stats("two bare relays (floor)");
        Stats relayed = new Stats("sandbox -> relay -> proxy");
        List<Double> directMbps = new ArrayList<>();
        List<Double> floorMbps = new ArrayList<>();
        List<Double> relayedMbps = new ArrayList<>();
        List<Double> runnerCpuMillis = new ArrayList<>();
        List<Double> curlCpuMillis = new ArrayList<>();
        List<Double> directCurlCpuMillis = new ArrayList<>();
        double hostCpuDirect;
        double hostCpuRelayed;
        try (FakeModelServer model = FakeModelServer.start();
                RelayFloor floor = RelayFloor.start(origin.getAddress(), root)) {
            String floorSmall = "http://127.0.0.1:" + floor.port() + "/small";
            Path home = root.resolve("home");
            Files.createDirectories(home.resolve("agents").resolve(AGENT));
            Files.writeString(
                    home.resolve("agents").resolve(AGENT).resolve("policy.yaml"),
                    "sandbox:\n  memory_mb: 1024\n" + cpuLine + "egress:\n  allow:\n    - {host: 127.0.0.1, port: "
                            + port + "}\n");
            Daemon daemon = Daemon.start(
                    home,
                    Map.of(
                            "ANTHROPIC_API_KEY",
                            "bench-key",
                            "ANTHROPIC_BASE_URL",
                            model.baseUrl().toString()),
                    runnerLib);
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                client.attach(AGENT);
                // Warm-up, not measured: the first turn starts the sandbox. With a large --warmup the
                // relay's and the proxy's code is compiled (C2) before the timed rounds.
                inSandbox(client, model, loop(small, warmup));
                onHost(loop(small, warmup));
                onHost(loop(floorSmall, warmup));
                for (int r = 0; r < rounds; r++) {
                    for (double s : onHost(loop(small, requests))) {
                        direct.add((long) (s * 1e9));
                    }
                    for (double s : onHost(loop(floorSmall, requests))) {
                        bare.add((long) (s * 1e9));
                    }
                    if (freshSandbox) {
                        killSandboxes(daemon);
                    }
                    for (double s : numbers(inSandbox(client, model, loop(small, requests)))) {
                        relayed.add((long) (s * 1e9));
                    }
                }
                long cpuBefore = hostCpuNanos();
                String directDownloads = onHostText(download(big, bigRuns));
                hostCpuDirect = (hostCpuNanos() - cpuBefore) / 1e6 / bigRuns;
                for (double v : numbers(directDownloads)) {
                    directMbps.add(v / 1e6);
                }
                directCurlCpuMillis.addAll(cpuMillis(directDownloads, "curlcpu"));
                for (double v : onHost(download("http://127.0.0.1:" + floor.port() + "/big", bigRuns))) {
                    floorMbps.add(v / 1e6);
                }
                cpuBefore = hostCpuNanos();
                String relayedDownloads = inSandbox(client, model, download(big, bigRuns));
                hostCpuRelayed = (hostCpuNanos() - cpuBefore) / 1e6 / bigRuns;
                for (double v : numbers(relayedDownloads)) {
                    relayedMbps.add(v / 1e6);
                }
                runnerCpuMillis.addAll(cpuMillis(relayedDownloads, "cpu"));
                curlCpuMillis.addAll(cpuMillis(relayedDownloads, "curlcpu"));
            } finally {
                daemon.close();
                origin.stop(0);
                BenchHomes.cleanUp(root, options);
            }
        }
        System.out.printf(
                Locale.ROOT, "%-30s %5s %9s %9s %9s%n", "small request (curl time_total)", "n", "median", "p95", "p99");
        for (Stats s : List.of(direct, bare, relayed)) {
            System.out.printf(
                    Locale.ROOT,
                    "%-30s %5d %8.3fms %8.3fms %8.3fms%n",
                    s.name(),
                    s.count(),
                    s.medianMillis(),
                    s.percentileMillis(95),
                    s.percentileMillis(99));
        }
        System.out.printf(
                Locale.ROOT,
                "added per request: %.3f ms at the median (ratio %.2fx)%n",
                relayed.medianMillis() - direct.medianMillis(),
                relayed.medianMillis() / direct.medianMillis());
        System.out.printf(
                Locale.ROOT,
                "added by the two bare relays: %.3f ms at the median (ratio %.2fx)%n",
                bare.medianMillis() - direct.medianMillis(),
                bare.medianMillis() / direct.medianMillis());
        double d = median(directMbps);
        double f = median(floorMbps);
        double v = median(relayedMbps);
        System.out.printf(
                Locale.ROOT,
                "%d MB download: direct %.0f MB/s, two bare relays %.0f MB/s (%.0f%% of direct), through the relay"
                        + " %.0f MB/s (%.0f%% of direct, %.0f%% of the bare relays); runs %s / %s / %s%n",
                bigMb,
                d,
                f,
                100 * f / d,
                v,
                100 * v / d,
                100 * v / f,
                directMbps,
                floorMbps,
                relayedMbps);
        System.out.printf(
                Locale.ROOT,
                "runner CPU per %d MB download: median %.0f ms (%.2f ms per MB); runs %s%n",
                bigMb,
                median(runnerCpuMillis),
                median(runnerCpuMillis) / bigMb,
                runnerCpuMillis);
        System.out.printf(
                Locale.ROOT,
                "curl CPU per %d MB download: in the sandbox (shares its quota) median %.0f ms, runs %s;"
                        + " on the host median %.0f ms%n",
                bigMb,
                median(curlCpuMillis),
                curlCpuMillis,
                median(directCurlCpuMillis));
        System.out.printf(
                Locale.ROOT,
                "this JVM's CPU per %d MB download (the origin; relayed also the daemon's proxy and channel):"
                        + " direct %.0f ms, relayed %.0f ms%n",
                bigMb,
                hostCpuDirect,
                hostCpuRelayed);
    }

    /**
     * A bash loop printing curl's download speed per run, each followed by a {@code cpu} line: the
     * CPU time (ms, user + system, all threads) that the nearest {@code java} ancestor spent during
     * it. In the sandbox that is the runner, whose relay work is what the one-CPU quota limits; the
     * CPU time is far less sensitive to the machine's load than the speed is. Then a {@code curlcpu}
     * line: curl's own CPU time (the shell's reaped children), which shares that quota.
     */
    private static String download(String url, int runs) {
        return "r=$PPID; while [ $r -gt 1 ] && [ \"$(cat /proc/$r/comm)\" != java ]; do"
                + " r=$(awk '{print $4}' /proc/$r/stat); done; t=$(getconf CLK_TCK);"
                + " cpu() { awk '{print $14+$15}' /proc/$r/stat; }; kids() { awk '{print $16+$17}' /proc/$$/stat; };"
                + " for i in $(seq " + runs
                + "); do a=$(cpu); k=$(kids); curl -s -o /dev/null -w '%{speed_download}\\n' "
                + url
                + "; echo \"cpu $(( ($(cpu) - a) * 1000 / t ))\"; echo \"curlcpu $(( ($(kids) - k) * 1000 / t ))\";"
                + " done";
    }

    /** A bash loop printing curl's total time per request, one per line. */
    private static String loop(String url, int n) {
        return "for i in $(seq " + n + "); do curl -s -o /dev/null -w '%{time_total}\\n' " + url + "; done";
    }

    /** Kills every live sandbox; the agent's next message starts a new one. */
    private static void killSandboxes(Daemon daemon) throws IOException, InterruptedException {
        try (ControlClient control = new ControlClient(daemon.controlSocket())) {
            for (ControlEvent.LiveSandbox row : control.status().sandboxes()) {
                control.send(new ControlRequest.SessionsKill(row.session()));
                control.await(ControlEvent.Done.class);
            }
            control.awaitLive(0, Duration.ofSeconds(30));
        }
    }

    private static List<Double> onHost(String script) throws IOException, InterruptedException {
        return numbers(onHostText(script));
    }

    /** CPU time this JVM (the origin and the daemon) has used, all threads. */
    private static long hostCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static String onHostText(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("host loop failed: " + out);
        }
        return out;
    }

    /**
     * Runs {@code script} as one bash tool call in the agent's sandbox. curl there goes through
     * the proxy explicitly: the sandbox's NO_PROXY lists 127.0.0.1, which here means the host's.
     */
    private static String inSandbox(ControlClient client, FakeModelServer model, String script) throws Exception {
        String viaProxy = script.replace("curl -s", "curl -s --noproxy '' -x http://127.0.0.1:3128");
        int asked = model.requests().size();
        model.enqueue(Scripted.toolCall(
                "bash", "{\"command\":" + Wire.mapper().writeValueAsString(viaProxy) + ",\"timeout_ms\":600000}"));
        // Acked, and checked to answer this message: a reply left unacked is sent again, and a long
        // run (or a profiler slowing it) once took such a copy of the last turn's for this one's.
        ControlEvent.Reply reply = client.exchange(AGENT, "run it").reply();
        if (reply.failed()) {
            throw new IllegalStateException("the turn failed: " + reply.text());
        }
        List<RecordedRequest> requests = model.requests();
        // The tool's result reaches the model in the turn's second request; without one, the last
        // request is an earlier turn's, whose timings must not pass for this one's.
        if (requests.size() < asked + 2) {
            throw new IllegalStateException(
                    "the turn ended without passing the tool's result to the model: " + reply.text());
        }
        String result = lastToolResult(requests.getLast().body());
        if (numbers(result).isEmpty()) {
            throw new IllegalStateException("no timings in the tool result: " + result);
        }
        return result;
    }

    private static String lastToolResult(JsonNode body) {
        String last = "";
        for (JsonNode message : body.get("messages")) {
            for (JsonNode block : message.path("content")) {
                if ("tool_result".equals(block.path("type").asString())) {
                    JsonNode c = block.get("content");
                    StringBuilder text = new StringBuilder();
                    if (c.isString()) {
                        text.append(c.asString());
                    } else {
                        c.forEach(part -> text.append(part.path("text").asString()));
                    }
                    last = text.toString();
                }
            }
        }
        return last;
    }

    private static List<Double> numbers(String text) {
        List<Double> values = new ArrayList<>();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.matches("[0-9]+(\\.[0-9]+)?")) {
                values.add(Double.parseDouble(t));
            }
        }
        return values;
    }

    /** The values of the {@code KEY N} lines {@link #download} prints ({@code cpu}, {@code curlcpu}). */
    private static List<Double> cpuMillis(String text, String key) {
        List<Double> values = new ArrayList<>();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.matches(key + " [0-9]+")) {
                values.add(Double.parseDouble(t.substring(key.length() + 1)));
            }
        }
        return values;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }

    private static HttpServer origin(int bigMb) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        byte[] small = "x".repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] block = new byte[1 << 20];
        AtomicLong served = new AtomicLong();
        server.createContext("/small", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, small.length);
            exchange.getResponseBody().write(small);
            exchange.close();
        });
        server.createContext("/big", exchange -> {
            exchange.sendResponseHeaders(200, (long) bigMb << 20);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < bigMb; i++) {
                    out.write(block);
                }
            }
            served.incrementAndGet();
        });
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return server;
    }
}
