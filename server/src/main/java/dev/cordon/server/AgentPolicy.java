package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.message.AgentChannel;
import dev.cordon.core.message.Destination;
import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.session.AgentSetup;
import dev.cordon.core.session.Batching;
import dev.cordon.egress.proxy.EgressRule;
import dev.cordon.egress.proxy.EgressRules;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.McpServer;
import dev.cordon.protocol.ToolRules;
import dev.cordon.sandbox.Sandboxes;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import dev.cordon.sandbox.mounts.MountRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * An agent's own policy file, {@code agents/<name>/policy.yaml}, outside the agent's reach (only
 * its workspace is mounted). Parsed strictly: an unknown field, a wrong type or a value out of
 * range is an error naming {@code file:line:column}, the field path and the reason. The published
 * JSON Schema ({@code policy.schema.json}, printed by {@code cordon policy schema}) describes the
 * same format; {@code PolicySchemaAgreementTest} keeps the two in step. The full format is in
 * {@code docs/policy.md}.
 *
 * <pre>
 * sandbox:
 *   memory_mb: 512        # 0 = unlimited
 *   pids: 256
 *   cpu_millicores: 500   # 1000 = one core
 *   disk_mb: 2048         # workspace quota (a loop-mounted ext4 image); 0 = none
 *   tool_timeout_seconds: 900   # the host kills the sandbox when one round of tool calls runs longer
 *   idle_timeout_seconds: 600   # an idle sandbox hibernates after this long (transcript and workspace kept)
 *   backend: runsc        # bubblewrap (default), runc, crun, podman, runsc (gVisor), vm; docs/isolation.md
 *   isolation: gvisor     # the weakest wall allowed: container, gvisor or vm
 *   image: localhost/agent:1  # with backend: podman only; a local image as root filesystem, never pulled
 *   write_mounts: false   # the policy's consent to read-write mounts (the allowlist must agree too)
 *   mounts:               # extra host folders; each must pass cordon.yaml's sandbox.mount_allowlist
 *     - {host: /srv/data/reports, target: /mnt/reports, mode: ro}
 * tools:                  # in-sandbox tool rules: a guardrail the runner applies, not a boundary
 *   "*": {default: allow}
 *   bash: {default: ask, allow: ["git status*", "ls*"], deny: ["*rm -rf*"]}
 *   write: {deny: ["/etc/**", ".git/**"]}
 *   remember: allow       # the agent's memory file; only a default
 * models: [claude-sonnet-4-5]      # the model names this agent may use; absent = cordon.yaml's model
 * budget:                # model spending limits, UTC days and months; absent or 0 = no limit
 *   daily_usd: 5
 *   monthly_usd: 50
 *   chat_daily_usd: 1    # any one chat, per day
 *   daily_tokens: 2000000
 *   warn_percent: 80     # the owner is told when a limit is this full
 * turns:                 # how queued messages become turns (oldest first)
 *   max_batch: 50        # the most queued messages one turn takes; 1 = a turn per message
 *   gather_ms: 0         # an idle session waits this long after a message before its turn starts
 *   compact_at_tokens: 100000   # older turns are summarized when a turn would send more; 0 = never
 * mcp:                   # MCP servers: stdio ones started inside the sandbox, HTTP ones reached through
 *                        # the egress proxy ({url: https://...}); their tools are mcp__NAME__TOOL
 *   everything: {command: [mcp-server-everything, stdio], env: {LOG_LEVEL: warn}}
 * dlp:                   # the data-loss guard: what happens to something that carries a secret
 *   requests: block      # outbound HTTP the proxy can read: block (403, the default) or redact
 *   replies: redact      # chat replies: redact (the default) or block (withheld, a notice instead)
 * destinations:          # where send_message may send besides the current chat (docs/agents.md)
 *   ops: {channel: irc, chat: "#ops"}
 *   sales: {agent: sales}    # another agent: its reply comes back as a message
 * capabilities:           # host capabilities, all denied unless granted (schedule_tasks is checked)
 *   schedule_tasks: false
 *   create_agents: false
 *   install_mcp: false
 * </pre>
 *
 * <p>An explicit {@code null} (or {@code ~}) anywhere means the same as leaving the field out.
 */
final class AgentPolicy {
    private AgentPolicy() {}

