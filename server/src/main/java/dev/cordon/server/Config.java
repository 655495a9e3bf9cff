package dev.cordon.server;

import dev.cordon.core.budget.Price;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.session.SessionManager;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import dev.cordon.sandbox.mounts.AllowedRoot;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The daemon's configuration: {@code cordon.yaml} in the home, overridden by the environment.
 * Invalid files are rejected with the file, the field and the reason; a missing model is not an
 * error but a {@link #modelProblem} the CLI shows to the user.
 *
 * @param model the configured model, or null (then {@code modelProblem} says what to set)
 * @param apiKey the provider key; stays in the daemon, never enters a sandbox
 * @param prices the operator's model prices ({@code prices:}), on top of the built-in list
 * @param store which store to open ({@code store:}, docs/store.md)
 */
record Config(
        ModelSettings model,
        URI baseUrl,
        String apiKey,
        String modelProblem,
        int uidBase,
        Duration idleTimeout,
        Duration toolTimeout,
        int runnerHeapMb,
        Duration heartbeatTimeout,
        int maxLive,
        long maxMemoryBytes,
        Duration stopGrace,
        Limits limits,
        Set<Limit> unenforcedLimits,
        DiskQuota diskQuota,
        List<AllowedRoot> mountAllowlist,
        Duration approvalTimeout,
        boolean auditMessageBodies,
        Map<String, Price> prices,
        StoreChoice store) {

    /**
     * The default workspace quota and the operator's opt-out for hosts that cannot enforce one.
     *
     * @param bytes 0 for no quota
     * @param unenforcedAllowed {@code disk} is in {@code sandbox.unenforced_limits}
     */
    record DiskQuota(long bytes, boolean unenforcedAllowed) {}

    static final Duration DEFAULT_TOOL_TIMEOUT = Duration.ofMinutes(15);
    /** How long an idle sandbox stays up unless {@code sandbox.idle_timeout_seconds} says otherwise. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** The longest idle timeout, in cordon.yaml or a policy: a week. */
    static final int MAX_IDLE_SECONDS = 86_400 * 7;

    static final Duration DEFAULT_APPROVAL_TIMEOUT = Duration.ofMinutes(10);
    static final String DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5";
    static final String DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
    static final int DEFAULT_DISK_MB = 10_240;
    static final int DEFAULT_MAX_LIVE = 64;

    /** Without {@code sandbox.max_memory_mb}: 80 % of this host's memory. */
    static long defaultMaxMemory() {
        long total = ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return Math.max(1L << 30, total / 10 * 8);
    }

    private static final Set<String> OPT_OUTS = Set.of("memory", "pids", "cpu", "disk");
    private static final Set<String> TOP_LEVEL = Set.of(
            "model",
            "sandbox",
            "runner",
            "approvals",
            "audit",
            "prices",
            "channels",
            "store",
            "http",
            "hooks",
            "kubernetes",
            "logging",
            "tracing",
            "files");

    /**
     * Loads {@code home/cordon.yaml} (optional) and applies {@code env} on top. The {@code channels}
     * block is {@link ChannelSettings}'s to read.
     */
    static Config load(Path home, Map<String, String> env) {
        Path file = home.resolve("cordon.yaml");
        JsonNode root = null;
        if (Files.exists(file)) {
            try {
                root = new YAMLMapper().readTree(Files.readString(file));
            } catch (JacksonException e) {
                throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage()
                        + (e.getLocation() == null
                                ? ""
                                : " (line " + e.getLocation().getLineNr() + ")"));
            } catch (IOException e) {
                throw new ConfigException(file + ": cannot read: " + e.getMessage());
            }
            if (root != null && (root.isMissingNode() || root.isNull())) {
                root = null; // empty or all comments: the same as no file
            }
        }
        Reader r = new Reader(file, root);
        r.onlyKeys("", TOP_LEVEL);
        r.onlyKeys("model", Set.of("api", "name", "base_url", "api_key", "max_tokens"));
        r.onlyKeys(
                "sandbox",
                Set.of(
                        "uid_base",
                        "backend",
                        "idle_timeout_seconds",
                        "max_live",
                        "max_memory_mb",
                        "stop_grace_seconds",
                        "tool_timeout_seconds",
                        "memory_mb",
                        "pids",
                        "cpu_millicores",
                        "disk_mb",
                        "unenforced_limits",
                        "mount_allowlist"));
        r.onlyKeys("runner", Set.of("heap_mb", "heartbeat_timeout_seconds"));
        r.onlyKeys("approvals", Set.of("timeout_seconds"));
        r.onlyKeys("audit", Set.of("message_bodies"));
        r.onlyKeys("store", Set.of("kind", "url", "user", "password_secret"));
        r.onlyKeys("logging", Set.of("format"));
        // logging: is applied by Main before the daemon starts; checked here too
        r.attempt(() -> LogFormat.load(file), LogFormat.TEXT);
        int before = r.problems.size();
        String storeKind = r.text("store.kind");
        String storeUrl = r.text("store.url");
        String storeUser = r.text("store.user");
        String storeSecret = r.text("store.password_secret");
        // A field that is not text is its own mistake; judging the block without it would add a second.
        StoreChoice store = r.problems.size() > before
                ? null
                : r.attempt(() -> StoreChoice.of(file, storeKind, storeUrl, storeUser, storeSecret), null);

        String apiName = r.text("model.api");
        ModelApi api;
        if (apiName != null) {
            api = switch (apiName.toLowerCase(Locale.ROOT)) {
                case "anthropic" -> ModelApi.ANTHROPIC;
                case "openai" -> ModelApi.OPENAI;
                default -> r.problem("model.api: expected 'anthropic' or 'openai', got '" + apiName + "'", null);
            };
        } else if (present(env, "ANTHROPIC_API_KEY") || present(env, "ANTHROPIC_BASE_URL")) {
            api = ModelApi.ANTHROPIC;
        } else if (present(env, "OPENAI_API_KEY") || present(env, "OPENAI_BASE_URL")) {
            api = ModelApi.OPENAI;
        } else {
            api = null;
        }
        int uidBase = r.integer("sandbox.uid_base", 200_000, 1000, 2_000_000_000);
        // Every sandbox's default caps; an agent's policy.yaml may set its own. 0 = unlimited.
        Limits limits = new Limits(
                r.integer("sandbox.memory_mb", (int) (Limits.DEFAULTS.memoryBytes() >> 20), 0, 1 << 20) * (1L << 20),
                r.integer("sandbox.pids", Limits.DEFAULTS.maxPids(), 0, 1 << 22),
                r.integer("sandbox.cpu_millicores", Limits.DEFAULTS.cpuMillicores(), 0, 1 << 20));
        if (limits.memoryBytes() != 0 && limits.memoryBytes() < 16L << 20) {
            r.problem("sandbox.memory_mb must be 0 (unlimited) or at least 16");
        }
        if (limits.cpuMillicores() != 0 && limits.cpuMillicores() < 10) {
            r.problem("sandbox.cpu_millicores must be 0 (unlimited) or at least 10");
        }
        Set<String> optOuts = r.limitNames("sandbox.unenforced_limits");
        Set<Limit> unenforced = java.util.EnumSet.noneOf(Limit.class);
        optOuts.stream()
                .filter(n -> !n.equals("disk"))
                .forEach(n -> unenforced.add(Limit.valueOf(n.toUpperCase(Locale.ROOT))));
        // A sparse image per agent: the host's disk is only used as the agent writes.
        long disk = r.integer("sandbox.disk_mb", DEFAULT_DISK_MB, 0, 1 << 24) * (1L << 20);
        if (disk != 0 && disk < WorkspaceQuota.MIN_BYTES) {
            r.problem("sandbox.disk_mb must be 0 (no quota) or at least " + (WorkspaceQuota.MIN_BYTES >> 20));
        }
        DiskQuota diskQuota = new DiskQuota(disk, optOuts.contains("disk"));
        List<AllowedRoot> allowlist = r.allowedRoots("sandbox.mount_allowlist");
        Duration idle = Duration.ofSeconds(
                r.integer("sandbox.idle_timeout_seconds", (int) DEFAULT_IDLE_TIMEOUT.toSeconds(), 1, MAX_IDLE_SECONDS));
        // Longer than the runner's own 10-minute bash ceiling, so it only fires when that one failed.
        Duration toolTimeout = Duration.ofSeconds(
                r.integer("sandbox.tool_timeout_seconds", (int) DEFAULT_TOOL_TIMEOUT.toSeconds(), 1, 86_400));
        int heap = r.integer("runner.heap_mb", 256, 32, 65_536);
        // Admission control (docs/sessions.md): live sandboxes and the memory limits committed to them.
        int maxLive = r.integer("sandbox.max_live", DEFAULT_MAX_LIVE, 1, 100_000);
        int maxMemoryMb = r.integer("sandbox.max_memory_mb", 0, 0, 1 << 30);
        long maxMemory = maxMemoryMb == 0 ? defaultMaxMemory() : (long) maxMemoryMb << 20;
        // cordon stop waits 30 s for the daemon to be gone: the default grace leaves it time to stop.
        Duration stopGrace = Duration.ofSeconds(r.integer("sandbox.stop_grace_seconds", 20, 0, 600));
        // A runner sends a heartbeat every 2 s during a turn; this much silence means it is hung.
        Duration heartbeat = Duration.ofSeconds(r.integer(
                "runner.heartbeat_timeout_seconds",
                (int) SessionManager.DEFAULT_HEARTBEAT_TIMEOUT.toSeconds(),
                5,
                3_600));
        // How long a question waits for a person before it is denied: up to a week.
        Duration approvalTimeout = Duration.ofSeconds(
                r.integer("approvals.timeout_seconds", (int) DEFAULT_APPROVAL_TIMEOUT.toSeconds(), 1, 86_400 * 7));
        // Off by default: the log records decisions, not conversations (docs/audit.md).
        boolean bodies = r.bool("audit.message_bodies", false);
        Map<String, Price> prices = r.prices("prices");
        // Read every model field now, so a mistake in the file is reported even before a key is set.
        String fileKey = r.text("model.api_key");
        String fileBase = firstNonBlank(r.text("model.base_url"));
        URI fileUrl = fileBase == null ? null : r.attempt(() -> httpUrl(fileBase, file + ": model.base_url"), null);
        String fileName = r.text("model.name");
        int maxTokens = r.integer("model.max_tokens", 8192, 1, 1_000_000);
        String prefix = api == ModelApi.ANTHROPIC ? "ANTHROPIC" : "OPENAI";
        String envBase = api == null ? null : firstNonBlank(env.get(prefix + "_BASE_URL"));
        URI envUrl = envBase == null ? null : r.attempt(() -> httpUrl(envBase, prefix + "_BASE_URL"), null);
        r.check();
        Config none = new Config(
                null,
                null,
                null,
                noModel(home),
                uidBase,
                idle,
                toolTimeout,
                heap,
                heartbeat,
                maxLive,
                maxMemory,
                stopGrace,
                limits,
                unenforced,
                diskQuota,
                allowlist,
                approvalTimeout,
                bodies,
                prices,
                store);
        if (api == null) {
            return none;
        }
        String key = Objects.requireNonNullElse(firstNonBlank(env.get(prefix + "_API_KEY"), fileKey), "");
        URI baseUrl;
        if (envUrl != null) {
            baseUrl = envUrl;
        } else if (fileUrl != null) {
            baseUrl = fileUrl;
        } else {
            baseUrl = URI.create(api == ModelApi.ANTHROPIC ? "https://api.anthropic.com" : "https://api.openai.com/v1");
        }
        if (key.isEmpty() && baseUrl.getHost() != null && baseUrl.getHost().endsWith("api.anthropic.com")) {
            return none;
        }
        if (key.isEmpty() && baseUrl.getHost() != null && baseUrl.getHost().endsWith("api.openai.com")) {
            return none;
        }
        String name = firstNonBlank(
                env.get("CORDON_MODEL"),
                fileName,
                api == ModelApi.ANTHROPIC ? DEFAULT_ANTHROPIC_MODEL : DEFAULT_OPENAI_MODEL);
        return new Config(
                new ModelSettings(api, name, maxTokens),
                baseUrl,
                key,
                null,
                uidBase,
                idle,
                toolTimeout,
                heap,
                heartbeat,
                maxLive,
                maxMemory,
                stopGrace,
                limits,
                unenforced,
                diskQuota,
                allowlist,
                approvalTimeout,
                bodies,
                prices,
                store);
    }

    /**
     * {@link #load}, after checking every block of the file, also those that other classes read
     * later ({@code channels}, {@code http}, {@code hooks}, {@code files}, {@code tracing} and
     * {@code kubernetes}): a file with mistakes in several blocks is refused with all of them, one
     * a line, instead of one per attempt to start. Each of those blocks names its first mistake.
     */
    static Config loadChecked(Path home, Map<String, String> env) {
        Path file = home.resolve("cordon.yaml");
        List<String> problems = new ArrayList<>();
        Config config = null;
        try {
            config = load(home, env);
        } catch (ConfigException e) {
            if (!parses(file)) {
                throw e; // the file cannot be read as YAML: the other readers could only say the same
            }
            problems.add(e.getMessage());
        }
        List<Runnable> others = List.of(
                () -> KubernetesChoice.load(file, env),
                () -> ChannelSettings.load(file),
                () -> WebSettings.load(file),
                () -> HookSettings.load(file),
                () -> FileSettings.load(file),
                () -> OtelTracing.endpoint(file));
        for (Runnable check : others) {
            try {
                check.run();
            } catch (ConfigException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(String.join("\n", problems));
        }
        return config;
    }

    private static boolean parses(Path file) {
        if (!Files.exists(file)) {
            return true;
        }
        try {
            new YAMLMapper().readTree(Files.readString(file));
            return true;
        } catch (IOException | JacksonException e) {
            return false;
        }
    }

    /** One line for status: api, model and endpoint — never the key. */
    String describeModel() {
        return model == null
                ? "none"
                : model.api().name().toLowerCase(Locale.ROOT) + " " + model.model() + " at " + baseUrl;
    }

    private static String noModel(Path home) {
        return String.join(
                "\n",
                "No model is configured. Set one of these and run ./cordon again:",
                "  export ANTHROPIC_API_KEY=...      Anthropic (optional: ANTHROPIC_BASE_URL)",
                "  export OPENAI_API_KEY=...         OpenAI, or with OPENAI_BASE_URL any compatible server",
                "                                    (Ollama: OPENAI_BASE_URL=http://127.0.0.1:11434/v1)",
                "  optional: export CORDON_MODEL=<model name>",
                "or write a model: block in " + home.resolve("cordon.yaml") + " (see docs/configuration.md).",
                "To try Cordon with no model at all, run the scripted fake: ./cordon fake-model  (then",
                "  ANTHROPIC_BASE_URL=http://127.0.0.1:8089 ANTHROPIC_API_KEY=fake ./cordon  in another shell).");
    }

    /** Parses a base URL; {@code where} names its source (the variable, or the file and field). */
    private static URI httpUrl(String text, String where) {
        try {
            URI url = URI.create(text);
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("scheme must be http or https");
            }
            if (url.getHost() == null) {
                throw new IllegalArgumentException("no host");
            }
            return url;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": '" + text + "' is not a valid http(s) URL (" + e.getMessage() + ")");
        }
    }

    private static boolean present(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }

    /**
     * Typed access to the YAML tree. A wrong value is noted as a problem naming the file and the
     * field, and its default stands in, so that one reading finds every mistake; {@link #check}
     * then refuses the file with all of them.
     */
    private static final class Reader {
        private final Path file;
        private final JsonNode root;
        private final List<String> problems = new ArrayList<>();

        Reader(Path file, JsonNode root) {
            this.file = file;
            this.root = root;
        }

        /** Notes a problem (the file's name is prefixed) and returns {@code fallback}. */
        <T> T problem(String message, T fallback) {
            problems.add(file + ": " + message);
            return fallback;
        }

        void problem(String message) {
            problem(message, null);
        }

        /** Runs a check of another class's, noting its {@link ConfigException} as a problem. */
        <T> T attempt(java.util.function.Supplier<T> read, T fallback) {
            try {
                return read.get();
            } catch (ConfigException e) {
                problems.add(e.getMessage());
                return fallback;
            }
        }

        /** Refuses the file with every problem noted, one a line, in the order they were read. */
        void check() {
            if (!problems.isEmpty()) {
                throw new ConfigException(String.join("\n", problems));
            }
        }

        JsonNode node(String path) {
            JsonNode n = root;
            for (String part : path.split("\\.")) {
                if (n == null || !n.isObject()) {
                    return null;
                }
                n = n.get(part);
            }
            return n == null || n.isNull() ? null : n;
        }

        void onlyKeys(String path, Set<String> allowed) {
            JsonNode n = path.isEmpty() ? root : node(path);
            if (n == null) {
                return;
            }
            if (!n.isObject()) {
                problem((path.isEmpty() ? "the file" : path) + " must be a mapping");
                return;
            }
            for (Iterator<String> it = n.propertyNames().iterator(); it.hasNext(); ) {
                String key = it.next();
                if (!allowed.contains(key)) {
                    problem("unknown field '" + (path.isEmpty() ? key : path + "." + key) + "' (known: "
                            + String.join(", ", allowed.stream().sorted().toList()) + ")");
                }
            }
        }

        boolean bool(String path, boolean fallback) {
            JsonNode n = node(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isBoolean()) {
                return problem(path + " must be true or false, got " + n, fallback);
            }
            return n.asBoolean();
        }

        String text(String path) {
            JsonNode n = node(path);
            if (n == null) {
                return null;
            }
            if (!n.isValueNode()) {
                return problem(path + " must be a string", null);
            }
            return n.asString();
        }

        /** The operator's mount allowlist: [{path, mode: ro|rw, allow_credentials}]. */
        List<AllowedRoot> allowedRoots(String path) {
            JsonNode n = node(path);
            if (n == null) {
                return List.of();
            }
            if (!n.isArray()) {
                return problem(path + " must be a list of {path, mode}", List.of());
            }
            List<AllowedRoot> roots = new ArrayList<>();
            int i = 0;
            for (JsonNode entry : n) {
                String where = path + "[" + i++ + "]";
                if (!entry.isObject()) {
                    problem(where + " must be a mapping {path, mode}");
                    continue;
                }
                for (Iterator<String> it = entry.propertyNames().iterator(); it.hasNext(); ) {
                    String key = it.next();
                    if (!Set.of("path", "mode", "allow_credentials").contains(key)) {
                        problem("unknown field '" + where + "." + key + "' (known: allow_credentials, mode, path)");
                    }
                }
                String p = entry.path("path").asString("");
                String mode = entry.path("mode").asString("ro");
                if (p.isEmpty()) {
                    problem(where + ".path is required");
                    continue;
                }
                if (!mode.equals("ro") && !mode.equals("rw")) {
                    problem(where + ".mode must be ro or rw, got '" + mode + "'");
                    continue;
                }
                roots.add(new AllowedRoot(
                        Path.of(p),
                        mode.equals("rw") ? SandboxSpec.Mode.READ_WRITE : SandboxSpec.Mode.READ_ONLY,
                        entry.path("allow_credentials").asBoolean(false)));
            }
            return roots;
        }

        /**
         * An operator's explicit opt-out: limits a sandbox may run without when the host cannot
         * enforce them ({@code memory}, {@code pids}, {@code cpu}, {@code disk}), lower case.
         */
        Set<String> limitNames(String path) {
            JsonNode n = node(path);
            if (n == null) {
                return Set.of();
            }
            if (!n.isArray()) {
                return problem(path + " must be a list, e.g. [cpu]", Set.of());
            }
            Set<String> names = new java.util.TreeSet<>();
            for (JsonNode item : n) {
                String name = item.asString().toLowerCase(Locale.ROOT);
                if (!OPT_OUTS.contains(name)) {
                    problem(path + ": unknown limit '" + item.asString() + "' (known: memory, pids, cpu, disk)");
                    continue;
                }
                names.add(name);
            }
            return names;
        }

        /**
         * Model prices: {@code model-name: {input, output, cache_read, cache_write}} in US dollars per
         * million tokens; input and output are required, the cache prices default to 0.
         */
        Map<String, Price> prices(String path) {
            JsonNode n = node(path);
            if (n == null) {
                return Map.of();
            }
            if (!n.isObject()) {
                return problem(
                        path + " must be a mapping of model names to {input, output, cache_read, cache_write}",
                        Map.of());
            }
            Map<String, Price> prices = new java.util.TreeMap<>();
            for (Iterator<String> it = n.propertyNames().iterator(); it.hasNext(); ) {
                String model = it.next();
                String where = path + "." + model;
                JsonNode price = n.get(model);
                if (price == null || !price.isObject()) {
                    problem(where
                            + " must be a mapping {input, output, cache_read, cache_write} (USD per million tokens)");
                    continue;
                }
                // Not onlyKeys: model names have dots (gpt-4.1), which node() would take for a path.
                for (Iterator<String> keys = price.propertyNames().iterator(); keys.hasNext(); ) {
                    String key = keys.next();
                    if (!Set.of("input", "output", "cache_read", "cache_write").contains(key)) {
                        problem("unknown field '" + where + "." + key
                                + "' (known: cache_read, cache_write, input, output)");
                    }
                }
                prices.put(
                        model,
                        new Price(
                                dollars(price, where, "input", true),
                                dollars(price, where, "output", true),
                                dollars(price, where, "cache_read", false),
                                dollars(price, where, "cache_write", false)));
            }
            return prices;
        }

        private double dollars(JsonNode price, String where, String field, boolean required) {
            JsonNode v = price.get(field);
            if (v == null || v.isNull()) {
                return required
                        ? problem(where + "." + field + " is required (US dollars per million tokens)", 0.0)
                        : 0;
            }
            if (!v.isNumber() || v.asDouble() < 0 || v.asDouble() >= 1_000_000) {
                return problem(
                        where + "." + field + " must be a number of US dollars per million tokens, from 0, got '" + v
                                + "'",
                        0.0);
            }
            return v.asDouble();
        }

        int integer(String path, int fallback, int min, int max) {
            JsonNode n = node(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
                return problem(
                        path + " must be a whole number from " + min + " to " + max + ", got '" + n + "'", fallback);
            }
            return n.asInt();
        }
    }
}
