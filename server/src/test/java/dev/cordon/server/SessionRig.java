package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.access.Access;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Approvers;
import dev.cordon.core.approval.Scheduler;
import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.budget.Budgets;
import dev.cordon.core.budget.Prices;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.Router;
import dev.cordon.core.session.Admission;
import dev.cordon.core.session.AgentSetup;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.session.RunnerLauncher;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Store;
import dev.cordon.egress.ModelGateways;
import dev.cordon.protocol.ModelApi;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The host's real session pieces without a daemon: SQLite store and audit log, the agent's policy
 * file, the session manager, the model gateway in front of a fake provider, the router. Only the
 * runner launcher is the test's, so a test can put a hostile or a slow runner behind it.
 */
final class SessionRig implements AutoCloseable {
    static final String KEY = "sk-ant-rig-test";

    final FakeModelServer provider;
    final Store store;
    final AuditLog audit;
    final SessionManager sessions;
    private final ScheduledExecutorService timer;
    private final Router router;

    /** Agent {@code main} with {@code policy} as its policy.yaml, wired to the terminal chat {@code main}. */
    SessionRig(Path homeDir, String policy, RunnerLauncher launcher) throws Exception {
        provider = FakeModelServer.start().requireApiKey(KEY);
        Home home = new Home(homeDir);
        home.create();
        AgentName name = new AgentName("main");
        Files.createDirectories(home.agent(name));
        Files.writeString(home.agent(name).resolve("policy.yaml"), policy);
        Config config = Config.load(
                homeDir,
                Map.of(
                        "ANTHROPIC_API_KEY",
                        KEY,
                        "ANTHROPIC_BASE_URL",
                        provider.baseUrl().toString(),
                        "CORDON_MODEL",
                        "claude-allowed"));
        store = Stores.sqlite(home.database());
        audit = AuditLogs.open(store.audit(), home.auditKey());
        Policies policies = new Policies(home, () -> AgentPolicy.Defaults.of(config), audit, Clock.systemUTC());
        timer = Executors.newSingleThreadScheduledExecutor();
        Delivery delivery = new Delivery(store, List.of(), audit, Clock.systemUTC(), timer);
        sessions = new SessionManager(
                store,
                launcher,
                ModelGateways.builder()
                        .provider(ModelApi.ANTHROPIC, provider.baseUrl(), KEY)
                        .build(),
                (agent, session, connection) -> {
                    throw new AssertionError("this runner opens no connection");
                },
                agent -> {
                    AgentPolicy.Policy p = policies.current(agent);
                    return new AgentSetup(
                            "system",
                            config.model(),
                            null,
                            Duration.ofMinutes(5),
                            p.tools(),
                            Daemon.allowedModels(config.model(), p, agent.name()),
                            p.budget(),
                            0,
                            p.turns().batching(),
                            p.turns().compactAtTokens(),
                            p.mcp(),
                            null);
                },
                delivery,
                timer,
                Duration.ofMinutes(10),
                SessionManager.DEFAULT_HEARTBEAT_TIMEOUT,
                audit,
                ApprovalService.create(
                        store,
                        audit,
                        Approvers.ownerOnly(),
                        Scheduler.of(timer, Clock.systemUTC()),
                        Clock.systemUTC(),
                        Duration.ofMinutes(10),
                        new ApprovalService.Listener() {}),
                new Budgets(store.ledger(), Prices.of(Map.of()), audit, Clock.systemUTC(), Budgets.Listener.NONE),
                new Admission(8, 1L << 40),
                Clock.systemUTC(),
                HostTools.NONE);
        Agent agent = store.ensureAgent(name);
        Chat chat = store.ensureChat("terminal", "main");
        store.wire(chat.id(), agent.id());
        Access access =
                Access.create(store, audit, Clock.systemUTC(), new SecureRandom(), sessions::wake, delivery::wake);
        router = new Router(store, audit, Clock.systemUTC(), sessions::wake, access);
    }

    /** The owner says {@code text} in the terminal chat; the session manager is woken. */
    void send(String platformId, String text) {
        router.accept(new NewInbound("terminal", "main", platformId, "owner", text));
    }

    List<AuditEvent> events(String action) {
        return audit.read(0, 10_000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals(action))
                .toList();
    }

    @Override
    public void close() {
        sessions.close();
        timer.shutdownNow();
        audit.close();
        store.close();
        provider.close();
    }
}