    static final Set<String> SECTIONS = Set.of(
            "sandbox", "tools", "models", "budget", "capabilities", "egress", "dlp", "turns", "mcp", "destinations");
    static final int MAX_DESTINATIONS = 64;
    /** A destination's name, as the agent passes it to send_message. */
    static final java.util.regex.Pattern DESTINATION_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    /** A channel's name as cordon.yaml's channels and the store spell it. */
    static final java.util.regex.Pattern CHANNEL_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9-]{0,31}");

    static final Set<String> DESTINATION_FIELDS = Set.of("channel", "chat", "agent");
    static final int MAX_CHAT_ID = 256;
    static final Set<String> MCP_FIELDS = Set.of("command", "env", "url");
    static final int MAX_MCP_SERVERS = 16;
    static final java.util.regex.Pattern MCP_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    /** A tool rule's key for one MCP tool: {@code mcp__<server>__<tool>}. */
    static final java.util.regex.Pattern MCP_TOOL =
            java.util.regex.Pattern.compile("mcp__[a-z0-9][a-z0-9-]{0,31}__[A-Za-z0-9_-]+");

    static final java.util.regex.Pattern ENV_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    static final Set<String> TURNS_FIELDS = Set.of("max_batch", "gather_ms", "compact_at_tokens");
    /** The least a compaction threshold may be: below it a summary would hardly be shorter. */
    static final long MIN_COMPACT_AT_TOKENS = 1_000;

    static final Set<String> DLP_FIELDS = Set.of("requests", "replies");
    static final Set<String> BUDGET_FIELDS =
            Set.of("daily_usd", "monthly_usd", "chat_daily_usd", "daily_tokens", "warn_percent");
    /** The largest dollar limit a policy may set. */
    static final long MAX_BUDGET_USD = 1_000_000;

    static final Set<String> EGRESS_FIELDS = Set.of("allow", "deny", "secrets");
    static final Set<String> EGRESS_RULE_FIELDS = Set.of("host", "port", "methods", "paths");
    static final int MAX_EGRESS_RULES = 1000;
    static final Set<String> SANDBOX_FIELDS = Set.of(
            "memory_mb",
            "pids",
            "cpu_millicores",
            "disk_mb",
            "tool_timeout_seconds",
            "idle_timeout_seconds",
            "mounts",
            "write_mounts",
            "backend",
            "isolation",
            "image");
    /** Tools whose calls have no subject to match patterns against: they take only a default. */
    static final Set<String> DEFAULT_ONLY_TOOLS = Set.of(
            "remember",
            "skill",
            "web_fetch",
            "schedule_task",
            "list_tasks",
            "cancel_task",
            "send_message",
            "send_file",
            "ask_user",
            "create_agent",
            ToolRules.ANY);
    /** Every tool a rule may name (besides MCP tools): those with command or path patterns, and the rest. */
    static final Set<String> TOOL_NAMES = java.util.stream.Stream.concat(
                    java.util.stream.Stream.of("bash", "read", "write", "edit", "glob", "grep"),
                    DEFAULT_ONLY_TOOLS.stream())
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    static final Set<String> CAPABILITY_FIELDS = Set.of("schedule_tasks", "create_agents", "install_mcp");
    static final int MAX_PATTERNS = 1000;

    /** Everything an agent's policy puts in force. */
    record Policy(
            Sandbox sandbox,
            ToolRules tools,
            List<String> models,
            Budget budget,
            Capabilities capabilities,
            Egress egress,
            Dlp dlp,
            Turns turns,
            List<McpServer> mcp,
            Map<String, Destination> destinations,
            Sources sources) {
        Policy {
            models = List.copyOf(models);
            mcp = List.copyOf(mcp);
            destinations = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(destinations));
        }
    }

    /**
     * How queued messages become turns, and when a long conversation is compacted.
     *
     * @param compactAtTokens 0: never
     */
    record Turns(Batching batching, long compactAtTokens) {
        static final Turns DEFAULTS = new Turns(Batching.DEFAULT, AgentSetup.DEFAULT_COMPACT_AT_TOKENS);
    }

    /** What the data-loss guard does with an outbound request and with a chat reply that carry a secret. */
    record Dlp(DlpAction requests, DlpAction replies) {
        static final Dlp DEFAULTS = new Dlp(DlpAction.REQUESTS_DEFAULT, DlpAction.REPLIES_DEFAULT);
    }

    /**
     * What an agent's policy asks of its sandbox.
     *
     * @param backend the sandbox backend the agent must run in (one of {@code Sandboxes.NAMES}), or
     *     null for the daemon's default
     * @param isolation the weakest wall the agent may run behind, or null for any
     * @param image the podman image that is the sandbox's root filesystem (only with backend podman),
     *     or null for the host's system directories
     */
    record Sandbox(
            Limits limits,
            long diskBytes,
            Duration toolTimeout,
            List<MountRequest> mounts,
            boolean writeMounts,
            String backend,
            Isolation isolation,
            Duration idleTimeout,
            String image) {
        /** What {@code cordon.yaml} gives an agent whose policy says nothing of its sandbox. */
        static Sandbox of(Defaults defaults) {
            return new Sandbox(
                    defaults.limits(),
                    defaults.diskBytes(),
                    defaults.toolTimeout(),
                    List.of(),
                    false,
                    null,
                    null,
                    defaults.idleTimeout(),
                    null);
        }
    }

    /**
     * Host capabilities the policy grants; the host checks {@code scheduleTasks} at every {@code
     * schedule_task}, and no host RPC uses the others yet. Everything defaults to denied. Where the
     * agent may send messages is the policy's {@code destinations}.
     */
    record Capabilities(boolean scheduleTasks, boolean createAgents, boolean installMcp) {
        static final Capabilities NONE = new Capabilities(false, false, false);
    }

    /**
     * Where the agent's sandbox may connect through the egress proxy, and which vault secrets it may
     * use there (docs/egress.md). Without a section: nothing (deny by default), no secrets.
     */
    record Egress(EgressRules rules, List<String> secrets) {
        static final Egress NONE = new Egress(EgressRules.DENY_ALL, List.of());

        Egress {
            secrets = List.copyOf(secrets);
        }
    }

    /**
     * Where each field of the policy file is, by field path ({@code sandbox.memory_mb}): what {@code
     * cordon policy explain} prints. Empty for no file.
     */
    record Sources(Map<String, Integer> lines) {
        static final Sources NONE = new Sources(Map.of());

        Sources {
            lines = Map.copyOf(lines);
        }
    }

    /** The defaults an agent's policy overrides: those of {@code cordon.yaml}. */
    record Defaults(Limits limits, long diskBytes, Duration toolTimeout, Duration idleTimeout) {
        /** {@code cordon.yaml}'s own defaults, with the idle timeout it has when unset. */
        Defaults(Limits limits, long diskBytes, Duration toolTimeout) {
            this(limits, diskBytes, toolTimeout, Config.DEFAULT_IDLE_TIMEOUT);
        }

        static Defaults of(Config config) {
            return new Defaults(
                    config.limits(), config.diskQuota().bytes(), config.toolTimeout(), config.idleTimeout());
        }
    }

    /** What is in force without a policy file: {@code defaults}, no tool rules, no capabilities. */
    static Policy none(Defaults defaults) {
        return new Policy(
                Sandbox.of(defaults),
                ToolRules.NONE,
                List.of(),
                Budget.NONE,
                Capabilities.NONE,
                Egress.NONE,
                Dlp.DEFAULTS,
                Turns.DEFAULTS,
                List.of(),
                Map.of(),
                Sources.NONE);
    }

    /**
     * The whole policy in {@code file}; a missing file means {@link #none}.
     *
     * @throws SandboxException if the file is invalid or unreadable: the message is {@code
     *     file:line:column: field.path: reason}
     */
    static Policy read(Path file, Defaults defaults) {
        if (!Files.exists(file)) {
            return none(defaults);
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SandboxException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), text, defaults);
    }

    /**
     * Parses policy {@code text}; {@code name} is how errors name the file.
     *
     * @throws SandboxException if it is invalid: {@code name:line:column: field.path: reason}, one line
     *     per wrong section (the first error of each), in the file's order; a YAML syntax error alone
     */
    static Policy parse(String name, String text, Defaults defaults) {
        PolicyYaml yaml = PolicyYaml.parse(name, text);
        JsonNode root = yaml.root();
        if (root == null) {
            return none(defaults);
        }
        Parser p = new Parser(yaml);
        Errors errors = new Errors(name);
        errors.check(() -> {
            p.only("", root, SECTIONS);
            return null;
        });
        Map<String, Integer> lines = new TreeMap<>();
        yaml.positions().forEach((path, at) -> lines.put(path, at.line()));
        Sandbox sandbox = errors.check(() -> p.sandbox(field(root, "sandbox"), defaults));
        ToolRules tools = errors.check(() -> p.tools(field(root, "tools")));
        List<String> models = errors.check(() -> p.models(field(root, "models")));
        Budget budget = errors.check(() -> p.budget(field(root, "budget")));
        Capabilities capabilities = errors.check(() -> p.capabilities(field(root, "capabilities")));
        Egress egress = errors.check(() -> p.egress(field(root, "egress")));
        Dlp dlp = errors.check(() -> p.dlp(field(root, "dlp")));
        Turns turns = errors.check(() -> p.turns(field(root, "turns")));
        List<McpServer> mcp = errors.check(() -> p.mcp(field(root, "mcp")));
        Map<String, Destination> destinations = errors.check(() -> p.destinations(field(root, "destinations")));
        errors.throwIfAny();
        return new Policy(
                sandbox,
                tools,
                models,
                budget,
                capabilities,
                egress,
                dlp,
                turns,
                mcp,
                destinations,
                new Sources(lines));
    }

    /**
     * The errors of a policy's sections, gathered so that one check names every section that is
     * wrong rather than the first only. A section stops at its own first error: what follows an
     * error inside one section is often only its consequence.
     */
    private static final class Errors {
        /** The start of an error's message after its file name (PolicyYaml#error). */
        private static final java.util.regex.Pattern LINE_COLUMN =
                java.util.regex.Pattern.compile("(\\d{1,9}):(\\d{1,9}):");

        private final String file;
        private final List<SandboxException> found = new ArrayList<>();

        Errors(String file) {
            this.file = file;
        }

        /** The section's value, or null after recording its error. */
        <T> T check(java.util.function.Supplier<T> section) {
            try {
                return section.get();
            } catch (SandboxException e) {
                found.add(e);
                return null;
            }
        }

        void throwIfAny() {
            if (found.size() == 1) {
                throw found.getFirst();
            }
            if (!found.isEmpty()) {
                throw new SandboxException(found.stream()
                        .sorted(java.util.Comparator.comparingLong(this::position))
                        .map(SandboxException::getMessage)
                        .collect(java.util.stream.Collectors.joining("\n")));
            }
        }

        /** Line and column of an error ({@code file:line:column: ...}) as one sortable number. */
        private long position(SandboxException e) {
            String rest = e.getMessage().startsWith(file + ":") ? e.getMessage().substring(file.length() + 1) : "";
            java.util.regex.Matcher at = LINE_COLUMN.matcher(rest);
            return at.lookingAt()
                    ? Long.parseLong(at.group(1)) * 1_000_000_000L + Long.parseLong(at.group(2))
                    : Long.MAX_VALUE;
        }
    }

    /** The child, or null if absent or an explicit null. */
    private static JsonNode field(JsonNode parent, String name) {
        JsonNode n = parent.get(name);
        return n == null || n.isNull() ? null : n;
    }

    private record Parser(PolicyYaml yaml) {
        Sandbox sandbox(JsonNode sandbox, Defaults defaults) {
            Sandbox none = Sandbox.of(defaults);
            if (sandbox == null) {
                return none;
            }
            only("sandbox", sandbox, SANDBOX_FIELDS);
            Limits base = defaults.limits();
            long memory = number(sandbox, "memory_mb", base.memoryBytes() >> 20, 1 << 20) << 20;
            if (memory != 0 && memory < 4L << 20) {
                throw yaml.error("sandbox.memory_mb", "must be 0 (unlimited) or at least 4, got " + (memory >> 20));
            }
            int pids = (int) number(sandbox, "pids", base.maxPids(), 1 << 22);
            int cpu = (int) number(sandbox, "cpu_millicores", base.cpuMillicores(), 1 << 20);
            if (cpu != 0 && cpu < 10) {
                throw yaml.error("sandbox.cpu_millicores", "must be 0 (unlimited) or at least 10, got " + cpu);
            }
            long toolSeconds = number(
                    sandbox, "tool_timeout_seconds", defaults.toolTimeout().toSeconds(), 86_400);
            if (toolSeconds == 0) {
                throw yaml.error("sandbox.tool_timeout_seconds", "must be at least 1");
            }
            long idleSeconds = number(
                    sandbox, "idle_timeout_seconds", defaults.idleTimeout().toSeconds(), Config.MAX_IDLE_SECONDS);
            if (idleSeconds == 0) {
                throw yaml.error("sandbox.idle_timeout_seconds", "must be at least 1");
            }
            long disk = number(sandbox, "disk_mb", defaults.diskBytes() >> 20, 1 << 24) << 20;
            if (disk != 0 && disk < WorkspaceQuota.MIN_BYTES) {
                throw yaml.error(
                        "sandbox.disk_mb",
                        "must be 0 (no quota) or at least " + (WorkspaceQuota.MIN_BYTES >> 20) + ", got "
                                + (disk >> 20));
            }
            Limits limits;
            try {
                limits = new Limits(memory, pids, cpu);
            } catch (IllegalArgumentException e) {
                throw yaml.error("sandbox", e.getMessage());
            }
            boolean write = bool(sandbox, "sandbox", "write_mounts");
            List<MountRequest> mounts = new ArrayList<>();
            JsonNode list = field(sandbox, "mounts");
            if (list != null) {
                if (!list.isArray()) {
                    throw yaml.error("sandbox.mounts", "must be a list of {host, target, mode}");
                }
                int i = 0;
                for (JsonNode m : list) {
                    String where = "sandbox.mounts[" + i++ + "]";
                    only(where, m, Set.of("host", "target", "mode"));
                    String host = text(m, where, "host");
                    String target = text(m, where, "target");
                    String mode = text(m, where, "mode");
                    if (host == null || target == null) {
                        throw yaml.error(where, "needs both host and target");
                    }
                    if (mode != null && !mode.equals("ro") && !mode.equals("rw")) {
                        throw yaml.error(where + ".mode", "must be ro or rw, got '" + mode + "'");
                    }
                    mounts.add(new MountRequest(
                            Path.of(host),
                            target,
                            "rw".equals(mode) ? SandboxSpec.Mode.READ_WRITE : SandboxSpec.Mode.READ_ONLY));
                }
            }
            String backend = text(sandbox, "sandbox", "backend");
            if (backend != null && !Sandboxes.NAMES.contains(backend)) {
                throw yaml.error(
                        "sandbox.backend",
                        "must be one of " + String.join(", ", Sandboxes.NAMES) + ", got '" + backend + "'");
            }
            String wall = text(sandbox, "sandbox", "isolation");
            Isolation isolation = null;
            if (wall != null) {
                try {
                    isolation = Isolation.valueOf(wall.toUpperCase(java.util.Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw yaml.error("sandbox.isolation", "must be one of container, gvisor, vm, got '" + wall + "'");
                }
            }
            if (backend != null
                    && isolation != null
                    && !Sandboxes.isolation(backend).satisfies(isolation)) {
                throw yaml.error(
                        "sandbox.backend",
                        backend + " gives " + lower(Sandboxes.isolation(backend)) + " isolation, weaker than"
                                + " sandbox.isolation: " + lower(isolation));
            }
            String image = text(sandbox, "sandbox", "image");
            if (image != null && !"podman".equals(backend)) {
                throw yaml.error(
                        "sandbox.image",
                        "only the podman backend runs an image; add sandbox.backend: podman"
                                + (backend == null ? "" : " (sandbox.backend is " + backend + ")"));
            }
            if (image != null && !Sandboxes.isImageName(image)) {
                throw yaml.error("sandbox.image", "must be an image name like localhost/agent:1, got '" + image + "'");
            }
            return new Sandbox(
                    limits,
                    disk,
                    Duration.ofSeconds(toolSeconds),
                    mounts,
                    write,
                    backend,
                    isolation,
                    Duration.ofSeconds(idleSeconds),
                    image);
        }

        ToolRules tools(JsonNode tools) {
            if (tools == null) {
                return ToolRules.NONE;
            }
            Set<String> known = new java.util.HashSet<>(TOOL_NAMES);
            tools.propertyNames().forEach(n -> {
                if (MCP_TOOL.matcher(n).matches()) {
                    known.add(n);
                }
            });
            only("tools", tools, known);
            Map<String, ToolRules.Tool> rules = new LinkedHashMap<>();
            for (Iterator<String> it = tools.propertyNames().iterator(); it.hasNext(); ) {
                String name = it.next();
                String where = PolicyYaml.key("tools", name);
                JsonNode tool = tools.get(name);
                if (tool.isNull()) {
                    continue;
                }
                if (tool.isString()) {
                    // Shorthand: `write: deny` is `write: {default: deny}`.
                    rules.put(name, new ToolRules.Tool(action(tool, where), List.of(), List.of(), List.of()));
                    continue;
                }
                boolean any = DEFAULT_ONLY_TOOLS.contains(name)
                        || MCP_TOOL.matcher(name).matches();
                if (!tool.isObject()) {
                    throw yaml.error(
                            where,
                            any
                                    ? "must be allow, ask or deny, or a mapping with default"
                                    : "must be allow, ask or deny, or a mapping of default, allow, ask and deny");
                }
                // "*" has no patterns (a command pattern and a path glob mean different things), nor
                // have remember, skill and web_fetch (no command or path to match).
                only(where, tool, any ? Set.of("default") : Set.of("default", "allow", "ask", "deny"));
                JsonNode fallback = field(tool, "default");
                rules.put(
                        name,
                        new ToolRules.Tool(
                                fallback == null ? null : action(fallback, where + ".default"),
                                patterns(tool, where, "allow"),
                                patterns(tool, where, "ask"),
                                patterns(tool, where, "deny")));
            }
            return new ToolRules(rules);
        }

        List<String> models(JsonNode models) {
            return models == null ? List.of() : names(models, "models", "model names");
        }

        Budget budget(JsonNode budget) {
            if (budget == null) {
                return Budget.NONE;
            }
            only("budget", budget, BUDGET_FIELDS);
            long tokens =
                    field(budget, "daily_tokens") == null ? 0 : wholeNumber(budget, "budget", "daily_tokens", 1L << 50);
            long warn = field(budget, "warn_percent") == null
                    ? Budget.DEFAULT_WARN_PERCENT
                    : wholeNumber(budget, "budget", "warn_percent", 100);
            if (warn < 1) {
                throw yaml.error("budget.warn_percent", "must be from 1 to 100, got 0");
            }
            return new Budget(
                    micros(budget, "daily_usd"),
                    micros(budget, "monthly_usd"),
                    micros(budget, "chat_daily_usd"),
                    tokens,
                    (int) warn);
        }

        private long micros(JsonNode budget, String field) {
            JsonNode n = field(budget, field);
            if (n == null) {
                return 0;
            }
            if (!n.isNumber() || !(n.asDouble() >= 0) || n.asDouble() > MAX_BUDGET_USD) {
                throw yaml.error(
                        "budget." + field,
                        "must be an amount of US dollars from 0 (no limit) to " + MAX_BUDGET_USD + ", got "
                                + describe(n));
            }
            return Math.round(n.asDouble() * 1_000_000);
        }

        private long wholeNumber(JsonNode section, String where, String field, long max) {
            JsonNode n = field(section, field);
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0 || n.asLong() > max) {
                throw yaml.error(
                        where + "." + field, "must be a whole number from 0 to " + max + ", got " + describe(n));
            }
            return n.asLong();
        }

        Capabilities capabilities(JsonNode caps) {
            if (caps == null) {
                return Capabilities.NONE;
            }
            if (caps.isObject() && caps.has("send_to")) {
                throw yaml.error(
                        "capabilities.send_to",
                        "replaced by the destinations section: name each chat or agent the agent may send to there,"
                                + " e.g. destinations: {ops: {channel: irc, chat: \"#ops\"}, sales: {agent: sales}}"
                                + " (docs/policy.md#destinations)");
            }
            only("capabilities", caps, CAPABILITY_FIELDS);
            return new Capabilities(
                    bool(caps, "capabilities", "schedule_tasks"),
                    bool(caps, "capabilities", "create_agents"),
                    bool(caps, "capabilities", "install_mcp"));
        }

        Map<String, Destination> destinations(JsonNode node) {
            if (node == null) {
                return Map.of();
            }
            if (!node.isObject()) {
                throw yaml.error(
                        "destinations",
                        "must be a mapping of names to {channel, chat} or {agent}, got " + describe(node));
            }
            Map<String, Destination> destinations = new LinkedHashMap<>();
            for (String name : node.propertyNames()) {
                String where = PolicyYaml.key("destinations", name);
                if (!DESTINATION_NAME.matcher(name).matches()) {
                    throw yaml.error(
                            where,
                            "'" + name + "' is not a destination name (lower case letters, digits and dashes, at most"
                                    + " 32)");
                }
                if (destinations.size() == MAX_DESTINATIONS) {
                    throw yaml.error(where, "more than " + MAX_DESTINATIONS + " destinations");
                }
                JsonNode d = node.get(name);
                only(where, d, DESTINATION_FIELDS);
                String agent = text(d, where, "agent");
                String channel = text(d, where, "channel");
                String chat = text(d, where, "chat");
                if (agent != null) {
                    if (channel != null || chat != null) {
                        throw yaml.error(where, "is either {agent: NAME} or {channel: NAME, chat: ID}, not both");
                    }
                    try {
                        destinations.put(name, new Destination.Agent(new AgentName(agent)));
                    } catch (IllegalArgumentException e) {
                        throw yaml.error(where + ".agent", e.getMessage());
                    }
                    continue;
                }
                if (channel == null || chat == null) {
                    throw yaml.error(where, "needs {agent: NAME} or both channel and chat");
                }
                if (!CHANNEL_NAME.matcher(channel).matches() || channel.equals(AgentChannel.NAME)) {
                    throw yaml.error(
                            where + ".channel",
                            "'" + channel + "' is not a channel name such as irc, slack or terminal"
                                    + (channel.equals(AgentChannel.NAME) ? " (for an agent write {agent: NAME})" : ""));
                }
                if (chat.length() > MAX_CHAT_ID || chat.chars().anyMatch(Character::isISOControl)) {
                    throw yaml.error(
                            where + ".chat",
                            "must be at most " + MAX_CHAT_ID + " characters, without control characters");
                }
                destinations.put(name, new Destination.Chat(channel, chat));
            }
            return destinations;
        }

        Turns turns(JsonNode turns) {
            if (turns == null) {
                return Turns.DEFAULTS;
            }
            only("turns", turns, TURNS_FIELDS);
            long max = field(turns, "max_batch") == null
                    ? Batching.DEFAULT.maxMessages()
                    : wholeNumber(turns, "turns", "max_batch", Batching.MAX_MESSAGES);
            if (max < 1) {
                throw yaml.error("turns.max_batch", "must be from 1 to " + Batching.MAX_MESSAGES + ", got 0");
            }
            long gather = field(turns, "gather_ms") == null
                    ? Batching.DEFAULT.gather().toMillis()
                    : wholeNumber(turns, "turns", "gather_ms", Batching.MAX_GATHER.toMillis());
            long compact = field(turns, "compact_at_tokens") == null
                    ? AgentSetup.DEFAULT_COMPACT_AT_TOKENS
                    : wholeNumber(turns, "turns", "compact_at_tokens", 100_000_000);
            if (compact != 0 && compact < MIN_COMPACT_AT_TOKENS) {
                throw yaml.error(
                        "turns.compact_at_tokens",
                        "must be 0 (never) or at least " + MIN_COMPACT_AT_TOKENS + ", got " + compact);
            }
            return new Turns(new Batching((int) max, Duration.ofMillis(gather)), compact);
        }

        List<McpServer> mcp(JsonNode mcp) {
            if (mcp == null) {
                return List.of();
            }
            if (!mcp.isObject()) {
                throw yaml.error("mcp", "must be a mapping of server names to {command, env}, got " + describe(mcp));
            }
            List<McpServer> servers = new ArrayList<>();
            for (String name : mcp.propertyNames()) {
                String where = PolicyYaml.key("mcp", name);
                if (!MCP_NAME.matcher(name).matches()) {
                    throw yaml.error(
                            where,
                            "'" + name + "' is not a server name (lower case letters, digits and dashes, at most 32)");
                }
                if (servers.size() == MAX_MCP_SERVERS) {
                    throw yaml.error(where, "more than " + MAX_MCP_SERVERS + " MCP servers");
                }
                JsonNode server = mcp.get(name);
                only(where, server, MCP_FIELDS);
                JsonNode command = field(server, "command");
                JsonNode url = field(server, "url");
                if (url != null) {
                    if (command != null || field(server, "env") != null) {
                        throw yaml.error(where, "has a url, so it is an HTTP server: it takes no command and no env");
                    }
                    servers.add(McpServer.http(name, mcpUrl(where + ".url", url)));
                    continue;
                }
                if (command == null) {
                    throw yaml.error(
                            where,
                            "needs a command (a list: the program, then its arguments) or a url (an HTTP server)");
                }
                if (!command.isArray() || command.isEmpty() || command.size() > 64) {
                    throw yaml.error(where + ".command", "must be a list of 1 to 64 strings, got " + describe(command));
                }
                List<String> words = new ArrayList<>();
                for (int i = 0; i < command.size(); i++) {
                    JsonNode word = command.get(i);
                    if (!word.isString() || word.asString().isEmpty()) {
                        throw yaml.error(
                                where + ".command[" + i + "]", "must be a non-empty string, got " + describe(word));
                    }
                    words.add(word.asString());
                }
                Map<String, String> env = new TreeMap<>();
                JsonNode vars = field(server, "env");
                if (vars != null) {
                    if (!vars.isObject()) {
                        throw yaml.error(
                                where + ".env",
                                "must be a mapping of variable names to strings, got " + describe(vars));
                    }
                    for (String var : vars.propertyNames()) {
                        JsonNode value = vars.get(var);
                        if (!ENV_NAME.matcher(var).matches()) {
                            throw yaml.error(
                                    PolicyYaml.key(where + ".env", var), "is not an environment variable name");
                        }
                        if (!value.isString()) {
                            throw yaml.error(
                                    PolicyYaml.key(where + ".env", var), "must be a string, got " + describe(value));
                        }
                        env.put(var, value.asString());
                    }
                }
                servers.add(new McpServer(name, words, env));
            }
            return servers;
        }

        /** An HTTP MCP server's address: an absolute http or https URL with a host and no credentials. */
        private String mcpUrl(String where, JsonNode url) {
            if (!url.isString()) {
                throw yaml.error(where, "must be an http or https URL, got " + describe(url));
            }
            java.net.URI uri;
            try {
                uri = new java.net.URI(url.asString());
            } catch (java.net.URISyntaxException e) {
                throw yaml.error(where, "is not a URL: " + e.getMessage());
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                    || uri.getHost() == null
                    || uri.getRawUserInfo() != null
                    || uri.getRawFragment() != null) {
                throw yaml.error(
                        where,
                        "must be an http or https URL with a host and no user or fragment, got '" + url.asString()
                                + "'");
            }
            return uri.toString();
        }

        Dlp dlp(JsonNode dlp) {
            if (dlp == null) {
                return Dlp.DEFAULTS;
            }
            only("dlp", dlp, DLP_FIELDS);
            return new Dlp(
                    dlpAction(dlp, "requests", DlpAction.REQUESTS_DEFAULT),
                    dlpAction(dlp, "replies", DlpAction.REPLIES_DEFAULT));
        }

        private DlpAction dlpAction(JsonNode dlp, String field, DlpAction fallback) {
            JsonNode n = field(dlp, field);
            if (n == null) {
                return fallback;
            }
            for (DlpAction a : DlpAction.values()) {
                if (n.isString() && a.word().equals(n.asString())) {
                    return a;
                }
            }
            throw yaml.error("dlp." + field, "must be block or redact, got " + describe(n));
        }

        Egress egress(JsonNode egress) {
            if (egress == null) {
                return Egress.NONE;
            }
            only("egress", egress, EGRESS_FIELDS);
            JsonNode secrets = field(egress, "secrets");
            List<String> names = secrets == null ? List.of() : names(secrets, "egress.secrets", "secret names");
            for (int i = 0; i < names.size(); i++) {
                if (!Vault.NAME.matcher(names.get(i)).matches()) {
                    throw yaml.error(
                            "egress.secrets[" + i + "]",
                            "'" + names.get(i) + "' is not a secret name"
                                    + " (upper case letters, digits and underscores, like GITHUB_TOKEN)");
                }
            }
            return new Egress(new EgressRules(egressRules(egress, "allow"), egressRules(egress, "deny")), names);
        }

        private List<EgressRule> egressRules(JsonNode egress, String list) {
            JsonNode node = field(egress, list);
            if (node == null) {
                return List.of();
            }
            String path = "egress." + list;
            if (!node.isArray()) {
                throw yaml.error(path, "must be a list of rules like {host: api.github.com}, got " + describe(node));
            }
            if (node.size() > MAX_EGRESS_RULES) {
                throw yaml.error(path, "has " + node.size() + " rules; at most " + MAX_EGRESS_RULES);
            }
            List<EgressRule> rules = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                String where = path + "[" + i + "]";
                JsonNode rule = node.get(i);
                only(where, rule, EGRESS_RULE_FIELDS);
                String host = text(rule, where, "host");
                if (host == null) {
                    throw yaml.error(where, "needs a host");
                }
                JsonNode port = field(rule, "port");
                int portNumber = EgressRule.WEB_PORTS;
                if (port != null) {
                    if (port.isString() && port.asString().equals("*")) {
                        portNumber = EgressRule.ANY_PORT;
                    } else if (port.isIntegralNumber()
                            && port.canConvertToInt()
                            && port.asInt() >= 1
                            && port.asInt() <= 65_535) {
                        portNumber = port.asInt();
                    } else {
                        throw yaml.error(
                                where + ".port", "must be a port from 1 to 65535 or '*', got " + describe(port));
                    }
                }
                JsonNode methods = field(rule, "methods");
                JsonNode paths = field(rule, "paths");
                try {
                    rules.add(new EgressRule(
                            where,
                            host,
                            portNumber,
                            Set.copyOf(
                                    methods == null ? List.of() : names(methods, where + ".methods", "HTTP methods")),
                            paths == null ? List.of() : names(paths, where + ".paths", "path globs")));
                } catch (IllegalArgumentException e) {
                    // EgressRule says "egress.allow[0].host: reason": point at that field.
                    String message = e.getMessage();
                    int colon = message.indexOf(": ");
                    String at = colon > 0 && message.startsWith(where) ? message.substring(0, colon) : where;
                    throw yaml.error(at, colon > 0 ? message.substring(colon + 2) : message);
                }
            }
            return rules;
        }

        private ToolRules.Action action(JsonNode node, String where) {
            String word = node.isString() ? node.asString() : null;
            if (word != null) {
                for (ToolRules.Action a : ToolRules.Action.values()) {
                    if (a.word().equals(word)) {
                        return a;
                    }
                }
            }
            throw yaml.error(where, "must be allow, ask or deny, got " + describe(node));
        }

        private List<String> patterns(JsonNode tool, String where, String list) {
            JsonNode node = field(tool, list);
            if (node == null) {
                return List.of();
            }
            String path = where + "." + list;
            if (!node.isArray()) {
                throw yaml.error(path, "must be a list of patterns, got " + describe(node));
            }
            if (node.size() > MAX_PATTERNS) {
                throw yaml.error(path, "has " + node.size() + " patterns; at most " + MAX_PATTERNS);
            }
            List<String> patterns = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode item = node.get(i);
                if (!item.isString() || item.asString().isEmpty()) {
                    throw yaml.error(path + "[" + i + "]", "must be a non-empty pattern string, got " + describe(item));
                }
                patterns.add(item.asString());
            }
            return patterns;
        }

        private List<String> names(JsonNode node, String path, String what) {
            if (!node.isArray()) {
                throw yaml.error(path, "must be a list of " + what + ", got " + describe(node));
            }
            Set<String> names = new LinkedHashSet<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode item = node.get(i);
                if (!item.isString() || item.asString().isBlank()) {
                    throw yaml.error(path + "[" + i + "]", "must be a non-empty name, got " + describe(item));
                }
                if (!names.add(item.asString())) {
                    throw yaml.error(path + "[" + i + "]", "'" + item.asString() + "' is listed twice");
                }
            }
            return List.copyOf(names);
        }

        void only(String where, JsonNode node, Set<String> known) {
            if (!node.isObject()) {
                throw yaml.error(
                        where, (where.isEmpty() ? "the file" : "this") + " must be a mapping, got " + describe(node));
            }
            for (Iterator<String> it = node.propertyNames().iterator(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) {
                    throw yaml.error(
                            PolicyYaml.key(where, key),
                            "unknown field (known here: "
                                    + String.join(
                                            ", ",
                                            known.stream()
                                                    .sorted()
                                                    .map(k -> PolicyYaml.key("", k))
                                                    .toList())
                                    + ")");
                }
            }
        }

        private long number(JsonNode section, String field, long fallback, long max) {
            return field(section, field) == null ? fallback : wholeNumber(section, "sandbox", field, max);
        }

        private boolean bool(JsonNode section, String where, String field) {
            JsonNode n = field(section, field);
            if (n == null) {
                return false;
            }
            if (!n.isBoolean()) {
                throw yaml.error(where + "." + field, "must be true or false, got " + describe(n));
            }
            return n.asBoolean();
        }

        private static String lower(Isolation isolation) {
            return isolation.name().toLowerCase(java.util.Locale.ROOT);
        }

        private String text(JsonNode section, String where, String field) {
            JsonNode n = field(section, field);
            if (n == null) {
                return null;
            }
            if (!n.isString() || n.asString().isEmpty()) {
                throw yaml.error(where + "." + field, "must be a non-empty string, got " + describe(n));
            }
            return n.asString();
        }

        private static String describe(JsonNode n) {
            if (n.isString()) {
                return "'" + n.asString() + "'";
            }
            if (n.isObject()) {
                return "a mapping";
            }
            if (n.isArray()) {
                return "a list";
            }
            return n.toString();
        }
    }
}
