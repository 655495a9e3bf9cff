package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import dev.cordon.egress.proxy.EgressRule;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.ToolRules;
import dev.cordon.sandbox.mounts.MountRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@code cordon policy check FILE | schema | explain AGENT}: validate a policy without applying
 * it, print the published JSON Schema, and print the policy in force for an agent with where each
 * value came from. Reads files only; never changes the home, never audits.
 */
final class PolicyCommand {
    static final String USAGE = """
            usage: cordon policy check FILE      validate an agent's policy.yaml without applying it
                   cordon policy schema          print the policy's JSON Schema (draft 2020-12)
                   cordon policy explain AGENT   the policy in force for AGENT, and where each value came from""";

    private PolicyCommand() {}

    /** Runs the command; exit 0 done (valid), 1 invalid or failed, 2 usage. */
    static int run(Path homeDir, Map<String, String> env, List<String> args, PrintStream out, PrintStream err) {
        String verb = args.isEmpty() ? "" : args.getFirst();
        return switch (verb) {
            case "check" -> args.size() == 2 ? check(homeDir, env, Path.of(args.get(1)), out, err) : usage(err);
            case "schema" -> args.size() == 1 ? schema(out) : usage(err);
            case "explain" -> args.size() == 2 ? explain(homeDir, env, args.get(1), out, err) : usage(err);
            default -> usage(err);
        };
    }

