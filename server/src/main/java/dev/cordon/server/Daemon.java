package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalRequest;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.ChatApprovals;
import dev.cordon.core.approval.Outcome;
import dev.cordon.core.approval.Scheduler;
import dev.cordon.core.approval.Ticket;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.budget.Budgets;
import dev.cordon.core.budget.Prices;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.Router;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.InboundFiles;
import dev.cordon.core.message.AgentChannel;
import dev.cordon.core.message.Destination;
import dev.cordon.core.message.FileSending;
import dev.cordon.core.message.Messaging;
import dev.cordon.core.message.Questions;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.session.Admission;
import dev.cordon.core.session.AgentSetup;
import dev.cordon.core.session.EgressGateway;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.session.ModelGateway;
import dev.cordon.core.session.RunnerLauncher;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Store;
import dev.cordon.core.task.TaskScheduler;
import dev.cordon.core.task.TaskTools;
import dev.cordon.core.trace.Tracing;
import dev.cordon.egress.ModelGateways;
import dev.cordon.egress.proxy.EgressApprovals;
import dev.cordon.egress.proxy.EgressProxy;
import dev.cordon.egress.proxy.Resolver;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.sandbox.Sandboxes;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import dev.cordon.sandbox.k8s.Kubernetes;
import dev.cordon.sandbox.k8s.KubernetesSettings;
import dev.cordon.sandbox.k8s.PodFleet;
import dev.cordon.sandbox.mounts.MountAllowlist;
import dev.cordon.sandbox.mounts.MountException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's composition root: everything that runs is constructed here, in this order. Start
 * it with {@link #start}; it serves until {@link #close} or a {@code Stop} on the control socket.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    static final String VERSION = "0.1.0";
    static final AgentName DEFAULT_AGENT = new AgentName("main");

    private final Home home;
    private final Config config;
    private final Store store;
    private final AgentControl agents;
    /** Folders of one agent's workspace lent read-only to another (cordon agents share). */
    private final Shares shares;

    private final AuditLog audit;
    private final Policies policies;
    private final SandboxBackend backend;
    private final PodFleet pods;
    private final MountAllowlist mountAllowlist;
    private final Workspaces workspaces;
    private final Access access;
    private final ScheduledExecutorService timer;
    private final TerminalChannel terminal;
    private final Channels channels;
    private final Router router;
    /** The router, then ask_user: a person's new message may be the answer a turn waits for. */
    private final InboundSink inbound;
    /** The agents' ask_user questions that wait for a person's answer. */
    private final Questions questions;

    private final Delivery delivery;
    private final ApprovalControl approvalControl;
    private final ApprovalService approvals;
    private final SessionManager sessions;
    /** Traces of each message's way (tracing: in cordon.yaml); off by default. */
    private final Tracing tracing;

    private final SandboxedRunners sandboxedRunners;
    private final ControlServer control;
    private final TaskScheduler tasks;
    private final TaskControl taskControl;
    private final AccessControl accessControl;
    private final WebSettings webSettings;
    private final WebEvents webEvents;
    private final WebChannel web;
    private final WebAuth webAuth;
    private final WebServer webServer;
    private final FileSettings fileSettings;
    private final FileVault fileVault;
    private final FileLinks fileLinks;
    /** The listener for signed webhooks, or null when no webhook channel is configured. */
    private final HookServer hookServer;
    /** This daemon as one of several replicas on PostgreSQL; null on SQLite (one daemon per home). */
    private final ReplicaSet replicaSet;

    private final ControlHandler controlHandler = new ControlHandler();
    private final long startedAt = System.currentTimeMillis();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private Daemon(Path homeDir, Map<String, String> env, Path runnerLib, Probes probes) throws IOException {
        home = new Home(homeDir);
        home.create();
        config = Config.loadChecked(home.root(), env);
        store = probes.store()
                .apply(StoreChoice.open(home, config.store(), Clock.systemUTC(), StoreChoice.replicaName(home)));
        // Invariant 6: every side effect is on record before it is reported done.
        audit = AuditLogs.open(store.audit(), home.auditKey());
        policies = new Policies(home, () -> AgentPolicy.Defaults.of(config), audit, Clock.systemUTC());
        shares = new Shares(home);
        agents = new AgentControl(
                home, store, audit, () -> AgentPolicy.Defaults.of(config), Clock.systemUTC(), shares, policies);
        agents.ensure(DEFAULT_AGENT);
        // Every folder under agents/ is an agent: `mkdir ~/.cordon/agents/sales` and restart.
        try (var dirs = Files.list(home.agents())) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                try {
                    agents.ensure(new AgentName(dir.getFileName().toString()));
                } catch (IllegalArgumentException e) {
                    LOG.warn("ignoring {}: {}", dir, e.getMessage());
                }
            }
        }
        backend = Sandboxes.bubblewrap();
        // sandbox.backend: kubernetes runs sandboxes as pods (docs/deploy-kubernetes.md); a crashed
        // predecessor's pods are deleted before the first new one starts.
        KubernetesSettings cluster = KubernetesChoice.load(home.root().resolve("cordon.yaml"), env);
        pods = cluster == null ? null : startPods(cluster, env.get("KUBECONFIG"));
        SandboxBackends backends = new SandboxBackends(
                backend,
                Sandboxes::usable,
                // The microVM backend builds its initramfs into the home's cache once.
                name -> Sandboxes.named(name, home.root().resolve("cache")),
                pods == null ? null : pods::backendFor);
        try {
            mountAllowlist = MountAllowlist.of(config.mountAllowlist(), home.root());
        } catch (MountException e) {
            throw new ConfigException(
                    home.root().resolve("cordon.yaml") + ": sandbox.mount_allowlist: " + e.getMessage());
        }
        boolean root = Bubblewrap.isRoot();
        int ownUid = Bubblewrap.effectiveUid();
        workspaces =
                new Workspaces(home, WorkspaceQuota.detect(), config.diskQuota().unenforcedAllowed());
        SandboxedRunners.Identity identity = new SandboxedRunners.Identity() {
            @Override
            public int uid(Agent agent) {
                // As root each agent gets its own uid, so agents cannot read each other's files.
                return root ? config.uidBase() + (int) agent.id().value() : ownUid;
            }

            @Override
            public boolean chown() {
                return root;
            }

            @Override
            public List<SandboxSpec.Mount> extraMounts(Agent agent, List<SandboxSpec.Mount> systemMounts) {
                AgentPolicy.Sandbox policy = policy(agent);
                List<SandboxSpec.Mount> extra = new ArrayList<>(skillMounts(agent.name()));
                // Before the policy's own mounts, so that those cannot cover a shared folder.
                extra.addAll(shares.mounts(agent.name()));
                if (policy.mounts().isEmpty()) {
                    return extra;
                }
                List<SandboxSpec.Mount> taken = new ArrayList<>(systemMounts);
                taken.addAll(extra);
                try {
                    extra.addAll(mountAllowlist.checkAll(policy.mounts(), policy.writeMounts(), taken));
                } catch (MountException e) {
                    throw new SandboxException(e.getMessage(), e);
                }
                return extra;
            }

            @Override
            public Map<String, String> environment(Agent agent) {
                Map<String, String> env = new java.util.TreeMap<>();
                egressPolicy(agent).secrets().forEach(name -> env.put(name, Vault.placeholder(name)));
                return env;
            }

            @Override
            public void prepareWorkspace(Agent agent, Path workspace) {
                workspaces.prepare(agent, workspace, policy(agent).diskBytes(), uid(agent));
            }

            @Override
            public SandboxBackend backend(Agent agent, SandboxBackend fallback) {
                return backends.forPolicy(agent.name(), policy(agent));
            }

            @Override
            public Limits limits(Agent agent) {
                Limits wanted = policy(agent).limits();
                Set<Limit> missing = EnumSet.noneOf(Limit.class);
                missing.addAll(wanted.required());
                missing.removeAll(
                        backends.forPolicy(agent.name(), policy(agent)).enforceableLimits());
                if (missing.isEmpty()) {
                    return wanted;
                }
                if (config.unenforcedLimits().containsAll(missing)) {
                    LOG.warn(
                            "agent {} runs without its {} limit(s): this host cannot enforce them and"
                                    + " cordon.yaml sandbox.unenforced_limits allows that",
                            agent.name(),
                            missing);
                    return wanted.without(missing);
                }
                throw new SandboxException("agent " + agent.name() + " requires " + missing
                        + " limits that this host cannot enforce (./cordon doctor says why). Fix the host,"
                        + " or opt out in cordon.yaml: sandbox.unenforced_limits: "
                        + missing.stream()
                                .map(l -> l.name().toLowerCase(java.util.Locale.ROOT))
                                .toList());
            }
        };
        ModelGateway gateway = config.model() == null
                ? (agent, allowed, request, meter, sink) -> {
                    throw new IllegalStateException("no model configured");
                }
                : ModelGateways.builder()
                        .provider(config.model().api(), config.baseUrl(), config.apiKey())
                        .build();
        timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("timer").factory());
        terminal = new TerminalChannel();
        Vault vault = Vault.open(home.vault(), home.vaultKey());
        // The chat platforms of cordon.yaml's channels: block (docs/channels/), started last.
        channels = Channels.of(ChannelSettings.load(home.root().resolve("cordon.yaml")), vault, home.data());
        // Webhook channels (GitHub, WhatsApp, signed webhooks) are called by their platforms: their own listener.
        HookSettings hookSettings = HookSettings.load(home.root().resolve("cordon.yaml"));
        tracing =
                OtelTracing.load(home.root().resolve("cordon.yaml"), home.root().toString());
        hookServer = channels.hooks().isEmpty() ? null : new HookServer(hookSettings, channels.hooks());
        // The web chat and the dashboard's live events (docs/dashboard.md); served only if http: enables it.
        webSettings = WebSettings.load(home.root().resolve("cordon.yaml"));
        WebMetrics metrics = new WebMetrics(this::sessionCounts, this::pendingApprovals);
        webEvents = new WebEvents(audit, this::mayWatch, List.of(metrics));
        web = new WebChannel(webEvents);
        List<dev.cordon.core.channel.ChannelAdapter> adapters = new ArrayList<>(channels.adapters(terminal));
        adapters.add(web);
        // Messages between agents: a host-internal channel, no platform (docs/agents.md#messages).
        adapters.add(new AgentChannel(store, audit, Clock.systemUTC(), this::wakeSession));
        delivery = new Delivery(
                store,
                adapters,
                audit,
                Clock.systemUTC(),
                timer,
                config.auditMessageBodies(),
                new SecretScanner(vault::revealAll),
                this::replyGuard);
        delivery.onUndeliverable(this::undeliverable);
        // Files agents send (send_file) and people send: kept by content in the home while a message
        // needs them, then for files.keep_days (docs/agents.md#files).
        fileSettings = FileSettings.load(home.root().resolve("cordon.yaml"));
        fileVault = new FileVault(home.data().resolve("files"));
        fileLinks = new FileLinks(fileVault, fileSettings, FileLinks.keyIn(home), Clock.systemUTC());
        fileSettings
                .retention()
                .ifPresent(keep -> new FileRetention(fileVault, store, keep, Clock.systemUTC()).schedule(timer));
        delivery.filesFrom(fileVault, fileLinks::inPlaceOf);
        questions = new Questions(store, audit, Clock.systemUTC(), delivery::wake);
        sandboxedRunners = new SandboxedRunners(
                home, backend, runnerLib, Path.of(System.getProperty("java.home")), identity, config.runnerHeapMb());
        RunnerLauncher runners = probes.launcher().apply(sandboxedRunners);
        EgressProxy proxy = EgressProxy.create(audit, Resolver.system(), vault, this::askEgress);
        // The rules in force now: a policy edit applies to the next connection. The policy is read
        // once per connection (its file and hash are the hot path's only disk read besides the audit).
        EgressGateway egress = (agent, session, connection) -> {
            AgentPolicy.Egress rules = AgentPolicy.Egress.NONE;
            AgentPolicy.Dlp dlp = AgentPolicy.Dlp.DEFAULTS;
            try {
                AgentPolicy.Policy policy = policies.current(agent);
                rules = policy.egress();
                dlp = policy.dlp();
            } catch (SandboxException e) {
                // invalid, and never valid: no rules (deny everything), the default data-loss guard
            }
            proxy.serve(
                    connection,
                    new EgressProxy.Caller(
                            agent.name(), session, rules.rules(), Set.copyOf(rules.secrets()), dlp.requests()));
        };
        // Approvals before sessions: pending requests of the last run get their timers back before any
        // turn can ask again. Who may answer: the owner, and admins of the agent (docs/access.md).
        approvalControl = new ApprovalControl(store, terminal, Clock.systemUTC());
        // Cards go to terminals and to the chat platform where the turn runs (docs/approvals.md).
        ChatApprovals chatApprovals = new ChatApprovals(store, delivery::takesHostMessages, delivery::wake);
        approvals = ApprovalService.create(
                store,
                audit,
                this::mayApprove,
                Scheduler.of(timer, Clock.systemUTC()),
                Clock.systemUTC(),
                config.approvalTimeout(),
                new ApprovalService.Listener() {
                    @Override
                    public void requested(Approval approval) {
                        approvalControl.requested(approval);
                        chatApprovals.requested(approval);
                    }

                    @Override
                    public void decided(Approval approval) {
                        approvalControl.decided(approval);
                        chatApprovals.decided(approval);
                    }
                });
        approvalControl.serve(approvals);
        chatApprovals.serve(approvals);
        // A typed answer goes to whichever waits and was posted last: a card or an ask_user question.
        chatApprovals.questionsFrom(questions::waitingIn);
        questions.onAsked(chatApprovals::questionAsked);
        // Scheduled tasks: one timer for the earliest next run; a run is a message into a session.
        // The agent's task tools run here, on the host, after its tool rules (invariant 3).
        tasks = new TaskScheduler(
                store, audit, Clock.systemUTC(), Scheduler.of(timer, Clock.systemUTC()), this::wakeSession);
        taskControl = new TaskControl(store, tasks);
        sessions = new SessionManager(
                store,
                runners,
                gateway,
                egress,
                this::setup,
                delivery,
                timer,
                config.idleTimeout(),
                config.heartbeatTimeout(),
                audit,
                approvals,
                new Budgets(
                        store.ledger(),
                        Prices.of(config.prices()),
                        audit,
                        Clock.systemUTC(),
                        (agent, message) -> terminal.broadcast(
                                agent.name().value(),
                                new ControlEvent.Notice(agent.name().value(), message))),
                new Admission(config.maxLive(), config.maxMemoryBytes()),
                Clock.systemUTC(),
                HostTools.of(hostTools(new SecretScanner(vault::revealAll))));
        // Who may talk to an agent and who may change things (docs/access.md).
        access = Access.create(store, audit, Clock.systemUTC(), new SecureRandom(), sessions::wake, delivery::wake);
        accessControl = new AccessControl(access, store);
        // cordon.yaml names each signed webhook endpoint's agent: its chat is wired before any request comes.
        channels.wireEndpoints(store, access);
        router = new Router(
                store,
                audit,
                Clock.systemUTC(),
                sessions::wake,
                access,
                config.auditMessageBodies(),
                channels::mentionOnly);
        router.traceWith(tracing);
        router.receiveFilesWith(new InboundFiles(fileVault, fileSettings.maxBytes()));
        sessions.traceWith(tracing);
        sessions.filesFrom(fileVault);
        delivery.traceWith(tracing);
        // An answer to an approval card in a chat is the host's, never the agent's.
        inbound = chatApprovals.around(message -> {
            InboundSink.InboundResult result = router.accept(message);
            if (result instanceof InboundSink.InboundResult.Accepted a && !a.duplicate()) {
                questions.arrived(new InboundId(a.inboundId()));
            }
            return result;
        });
        // On PostgreSQL several daemons may share the database (docs/store.md, "Several replicas"):
        // sessions, channel connections and deliveries then run where their lease is held.
        replicaSet = config.store() instanceof StoreChoice.Postgres
                ? new ReplicaSet(
                        store.replicas(),
                        sessions,
                        delivery,
                        channels.connections(),
                        inbound,
                        approvals::adoptPending,
                        this::close)
                : null;
        if (replicaSet != null) {
            sessions.leaseWith(replicaSet);
            delivery.leaseWith(replicaSet);
        }
        terminal.connect(inbound);
        web.connect(inbound);
        control = new ControlServer(home.controlSocket(), controlHandler);
        webAuth = new WebAuth(home.data().resolve("web-tokens"), Clock.systemUTC(), new SecureRandom());
        webServer = webSettings.enabled() ? webServer(env, metrics) : null;
    }

    /** The HTTP API and dashboard (docs/dashboard.md): its pages' routes, all behind one gate. */
    private WebServer webServer(Map<String, String> env, WebMetrics metrics) {
        WebRoles roles = new WebRoles(store, access);
        WebAgentFiles files = new WebAgentFiles(home.root(), roles, audit, Clock.systemUTC());
        WebEgress egress = new WebEgress(roles, store, audit, approvals, Clock.systemUTC());
        WebTasks webTasks = new WebTasks(roles, store, tasks);
        List<WebApi.Route> more = new ArrayList<>(files.routes());
        more.addAll(egress.routes());
        more.addAll(webTasks.routes());
        more.add(fileLinks.route());
        WebChatFiles chatFiles = new WebChatFiles(
                fileVault, fileSettings.maxBytes(), store, roles, Clock.systemUTC(), new SecureRandom());
        more.addAll(chatFiles.routes());
        web.filesFrom(chatFiles);
        return new WebServer(
                webSettings,
                webAuth,
                new WebApi(
                        home.root(),
                        env,
                        store,
                        audit,
                        access,
                        agents,
                        approvalControl,
                        approvals,
                        sessions,
                        () -> controlHandler.sessionList(20),
                        web,
                        webEvents,
                        Clock.systemUTC(),
                        roles,
                        files,
                        this::budget),
                more,
                metrics,
                audit);
    }

    /** An agent's spending limits from its policy in force; none for an unknown agent or a broken policy. */
    private Budget budget(AgentName name) {
        return store.agentByName(name)
                .map(agent -> {
                    try {
                        return policies.current(agent).budget();
                    } catch (SandboxException e) {
                        return Budget.NONE;
                    }
                })
                .orElse(Budget.NONE);
    }

    /**
     * Audits {@code cordon.yaml} when it differs from the one the last start recorded (or on the
     * first start): the configuration is read once per start, so a start is when a change takes
     * effect. The entry goes in before the fingerprint is kept (invariant 6).
     */
    private void recordConfig() throws IOException {
        Path file = home.root().resolve("cordon.yaml");
        byte[] bytes = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
        String sha;
        try {
            sha = java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path kept = home.data().resolve("config.sha256");
        String previous = Files.exists(kept) ? Files.readString(kept).strip() : "none";
        if (sha.equals(previous)) {
            return;
        }
        audit.append(AuditEvent.of(
                        Instant.now(), AuditEvent.Actor.system("daemon"), AuditActions.CONFIG_CHANGE, Decision.ALLOW)
                .withReason(
                        previous.equals("none")
                                ? "the first start with this home"
                                : "cordon.yaml changed since the last start")
                .withDetails(Map.of(
                        "file",
                        Files.exists(file) ? "cordon.yaml" : "(none)",
                        "sha256",
                        sha,
                        "previous",
                        previous,
                        "model",
                        config.describeModel(),
                        "message_bodies",
                        config.auditMessageBodies())));
        Files.writeString(kept, sha + "\n");
    }

    /** Open egress questions per session beyond which uncovered hosts are denied without asking. */
    static final int MAX_OPEN_EGRESS_QUESTIONS = 5;

    /**
     * Puts a connection no egress rule covers to a person (docs/egress.md): stores and audits an
     * approval request, or finds the grant that already allows it. Never waits for the answer.
     */
    private EgressApprovals.Asked askEgress(EgressProxy.Caller caller, String host, int port) {
        Optional<Session> session = caller.session() == null ? Optional.empty() : store.session(caller.session());
        if (session.isEmpty()) {
            return new EgressApprovals.Asked.Unavailable();
        }
        // A sandbox trying host after host must not bury the approver in questions: past a few
        // open ones, further uncovered hosts are simply denied until those are answered.
        long open = approvals.pending().stream()
                .filter(a -> a.session().equals(session.get().id()) && a.kind().equals("egress.connect"))
                .filter(a -> !(a.payload().get("host").equals(host)
                        && a.payload().get("port").equals(Integer.toString(port))))
                .count();
        if (open >= MAX_OPEN_EGRESS_QUESTIONS) {
            return new EgressApprovals.Asked.Unavailable();
        }
        Ticket ticket = approvals.request(new ApprovalRequest(
                session.get().agentId(),
                session.get().id(),
                session.get().chatId(),
                "egress.connect",
                "connect to " + host + ":" + port + " (no egress rule allows it)",
                Map.of("host", host, "port", Integer.toString(port)),
                approvals.defaultTimeout()));
        Outcome decided = ticket.outcome().getNow(null);
        if (decided != null && decided.granted()) {
            return new EgressApprovals.Asked.Granted(decided.id().value(), decided.reason());
        }
        return new EgressApprovals.Asked.Waiting(ticket.id().value());
    }

    /** Who sees a live event of {@code agent} (null: daemon-wide) on the dashboard: its admins. */
    private boolean mayWatch(dev.cordon.core.access.UserId user, AgentName agent) {
        return agent == null
                ? access.requireAdmin(user, null) instanceof Access.Permission.Allowed
                : access.mayAdminister(user, agent);
    }

    private int pendingApprovals() {
        return approvals.pending().size();
    }

    private WebMetrics.SessionCounts sessionCounts() {
        int busy = 0;
        int idle = 0;
        for (SessionManager.LiveSession live : sessions.live()) {
            if (sessions.busy(live.session())) {
                busy++;
            } else {
                idle++;
            }
        }
        return new WebMetrics.SessionCounts(
                busy, idle, sessions.admission().queued().size());
    }

    /**
     * {@code cordon dashboard}: a one-time login link for a web user (the owner's {@code web:owner}
     * by default), and with {@code newToken} an API token, shown only now. The first time, the owner's
     * web user is made an owner (audited {@code role.grant}, by {@code terminal:owner}).
     */
    private ControlEvent dashboard(ControlRequest.Dashboard request) {
        if (webServer == null) {
            return new ControlEvent.Failure("the dashboard is off: set http: {enabled: true} in "
                    + home.root().resolve("cordon.yaml") + " and restart the daemon (docs/dashboard.md)");
        }
        dev.cordon.core.access.UserId user;
        try {
            user = dev.cordon.core.access.UserId.parse(request.user() == null ? "web:owner" : request.user());
        } catch (IllegalArgumentException e) {
            return new ControlEvent.Failure(e.getMessage());
        }
        if (!user.channel().equals(WebChannel.NAME)) {
            return new ControlEvent.Failure("dashboard users are web:NAME, not " + user);
        }
        if (request.user() == null && access.role(user, DEFAULT_AGENT).isEmpty()) {
            access.grant(dev.cordon.core.access.UserId.TERMINAL_OWNER, user, dev.cordon.core.access.Role.OWNER, null);
        }
        String token = request.newToken() || (request.user() == null && !webAuth.hasToken(user))
                ? webAuth.newToken(user)
                : null;
        String code = webAuth.newLoginCode(user);
        audit.append(AuditEvent.of(
                        Instant.now(),
                        AuditEvent.Actor.user(dev.cordon.core.access.UserId.TERMINAL_OWNER.toString()),
                        AuditActions.WEB_CREDENTIAL,
                        Decision.ALLOW)
                .withReason(token == null ? "a one-time login link" : "a one-time login link and an API token")
                .withDetails(Map.of("for", user.toString())));
        String url = webServer.url();
        return new ControlEvent.DashboardLink(url, url + "/login?code=" + code, user.toString(), token);
    }

    /** The policy's {@code capabilities.schedule_tasks}, in force now; an invalid policy grants nothing. */
    /** The tools the host runs for agents, by name, after their tool rules (invariant 3). */
    private Map<String, HostTools> hostTools(SecretScanner guard) {
        TaskTools taskTools = new TaskTools(store, tasks, audit, Clock.systemUTC(), this::mayScheduleTasks);
        Messaging messaging = new Messaging(
                        store, audit, Clock.systemUTC(), this::destinations, delivery::serves, delivery::wake)
                .withFiles(new FileSending(
                        fileVault,
                        agent -> home.workspace(agent.name()),
                        fileSettings.maxBytes(),
                        guard,
                        agent -> dlp(agent).replies()));
        return Map.of(
                TaskTools.SCHEDULE, taskTools,
                TaskTools.LIST, taskTools,
                TaskTools.CANCEL, taskTools,
                Messaging.SEND, messaging,
                Messaging.SEND_FILE, messaging,
                Questions.ASK, questions,
                AgentCreation.TOOL,
                        new AgentCreation(
                                agents,
                                approvals,
                                audit,
                                Clock.systemUTC(),
                                this::mayCreateAgents,
                                this::destinations));
    }

    /** Where the agent's policy lets it send; none while its policy fails closed. */
    private Map<String, Destination> destinations(Agent agent) {
        try {
            return policies.current(agent).destinations();
        } catch (SandboxException e) {
            return Map.of();
        }
    }

    private boolean mayCreateAgents(Agent agent) {
        try {
            return policies.current(agent).capabilities().createAgents();
        } catch (SandboxException e) {
            return false;
        }
    }

    private boolean mayScheduleTasks(Agent agent) {
        try {
            return policies.current(agent).capabilities().scheduleTasks();
        } catch (SandboxException e) {
            return false;
        }
    }

    /** For the task scheduler, made before the sessions it wakes; it fires only once started. */
    private void wakeSession(SessionId session) {
        sessions.wake(session);
    }

    /** Approvers for the approval service: roles live in {@link Access}, made after the sessions it wakes. */
    private boolean mayApprove(String approver, AgentName agent) {
        return access.mayApprove(approver, agent);
    }

    /** Starts a daemon on {@code homeDir}; returns once the control socket accepts connections. */
    public static Daemon start(Path homeDir, Map<String, String> env, Path runnerLib) throws IOException {
        return start(homeDir, env, runnerLib, Probes.NONE);
    }

    /**
     * Wrappers around the daemon's store and runner launcher, for benchmarks that timestamp a
     * message's way (bench/SessionLatency): stored, claimed, sent to the runner, the runner's answer.
     * A wrapper must delegate every call unchanged. The daemon itself never wraps anything.
     */
    public record Probes(UnaryOperator<Store> store, UnaryOperator<RunnerLauncher> launcher) {
        public static final Probes NONE = new Probes(UnaryOperator.identity(), UnaryOperator.identity());
    }

    /** As {@link #start(Path, Map, Path)}, with {@code probes} around the store and the runner launcher. */
    public static Daemon start(Path homeDir, Map<String, String> env, Path runnerLib, Probes probes)
            throws IOException {
        Daemon daemon = new Daemon(homeDir, env, runnerLib, probes);
        int released = daemon.store.releaseClaims();
        if (released > 0) {
            LOG.info("re-running {} message(s) whose turn was cut short by the last stop", released);
        }
        if (daemon.replicaSet != null) {
            // Registered before the first claim, so that a survivor can take this replica's over.
            daemon.replicaSet.start();
        }
        // Live events and metrics follow the log from here: they see everything this run does.
        daemon.webEvents.start();
        daemon.sessions.wakeAll();
        daemon.delivery.wakeAll();
        // After the sweep: runs missed while the daemon was down follow each task's catch-up policy.
        daemon.tasks.start();
        daemon.audit.append(AuditEvent.of(
                        Instant.now(), AuditEvent.Actor.system("daemon"), AuditActions.DAEMON_START, Decision.INFO)
                .withDetails(Map.of(
                        "version", VERSION,
                        "pid", ProcessHandle.current().pid(),
                        "sandbox", daemon.backend.name(),
                        "model", daemon.config.describeModel(),
                        "replica", daemon.store.replicas().self())));
        daemon.recordConfig();
        if (daemon.webServer != null) {
            daemon.webServer.start();
        }
        if (daemon.replicaSet == null) {
            daemon.channels.start(daemon.inbound);
        } else {
            daemon.channels.startHooks(daemon.inbound);
            daemon.replicaSet.openChannels();
        }
        if (daemon.hookServer != null) {
            daemon.hookServer.start();
        }
        // Last: the CLI takes the control socket for a daemon that is ready, and asks at once for
        // what needs the parts above (the dashboard's address, the hooks' URL, the channels).
        daemon.control.start();
        Files.writeString(
                daemon.home.pidFile(), Long.toString(ProcessHandle.current().pid()));
        LOG.info(
                "Cordon {} serving {} (model: {}, sandbox: {})",
                VERSION,
                daemon.home.root(),
                daemon.config.describeModel(),
                daemon.pods == null ? daemon.backend.name() : "kubernetes pods");
        return daemon;
    }

    /** The daemon's audit log: readable while it runs (the escape demo sums it up). */
    public AuditLog audit() {
        return audit;
    }

    public Path controlSocket() {
        return home.controlSocket();
    }

    /** The channel connections this daemon runs now (all of them on SQLite; those it holds the lease of on PostgreSQL). */
    Set<String> channelsHere() {
        return replicaSet == null
                ? Set.copyOf(channels.connections().stream().map(c -> c.name()).toList())
                : replicaSet.channelsHere();
    }

    /** The dashboard's base URL, or null when {@code http:} does not enable it. */
    String webUrl() {
        return webServer == null ? null : webServer.url();
    }

    /** The webhook listener's base URL, or null when no webhook channel is configured. */
    String hooksUrl() {
        return hookServer == null ? null : hookServer.url();
    }

    /** The HTTP routes as registered ("GET /api/v1/me"), for the test that checks the OpenAPI file. */
    List<String> webRoutes() {
        return webServer.registered();
    }

    /** Blocks until the daemon has been stopped. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops gracefully (what {@code cordon stop} and SIGTERM do): no new messages or turns, the turns
     * in progress get up to {@code sandbox.stop_grace_seconds} to finish and store their replies,
     * then everything stops as in {@link #close}. Whatever was not finished is redone at the next
     * start.
     */
    public void stop() {
        if (stopped.getCount() == 0) {
            return;
        }
        LOG.info(
                "stopping: turns in progress get up to {} s to finish",
                config.stopGrace().toSeconds());
        control.close();
        try {
            int unfinished = sessions.finishTurns(config.stopGrace());
            if (unfinished > 0) {
                LOG.warn(
                        "{} turn(s) still running after the grace period: they are redone at the next start",
                        unfinished);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Stops now: turns in progress are cut short and redone at the next start. */
    @Override
    public synchronized void close() {
        if (stopped.getCount() == 0) {
            return;
        }
        LOG.info("stopping");
        control.close();
        if (webServer != null) {
            webServer.close();
        }
        webEvents.close();
        if (hookServer != null) {
            hookServer.close();
        }
        channels.close();
        tasks.close();
        // Sessions first: their runners are stopped before anyone waiting on a person hears "the host
        // is stopping", so no turn takes that denial for an answer and completes on it; the turn is
        // redone after the restart and asks again.
        sessions.close();
        if (replicaSet != null) {
            replicaSet.close(); // after the sessions: their leases go with this replica's
        }
        sandboxedRunners.close();
        if (pods != null) {
            pods.close();
        }
        approvals.close();
        workspaces.close();
        timer.shutdownNow();
        tracing.close(); // after sessions and delivery: their last spans are exported
        try {
            audit.append(AuditEvent.of(
                    Instant.now(), AuditEvent.Actor.system("daemon"), AuditActions.DAEMON_STOP, Decision.INFO));
        } catch (RuntimeException e) {
            LOG.error("could not audit the stop", e);
        }
        audit.close();
        store.close();
        try {
            Files.deleteIfExists(home.pidFile());
        } catch (IOException e) {
            LOG.warn("could not remove {}", home.pidFile(), e);
        }
        stopped.countDown();
    }

    /** Connects to the cluster and deletes what a crashed predecessor left; a failure stops the start. */
    private PodFleet startPods(KubernetesSettings cluster, String kubeconfig) {
        PodFleet fleet = null;
        try {
            fleet = Kubernetes.connect(cluster, kubeconfig);
            fleet.reclaimOrphans();
            return fleet;
        } catch (SandboxException e) {
            if (fleet != null) {
                fleet.close();
            }
            throw new ConfigException(home.root().resolve("cordon.yaml") + ": sandbox.backend is kubernetes, but "
                    + e.getMessage() + " (./cordon doctor checks the cluster)");
        }
    }

    /**
     * The skills an agent's runner finds (docs/agents.md): its own {@code agents/<name>/skills} and
     * the shared {@code skills}, each mounted read-only where the runner looks, when it exists.
     */
    private List<SandboxSpec.Mount> skillMounts(AgentName name) {
        List<SandboxSpec.Mount> mounts = new ArrayList<>();
        Path own = home.agent(name).resolve("skills");
        Path shared = home.root().resolve("skills");
        if (Files.isDirectory(own)) {
            mounts.add(new SandboxSpec.Mount(own, "/skills/agent", SandboxSpec.Mode.READ_ONLY));
        }
        if (Files.isDirectory(shared)) {
            mounts.add(new SandboxSpec.Mount(shared, "/skills/shared", SandboxSpec.Mode.READ_ONLY));
        }
        return mounts;
    }

    private AgentPolicy.Sandbox policy(Agent agent) {
        return policies.current(agent).sandbox();
    }

    /** The egress rules in force for {@code agent} now; an invalid policy that never was valid denies everything. */
    private AgentPolicy.Egress egressPolicy(Agent agent) {
        try {
            return policies.current(agent).egress();
        } catch (SandboxException e) {
            return AgentPolicy.Egress.NONE;
        }
    }

    /** What the data-loss guard does for {@code agent} now; an invalid policy gets the defaults. */
    private AgentPolicy.Dlp dlp(Agent agent) {
        try {
            return policies.current(agent).dlp();
        } catch (SandboxException e) {
            return AgentPolicy.Dlp.DEFAULTS;
        }
    }

    /** What the data-loss guard does with a reply that carries a secret: its agent's policy says. */
    /**
     * A reply the platform refused for good: the owner's terminals are told, and so is the agent,
     * whose next turn finds a note at the end of its conversation.
     */
    private void undeliverable(Outbound reply, String why) {
        store.session(reply.sessionId()).flatMap(s -> store.agent(s.agentId())).ifPresent(agent -> {
            String chat = store.chat(reply.chatId())
                    .map(c -> c.channel() + ":" + c.platformChatId())
                    .orElse("?");
            terminal.broadcast(
                    agent.name().value(),
                    new ControlEvent.Notice(
                            agent.name().value(),
                            "A reply of agent " + agent.name() + " to " + chat + " could not be delivered and was"
                                    + " given up: " + why));
            store.appendTranscript(
                    reply.sessionId(),
                    List.of(ChatMessage.user("[Cordon: your reply of " + reply.createdAt() + " could not be"
                            + " delivered to the chat and was given up: " + why + "]")));
        });
    }

    private DlpAction replyGuard(Outbound reply) {
        return store.session(reply.sessionId())
                .flatMap(s -> store.agent(s.agentId()))
                .map(agent -> dlp(agent).replies())
                .orElse(DlpAction.REPLIES_DEFAULT);
    }

    private AgentSetup setup(Agent agent) {
        if (config.model() == null) {
            return new AgentSetup(null, null, config.modelProblem(), config.toolTimeout());
        }
        AgentPolicy.Policy policy;
        try {
            // Read at every turn: an edit of policy.yaml applies from the next turn on.
            policy = policies.current(agent);
        } catch (SandboxException e) {
            // An invalid policy fails closed: no sandbox starts until the file is fixed.
            return new AgentSetup(null, null, e.getMessage(), config.toolTimeout());
        }
        ModelGateway.Allowed models = allowedModels(policy, agent);
        if (!models.models().contains(config.model().model())) {
            return new AgentSetup(
                    null,
                    null,
                    "The configured model '" + config.model().model() + "' is not in agent " + agent.name()
                            + "'s policy (models: " + String.join(", ", policy.models())
                            + "). Add it to the models list of "
                            + home.agent(agent.name()).resolve("policy.yaml")
                            + ", or configure one of those models.",
                    config.toolTimeout());
        }
        return new AgentSetup(
                AgentPrompt.compose(home, agent.name()),
                config.model(),
                null,
                policy.sandbox().toolTimeout(),
                policy.tools(),
                models,
                policy.budget(),
                policy.sandbox().limits().memoryBytes(),
                policy.turns().batching(),
                policy.turns().compactAtTokens(),
                policy.mcp(),
                policy.sandbox().idleTimeout());
    }

    private ModelGateway.Allowed allowedModels(AgentPolicy.Policy policy, Agent agent) {
        return allowedModels(config.model(), policy, agent.name());
    }

    /**
     * What the model gateway lets an agent's calls use: without a {@code models} list in its policy,
     * the configured model only; with one, exactly the listed models (on the configured API).
     */
    static ModelGateway.Allowed allowedModels(ModelSettings configured, AgentPolicy.Policy policy, AgentName agent) {
        if (policy.models().isEmpty()) {
            return new ModelGateway.Allowed(
                    configured.api(), Set.of(configured.model()), "the configured model (cordon.yaml)");
        }
        return new ModelGateway.Allowed(configured.api(), Set.copyOf(policy.models()), agent + "'s policy.yaml models");
    }

    private final class ControlHandler implements ControlServer.Handler {
        @Override
        public void handle(ControlConnection connection, ControlRequest request) {
            switch (request) {
                case ControlRequest.Status s -> connection.send(status(s.brief()));
                case ControlRequest.SessionsList l -> connection.send(sessionList(l.hibernated()));
                case ControlRequest.AgentsList l ->
                    connection.send(agents.list(sessions.live().stream()
                            .map(SessionManager.LiveSession::session)
                            .toList()));
                case ControlRequest.AgentsCreate c -> connection.send(agents.create(c, "terminal:owner"));
                case ControlRequest.AgentsShare c -> connection.send(agents.share(c, "terminal:owner"));
                case ControlRequest.AgentsDelete d ->
                    connection.send(agents.delete(d, "terminal:owner", new AgentControl.Running() {
                        @Override
                        public Collection<SessionId> live() {
                            return sessions.live().stream()
                                    .map(SessionManager.LiveSession::session)
                                    .toList();
                        }

                        @Override
                        public boolean kill(SessionId session, String by) {
                            return sessions.kill(session, by);
                        }

                        @Override
                        public void releaseWorkspace(AgentName agent) {
                            workspaces.release(agent);
                        }
                    }));
                case ControlRequest.SessionsKill k ->
                    connection.send(
                            sessions.kill(new SessionId(k.session()), "terminal:owner")
                                    ? new ControlEvent.Done("Stopped the sandbox of session " + k.session()
                                            + "; a turn in progress fails, and its next message starts a fresh one.")
                                    : new ControlEvent.Failure("session " + k.session()
                                            + " has no live sandbox (./cordon sessions list shows them)"));
                case ControlRequest.Stop s -> {
                    connection.send(new ControlEvent.Stopping());
                    Thread.ofVirtual().start(Daemon.this::stop);
                }
                case ControlRequest.Attach a -> attach(connection, a);
                case ControlRequest.Say s -> terminal.say(connection, s);
                case ControlRequest.ReplyAck ack -> terminal.ack(ack.outboundId());
                case ControlRequest.AccessRequest r -> connection.send(accessControl.handle(r));
                case ControlRequest.TaskRequest r -> connection.send(taskControl.handle(r));
                case ControlRequest.ApprovalList l -> connection.send(approvalControl.list(l));
                case ControlRequest.ApprovalShow s -> connection.send(approvalControl.show(s));
                case ControlRequest.ApprovalApprove a -> connection.send(approvalControl.approve(a));
                case ControlRequest.ApprovalDeny d -> connection.send(approvalControl.deny(d));
                case ControlRequest.Dashboard d -> connection.send(dashboard(d));
            }
        }

        @Override
        public void closed(ControlConnection connection) {
            terminal.detach(connection);
        }

        private void attach(ControlConnection connection, ControlRequest.Attach attach) {
            AgentName name;
            try {
                name = new AgentName(attach.agent());
            } catch (IllegalArgumentException e) {
                connection.send(new ControlEvent.Failure(e.getMessage()));
                return;
            }
            Agent agent = store.agentByName(name).orElse(null);
            if (agent == null) {
                connection.send(new ControlEvent.Failure("there is no agent named '" + name + "'; agents: "
                        + store.agents().stream().map(a -> a.name().value()).toList()));
                return;
            }
            Chat chat = store.ensureChat(TerminalChannel.NAME, name.value());
            store.wire(chat.id(), agent.id());
            connection.wantAllReplies(attach.replayPending());
            terminal.attach(connection, name.value());
            int pending = store.undelivered(chat.id()).size();
            connection.send(new ControlEvent.Attached(name.value(), attach.replayPending() ? pending : 0));
            if (attach.replayPending() && pending > 0) {
                delivery.wake(chat.id());
            }
        }

        /** {@code brief}: without what costs a listing (ControlRequest.Status). */
        private ControlEvent.StatusReport status(boolean brief) {
            FileVault.Usage files;
            try {
                files = brief ? new FileVault.Usage(-1, -1) : fileVault.usage();
            } catch (IOException e) {
                files = new FileVault.Usage(-1, -1);
            }
            return new ControlEvent.StatusReport(
                    VERSION,
                    ProcessHandle.current().pid(),
                    home.root().toString(),
                    System.currentTimeMillis() - startedAt,
                    config.describeModel(),
                    config.modelProblem(),
                    backend.name(),
                    store.agents().stream().map(a -> a.name().value()).toList(),
                    sessions.liveCount(),
                    brief ? -1 : store.sessionsWithPending().size(),
                    brief ? -1 : store.undelivered().size(),
                    brief
                            ? List.of()
                            : sessions.live().stream().map(this::describe).toList(),
                    files.files(),
                    files.bytes(),
                    // Days, rounded up: files.link_hours may hold a file longer than keep_days.
                    fileSettings
                            .retention()
                            .map(d -> (int) ((d.toHours() + 23) / 24))
                            .orElse(0),
                    webUrl());
        }

        /** Live and queued sessions first (by id), then the most recent hibernated ones. */
        private ControlEvent.SessionListing sessionList(int hibernated) {
            Map<SessionId, SessionManager.LiveSession> live = new java.util.LinkedHashMap<>();
            sessions.live().forEach(l -> live.put(l.session(), l));
            Admission.Snapshot admission = sessions.admission();
            List<ControlEvent.SessionRow> rows = new ArrayList<>();
            List<ControlEvent.SessionRow> asleep = new ArrayList<>();
            List<Session> all = new ArrayList<>(store.sessions());
            all.sort(java.util.Comparator.comparingLong((Session s) -> s.id().value())
                    .reversed());
            // Names are looked up only for the rows listed (a host may keep 100,000 hibernated
            // sessions), and each agent's once.
            Map<Long, String> agents = new HashMap<>();
            java.util.function.Function<Session, String> agentOf = s -> agents.computeIfAbsent(
                    s.agentId().value(),
                    id -> store.agent(s.agentId()).map(a -> a.name().value()).orElse("?"));
            java.util.function.Function<Session, String> chatOf = s -> store.chat(s.chatId())
                    .map(c -> c.channel() + ":" + c.platformChatId())
                    .orElse("?");
            Set<SessionId> queued = new HashSet<>(admission.queued());
            // Several replicas: every replica's sessions, from the store's leases (docs/store.md).
            ReplicaView replicas =
                    replicaSet == null ? ReplicaView.NONE : ReplicaView.of(store.replicas(), Clock.systemUTC());
            String self = replicaSet == null ? null : replicaSet.self();
            for (Session s : all) {
                SessionManager.LiveSession l = live.get(s.id());
                ReplicaView.Holder holder = replicas.sessions().get(s.id().value());
                if (l != null) {
                    ResourceUsage u = l.usage().orElse(new ResourceUsage(-1, -1, -1, -1, -1));
                    rows.add(new ControlEvent.SessionRow(
                            s.id().value(),
                            agentOf.apply(s),
                            chatOf.apply(s),
                            sessions.busy(s.id()) ? "busy" : "idle",
                            l.sandboxId(),
                            u.memoryBytes(),
                            u.pids(),
                            u.cpuNanos() < 0 ? -1 : u.cpuNanos() / 1_000_000,
                            self,
                            self == null ? -1 : replicas.age(self)));
                } else if (holder != null && !holder.replica().equals(self)) {
                    rows.add(new ControlEvent.SessionRow(
                            s.id().value(),
                            agentOf.apply(s),
                            chatOf.apply(s),
                            "live",
                            null,
                            -1,
                            -1,
                            -1,
                            holder.replica(),
                            holder.heartbeatAgeMillis()));
                } else if (queued.contains(s.id())) {
                    rows.add(new ControlEvent.SessionRow(
                            s.id().value(), agentOf.apply(s), chatOf.apply(s), "queued", null, -1, -1, -1, null, -1));
                } else if (asleep.size() < hibernated) {
                    asleep.add(new ControlEvent.SessionRow(
                            s.id().value(),
                            agentOf.apply(s),
                            chatOf.apply(s),
                            "hibernated",
                            null,
                            -1,
                            -1,
                            -1,
                            null,
                            -1));
                }
            }
            rows.sort(java.util.Comparator.comparingLong(ControlEvent.SessionRow::session));
            rows.addAll(asleep);
            return new ControlEvent.SessionListing(
                    rows,
                    admission.live(),
                    admission.maxLive(),
                    admission.committedBytes(),
                    admission.maxMemoryBytes(),
                    replicas.replicas());
        }

        private ControlEvent.LiveSandbox describe(SessionManager.LiveSession live) {
            String agent = store.session(live.session())
                    .flatMap(s -> store.agent(s.agentId()))
                    .map(a -> a.name().value())
                    .orElse("?");
            ResourceUsage u = live.usage().orElse(new ResourceUsage(-1, -1, -1, -1, -1));
            return new ControlEvent.LiveSandbox(
                    agent,
                    live.session().value(),
                    live.sandboxId(),
                    u.memoryBytes(),
                    u.memoryPeakBytes(),
                    u.pids(),
                    u.cpuNanos() < 0 ? -1 : u.cpuNanos() / 1_000_000,
                    u.pidsLimitHits());
        }
    }
}
