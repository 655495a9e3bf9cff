package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.session.Admission;
import dev.cordon.core.session.AgentSetup;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Store;
import dev.cordon.egress.ModelGateways;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.Usage;
import dev.cordon.store.Stores;
import dev.cordon.testkit.FakeModelServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A subverted runner forges a host RPC its policy denies: a model call for a model its policy does
 * not list. The host's real pieces (policy from the agent's file, session manager, model gateway,
 * SQLite audit log) refuse it in the provider's error format and audit a deny naming the rule; the
 * provider (the fake model server) never receives it. Only the runner is replaced, by a hostile one
 * speaking the real frame types: the real runner cannot be made to send this.
 */
class ForgedModelRequestTest {
    private static final String KEY = "sk-ant-forged-test";

    @TempDir
    Path homeDir;

    private FakeModelServer provider;
    private Store store;
    private AuditLog audit;
    private ScheduledExecutorService timer;
    private SessionManager sessions;
    private final HostileRunner runner = new HostileRunner();

    @BeforeEach
    void start() throws Exception {
        provider = FakeModelServer.start().requireApiKey(KEY);
        Home home = new Home(homeDir);
        home.create();
        AgentName name = new AgentName("main");
        Files.createDirectories(home.agent(name));
        Files.writeString(home.agent(name).resolve("policy.yaml"), "models: [claude-allowed]\n");
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
                (agent, session) -> runner,
                ModelGateways.builder()
                        .provider(ModelApi.ANTHROPIC, provider.baseUrl(), KEY)
                        .build(),
                (agent, session, connection) -> {
                    throw new AssertionError("this runner opens no connection");
                },
                agent -> {
                    AgentPolicy.Policy policy = policies.current(agent);
                    return new AgentSetup(
                            "system",
                            config.model(),
                            null,
                            Duration.ofMinutes(5),
                            policy.tools(),
                            Daemon.allowedModels(config.model(), policy, agent.name()),
                            policy.budget(),
                            0,
                            policy.turns().batching(),
                            policy.turns().compactAtTokens(),
                            policy.mcp(),
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
                dev.cordon.core.session.HostTools.NONE);
        Agent agent = store.ensureAgent(name);
        Chat chat = store.ensureChat("terminal", "main");
        store.wire(chat.id(), agent.id());
        Access access =
                Access.create(store, audit, Clock.systemUTC(), new SecureRandom(), sessions::wake, delivery::wake);
        new Router(store, audit, Clock.systemUTC(), sessions::wake, access)
                .accept(new NewInbound("terminal", "main", "m1", "owner", "hello"));
    }

    @AfterEach
    void stop() {
        sessions.close();
        timer.shutdownNow();
        audit.close();
        store.close();
        provider.close();
    }

    @Test
    void aForgedCallForAModelThePolicyDoesNotListIsRefusedAuditedAndNeverReachesTheProvider() throws Exception {
        String answer = runner.forgedAnswer.get(1, TimeUnit.MINUTES);

        assertThat(answer)
                .contains("\"type\":\"error\"")
                .contains("permission_error")
                .contains("model 'claude-forbidden' is not allowed for agent main by main's policy.yaml models");
        assertThat(runner.forgedStatus).isEqualTo(403);
        AuditEvent denied = await().atMost(Duration.ofMinutes(1))
                .until(this::modelCallDeny, Optional::isPresent)
                .orElseThrow();
        assertThat(denied.rule()).isEqualTo("main's policy.yaml models");
        assertThat(denied.reason()).contains("claude-forbidden");
        assertThat(denied.agent()).isEqualTo(new AgentName("main"));
        assertThat(provider.requests()).isEmpty();
    }

    private Optional<AuditEvent> modelCallDeny() {
        return audit.read(0, 1_000).stream()
                .map(AuditEntry::event)
                .filter(e -> e.action().equals("model.call") && e.decision() == AuditEvent.Decision.DENY)
                .findFirst();
    }

    /**
     * A runner that, instead of the configured model, asks the gateway for one its policy does not
     * list, reads the answer, and ends the turn.
     */
    private static final class HostileRunner implements RunnerLink {
        /** Empty: the runner is gone. */
        final BlockingQueue<Optional<RunnerMessage>> toHost = new LinkedBlockingQueue<>();

        final CompletableFuture<String> forgedAnswer = new CompletableFuture<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        volatile int forgedStatus;
        volatile String turnId;

        @Override
        public void send(HostMessage message) {
            switch (message) {
                case HostMessage.StartTurn start -> {
                    turnId = start.turnId();
                    String forged = "{\"model\":\"claude-forbidden\",\"max_tokens\":64,\"stream\":true,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
                    toHost.add(Optional.of(new RunnerMessage.ModelRequest(
                            "forged-1",
                            ModelApi.ANTHROPIC,
                            "/v1/messages",
                            Map.of("anthropic-version", "2023-06-01", "content-type", "application/json"),
                            forged.getBytes(StandardCharsets.UTF_8))));
                }
                case HostMessage.ModelResponseHead head -> forgedStatus = head.status();
                case HostMessage.ModelResponseChunk chunk -> body.writeBytes(chunk.data());
                case HostMessage.ModelResponseEnd end -> {
                    forgedAnswer.complete(body.toString(StandardCharsets.UTF_8));
                    toHost.add(Optional.of(new RunnerMessage.TurnEnded(turnId, "done", null, Usage.ZERO)));
                }
                case HostMessage.ApprovalDecision d -> {}
                case HostMessage.HostToolResult r -> {}
                case HostMessage.StreamData d -> {}
                case HostMessage.StreamEnd e -> {}
                case HostMessage.StreamAck a -> {}
                case HostMessage.Shutdown s -> {}
                case HostMessage.PutFile f -> {}
            }
        }

        @Override
        public RunnerMessage receive() {
            try {
                return toHost.take().orElse(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        @Override
        public String describeExit() {
            return "hostile runner";
        }

        @Override
        public String sandboxId() {
            return "hostile";
        }

        @Override
        public Optional<ResourceUsage> usage() {
            return Optional.empty();
        }

        @Override
        public void kill(String reason) {
            close();
        }

        @Override
        public void close() {
            toHost.add(Optional.empty());
        }
    }
}