    /** The published JSON Schema of policy.yaml, as it is in the jar. */
    static String schemaText() {
        try (InputStream in = PolicyCommand.class.getResourceAsStream("policy.schema.json")) {
            if (in == null) {
                throw new IllegalStateException("policy.schema.json is missing from the server jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int usage(PrintStream err) {
        err.println(USAGE);
        return 2;
    }

    private static int schema(PrintStream out) {
        out.print(schemaText());
        return 0;
    }

    private static int check(Path homeDir, Map<String, String> env, Path file, PrintStream out, PrintStream err) {
        if (!Files.isRegularFile(file)) {
            err.println("cordon: " + file + ": no such file");
            return 2;
        }
        try {
            AgentPolicy.Policy policy = AgentPolicy.read(file, AgentPolicy.Defaults.of(Config.load(homeDir, env)));
            AgentPolicy.Sandbox p = policy.sandbox();
            out.printf(
                    "%s: valid. In force it would give: memory %s, pids %s, CPU %s, workspace quota %s,"
                            + " tool timeout %d s, %d extra mount(s)%s; %s; models: %s; budget: %s;"
                            + " capabilities granted: %s; destinations: %s%n",
                    file,
                    p.limits().memoryBytes() == 0 ? "unlimited" : (p.limits().memoryBytes() >> 20) + " MiB",
                    p.limits().maxPids() == 0
                            ? "unlimited"
                            : Integer.toString(p.limits().maxPids()),
                    p.limits().cpuMillicores() == 0 ? "unlimited" : p.limits().cpuMillicores() + " millicores",
                    p.diskBytes() == 0 ? "none" : (p.diskBytes() >> 20) + " MiB",
                    p.toolTimeout().toSeconds(),
                    p.mounts().size(),
                    p.mounts().isEmpty() ? "" : " (checked against the allowlist when a sandbox starts)",
                    policy.tools().allowsEverything()
                            ? "every tool call allowed"
                            : "tool rules for "
                                    + String.join(
                                            ", ",
                                            policy.tools().tools().keySet().stream()
                                                    .sorted()
                                                    .toList()),
                    policy.models().isEmpty() ? "the configured model" : String.join(", ", policy.models()),
                    budget(policy.budget()),
                    granted(policy.capabilities()),
                    policy.destinations().isEmpty()
                            ? "only the current chat"
                            : String.join(", ", policy.destinations().keySet()));
            return 0;
        } catch (ConfigException | SandboxException e) {
            out.println(e.getMessage());
            return 1;
        }
    }

    /** "$5.00 a day, $50.00 a month", or "none". */
    private static String budget(Budget b) {
        List<String> parts = new java.util.ArrayList<>();
        if (b.dailyMicros() > 0) {
            parts.add(Budget.dollars(b.dailyMicros()) + " a day");
        }
        if (b.monthlyMicros() > 0) {
            parts.add(Budget.dollars(b.monthlyMicros()) + " a month");
        }
        if (b.chatDailyMicros() > 0) {
            parts.add(Budget.dollars(b.chatDailyMicros()) + " a day per chat");
        }
        if (b.dailyTokens() > 0) {
            parts.add(String.format(java.util.Locale.ROOT, "%,d tokens a day", b.dailyTokens()));
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    private static int explain(
            Path homeDir, Map<String, String> env, String agentName, PrintStream out, PrintStream err) {
        AgentName name;
        try {
            name = new AgentName(agentName);
        } catch (IllegalArgumentException e) {
            err.println("cordon: " + e.getMessage());
            return 2;
        }
        Home home = new Home(homeDir);
        if (!Files.isDirectory(home.agent(name))) {
            err.println("cordon: there is no agent named '" + name + "' in " + home.agents());
            return 1;
        }
        Config config;
        try {
            config = Config.load(homeDir, env);
        } catch (ConfigException e) {
            err.println("cordon: " + e.getMessage());
            return 1;
        }
        Policies.InForce inForce;
        try {
            inForce = Policies.inForce(home, name, AgentPolicy.Defaults.of(config));
        } catch (SandboxException e) {
            err.println("cordon: " + e.getMessage());
            return 1;
        }
        new Explainer(out, home, inForce, cordonYaml(homeDir), config, approvedEgress(home, name)).print(name);
        return inForce.policy() == null ? 1 : 0;
    }

    /**
     * Egress a person allowed for this agent for good (scope {@code always}): such a grant acts as a
     * rule for one host and port, so explain lists it with the policy's own rules: its rows, or a
     * note that says why they cannot be shown.
     */
    private static List<String> approvedEgress(Home home, AgentName agent) {
        Instant now = Instant.now();
        List<Approval> grants;
        StoreChoice choice;
        try {
            choice = StoreChoice.of(home);
        } catch (ConfigException e) {
            return List.of("  (approved egress not shown: " + e.getMessage() + ")");
        }
        if (choice instanceof StoreChoice.Sqlite && !Files.exists(home.database())) {
            return List.of();
        }
        try (Store store = StoreChoice.open(home, choice, java.time.Clock.systemUTC())) {
            grants = store.recentApprovals(10_000).stream()
                    .filter(a -> a.agentName().equals(agent)
                            && a.kind().equals("egress.connect")
                            && a.scope() == Approval.Scope.ALWAYS
                            && a.usable(now))
                    .toList();
        } catch (StoreException | ConfigException e) {
            return List.of("  (approved egress not shown: " + e.getMessage() + ")");
        }
        return grants.stream()
                .map(a -> String.format(
                        "  %-32s %-28s %s",
                        "approval #" + a.id().value(),
                        a.payload().get("host") + ":" + a.payload().get("port"),
                        "approved always by " + a.decidedBy() + " (cordon approvals show " + a.id().value() + ")"))
                .toList();
    }

    private static JsonNode cordonYaml(Path homeDir) {
        Path file = homeDir.resolve("cordon.yaml");
        try {
            JsonNode root = Files.exists(file) ? new YAMLMapper().readTree(Files.readString(file)) : null;
            return root == null || !root.isObject() ? null : root;
        } catch (IOException | RuntimeException e) {
            return null; // Config.load has already read it; if it failed, we never get here
        }
    }

    private static String granted(AgentPolicy.Capabilities c) {
        List<String> granted = new java.util.ArrayList<>();
        if (c.scheduleTasks()) {
            granted.add("schedule_tasks");
        }
        if (c.createAgents()) {
            granted.add("create_agents");
        }
        if (c.installMcp()) {
            granted.add("install_mcp");
        }
        return granted.isEmpty() ? "none" : String.join(", ", granted);
    }

    /**
     * Prints one agent's effective policy, value by value, with the source of each.
     *
     * @param approved the rows of egress approved for good ({@link #approvedEgress}), shown with the rules
     */
    private record Explainer(
            PrintStream out,
            Home home,
            Policies.InForce inForce,
            JsonNode cordonYaml,
            Config config,
            List<String> approved) {
        void print(AgentName name) {
            Policies.InForce f = inForce;
            out.println("Policy of agent " + name);
            Path file = home.agent(name).resolve("policy.yaml");
            if (f.problem() != null) {
                out.println("  WARNING: " + file + " is invalid and NOT in force:");
                out.println("    " + f.problem().replace("\n", "\n    "));
                if (f.policy() == null) {
                    out.println("  No valid version of it was ever kept, so the agent fails closed: no turn runs"
                            + " and no sandbox starts until the file is fixed (cordon policy check " + file + ").");
                    return;
                }
                out.println("  In force instead: the last valid version, version " + f.version() + " (sha256 "
                        + f.sha256() + "), kept at " + f.source());
            } else if (f.version() == 0) {
                out.println("  No policy file (" + file + "): the defaults below are in force.");
            } else if (f.version() < 0) {
                out.println("  In force: " + file + " (sha256 " + f.sha256() + "); valid, and the daemon keeps it"
                        + " as a new version at the agent's next turn or sandbox start.");
            } else {
                out.println("  In force: version " + f.version() + " (sha256 " + f.sha256() + "), " + file);
            }
            AgentPolicy.Policy p = f.policy();
            AgentPolicy.Sandbox s = p.sandbox();
            out.println();
            out.println("sandbox");
            row("sandbox.memory_mb", mb(s.limits().memoryBytes(), "unlimited"), true);
            row("sandbox.pids", zero(s.limits().maxPids(), "unlimited"), true);
            row("sandbox.cpu_millicores", zero(s.limits().cpuMillicores(), "unlimited"), true);
            row("sandbox.disk_mb", mb(s.diskBytes(), "no quota"), true);
            row("sandbox.tool_timeout_seconds", Long.toString(s.toolTimeout().toSeconds()), true);
            row("sandbox.idle_timeout_seconds", Long.toString(s.idleTimeout().toSeconds()), true);
            row("sandbox.write_mounts", Boolean.toString(s.writeMounts()), false);
            row("sandbox.backend", s.backend() == null ? "the daemon's default" : s.backend(), false);
            row(
                    "sandbox.isolation",
                    s.isolation() == null
                            ? "any"
                            : s.isolation().name().toLowerCase(java.util.Locale.ROOT) + " or stronger",
                    false);
            row(
                    "sandbox.image",
                    s.image() == null ? "none (the host's system directories)" : s.image() + " (podman; never pulled)",
                    false);
            if (s.mounts().isEmpty()) {
                row("sandbox.mounts", "none", false);
            }
            for (int i = 0; i < s.mounts().size(); i++) {
                MountRequest m = s.mounts().get(i);
                row(
                        "sandbox.mounts[" + i + "]",
                        m.hostPath() + " -> " + m.target()
                                + (m.mode() == dev.cordon.core.sandbox.SandboxSpec.Mode.READ_WRITE ? " (rw)" : " (ro)"),
                        false);
            }
            out.println();
            out.println("tools (a guardrail the runner applies before each call; the sandbox is the boundary)");
            out.println("  order: deny wins over ask, ask over allow; no match -> the tool's default -> \"*\"'s default"
                    + " -> allow");
            if (p.tools().tools().isEmpty()) {
                row("tools", "every tool call allowed", false);
            }
            p.tools().tools().entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> tool(e.getKey(), e.getValue()));
            out.println();
            ModelSettings model = config.model();
            if (p.models().isEmpty()) {
                String configured = model == null ? "no model configured" : model.model();
                out.printf("  %-32s %-28s %s%n", "models", configured, "cordon.yaml (or the environment)");
            } else {
                row("models", String.join(", ", p.models()), false);
                if (model != null && !p.models().contains(model.model())) {
                    out.println("  NOTE: the configured model '" + model.model()
                            + "' is not listed, so the agent's turns fail until it is.");
                }
            }
            out.println();
            out.println("budget (the model gateway reserves each call's most before it is made; UTC days;"
                    + " ./cordon usage shows spending)");
            Budget b = p.budget();
            row("budget.daily_usd", b.dailyMicros() == 0 ? "no limit" : Budget.dollars(b.dailyMicros()), false);
            row("budget.monthly_usd", b.monthlyMicros() == 0 ? "no limit" : Budget.dollars(b.monthlyMicros()), false);
            row(
                    "budget.chat_daily_usd",
                    b.chatDailyMicros() == 0 ? "no limit" : Budget.dollars(b.chatDailyMicros()),
                    false);
            row(
                    "budget.daily_tokens",
                    b.dailyTokens() == 0 ? "no limit" : String.format(java.util.Locale.ROOT, "%,d", b.dailyTokens()),
                    false);
            row("budget.warn_percent", b.warnPercent() + "%", false);
            out.println();
            out.println("turns (queued messages are handed over oldest first; long conversations are compacted)");
            row("turns.max_batch", Integer.toString(p.turns().batching().maxMessages()), false);
            row(
                    "turns.gather_ms",
                    p.turns().batching().gather().isZero()
                            ? "0 (a turn starts at once)"
                            : p.turns().batching().gather().toMillis() + " ms",
                    false);
            row(
                    "turns.compact_at_tokens",
                    p.turns().compactAtTokens() == 0
                            ? "0 (never compacted)"
                            : String.format(
                                    java.util.Locale.ROOT,
                                    "%,d (estimated)",
                                    p.turns().compactAtTokens()),
                    false);
            out.println();
            out.println("destinations (where send_message may send besides the current chat)");
            if (p.destinations().isEmpty()) {
                out.printf("  %-32s %-28s %s%n", "destinations", "none (only the current chat)", "built-in default");
            }
            p.destinations()
                    .forEach((dest, d) -> row(
                            PolicyYaml.key("destinations", dest),
                            switch (d) {
                                case dev.cordon.core.message.Destination.Chat chat ->
                                    "chat " + chat.channel() + ":" + chat.chat();
                                case dev.cordon.core.message.Destination.Agent agent -> "agent " + agent.agent();
                            },
                            false));
            out.println();
            out.println("shared folders (read-only from other agents, by an admin: cordon agents share)");
            List<Shares.Share> lent = new Shares(home)
                    .all().stream()
                            .filter(share -> share.reader().equals(name.value()))
                            .toList();
            if (lent.isEmpty()) {
                out.printf("  %-32s %-28s %s%n", "shares", "none", "data/shares.json");
            }
            for (Shares.Share share : lent) {
                out.printf(
                        "  %-32s %-28s %s%n",
                        Shares.ROOT + "/" + share.owner() + "/" + share.folder(),
                        share.owner() + "'s " + share.folder(),
                        "data/shares.json (by " + share.grantedBy() + ")");
            }
            out.println();
            out.println("capabilities (all denied unless granted; the host checks schedule_tasks)");
            AgentPolicy.Capabilities c = p.capabilities();
            row("capabilities.schedule_tasks", Boolean.toString(c.scheduleTasks()), false);
            row("capabilities.create_agents", Boolean.toString(c.createAgents()), false);
            row("capabilities.install_mcp", Boolean.toString(c.installMcp()), false);
            out.println();
            out.println("egress (deny wins; what no rule allows is denied)");
            AgentPolicy.Egress e = p.egress();
            if (e.rules().allow().isEmpty() && e.rules().deny().isEmpty()) {
                out.printf(
                        "  %-32s %-28s %s%n",
                        "egress",
                        approved.isEmpty() ? "deny everything" : "deny all but approvals below",
                        "built-in default");
            }
            for (EgressRule r : e.rules().deny()) {
                row(r.label(), r.describe().substring(r.label().length() + 1), false);
            }
            for (EgressRule r : e.rules().allow()) {
                row(r.label(), r.describe().substring(r.label().length() + 1), false);
            }
            approved.forEach(out::println);
            row("egress.secrets", e.secrets().isEmpty() ? "none" : String.join(", ", e.secrets()), false);
            out.println();
            out.println("dlp (the data-loss guard: what happens to something that carries a secret)");
            row("dlp.requests", p.dlp().requests().word(), false);
            row("dlp.replies", p.dlp().replies().word(), false);
        }

        private void tool(String name, ToolRules.Tool t) {
            String base = PolicyYaml.key("tools", name);
            if (t.fallback() != null) {
                Integer line = inForce.policy().sources().lines().get(base + ".default");
                // The shorthand `bash: ask` sets the default on the tool's own line.
                row(line == null ? base : base + ".default", t.fallback().word(), false);
            }
            for (var list :
                    List.of(Map.entry("deny", t.deny()), Map.entry("ask", t.ask()), Map.entry("allow", t.allow()))) {
                for (int i = 0; i < list.getValue().size(); i++) {
                    row(
                            base + "." + list.getKey() + "[" + i + "]",
                            "\"" + list.getValue().get(i) + "\"",
                            false);
                }
            }
        }

        private void row(String path, String value, boolean inCordonYaml) {
            out.printf("  %-32s %-28s %s%n", path, value, source(path, inCordonYaml));
        }

        private String source(String path, boolean inCordonYaml) {
            Integer line = inForce.policy().sources().lines().get(path);
            if (line != null) {
                return inForce.source().getFileName() + ":" + line;
            }
            if (inCordonYaml && cordonYaml != null) {
                JsonNode sandbox = cordonYaml.get("sandbox");
                String field = path.substring(path.indexOf('.') + 1);
                if (sandbox != null
                        && sandbox.get(field) != null
                        && !sandbox.get(field).isNull()) {
                    return "cordon.yaml";
                }
            }
            return "built-in default";
        }

        private static String mb(long bytes, String zero) {
            return bytes == 0 ? "0 (" + zero + ")" : Long.toString(bytes >> 20);
        }

        private static String zero(int value, String zero) {
            return value == 0 ? "0 (" + zero + ")" : Integer.toString(value);
        }
    }
}
