package dev.cordon.core.session;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.SerialWorker;
import dev.cordon.core.approval.ApprovalRequest;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Outcome;
import dev.cordon.core.approval.Ticket;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.budget.Budgets;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.core.store.StoreException;
import dev.cordon.core.trace.Tracing;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.ProtocolException;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.protocol.StreamMux;
import dev.cordon.protocol.ToolRules;
import dev.cordon.protocol.Usage;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs sessions: one turn at a time per session, concurrency across sessions. A stored message
 * wakes its session directly ({@link #wake}); the session claims its pending messages, makes sure
 * its runner is up (starting a sandbox on demand), runs the turn, stores the transcript and the
 * reply, and hands the reply to delivery. An idle runner is stopped after {@code idleTimeout}
 * (hibernation: the sandbox goes, the transcript and workspace stay). Thread-safe.
 */
public final class SessionManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionManager.class);
    /** Tries of one turn when its sandbox dies or hangs under it: the first and two more. */
    static final int MAX_TURN_ATTEMPTS = 3;

    /** The wait before the first retry of a turn; doubled for each later one. */
    static final Duration RETRY_BACKOFF = Duration.ofSeconds(1);

    /** How long a runner may be silent during a turn by default: many missed heartbeats. */
    public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);

    /** The rule a hung runner is killed by (not a limit of the agent's: its turn is retried). */
    static final String HUNG = "runner.heartbeat";

    /** A runner silent this long during a turn (no heartbeat, nothing) is hung and is killed. */
    private final Duration heartbeatTimeout;

    /** A runner that asks more than this in one turn is flooding the approver. */
    static final int MAX_APPROVALS_PER_TURN = 32;

    private static final Pattern VALID_REQUEST_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");

    private final Store store;
    private final RunnerLauncher launcher;
    private final ModelGateway gateway;
    private final EgressGateway egress;

    /** Connections one sandbox may have open through its proxy port at once. */
    static final int MAX_EGRESS_STREAMS = 64;

    private final Function<Agent, AgentSetup> setups;
    private final Delivery delivery;
    private final ScheduledExecutorService timer;
    private final Duration idleTimeout;
    private volatile Tracing tracing = Tracing.OFF;
    private volatile FileVault files;
    private volatile SessionLeases leases = SessionLeases.ALONE;
    private final AuditLog audit;
    private final ApprovalService approvals;
    private final Budgets budgets;
    private final HostTools hostTools;
    private final Admission admission;
    private final Clock clock;
    private final Map<SessionId, Actor> actors = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Stopping: turns in progress may finish, no new one starts. */
    private volatile boolean draining;

    /**
     * @param hostTools the tools with an effect outside the sandbox (scheduled tasks), run after the
     *     tool rules; {@link HostTools#NONE} refuses every call
     */
    public SessionManager(
            Store store,
            RunnerLauncher launcher,
            ModelGateway gateway,
            EgressGateway egress,
            Function<Agent, AgentSetup> setups,
            Delivery delivery,
            ScheduledExecutorService timer,
            Duration idleTimeout,
            Duration heartbeatTimeout,
            AuditLog audit,
            ApprovalService approvals,
            Budgets budgets,
            Admission admission,
            Clock clock,
            HostTools hostTools) {
        this.hostTools = hostTools;
        this.heartbeatTimeout = heartbeatTimeout;
        this.admission = admission;
        admission.evictWith(this::evictIdle);
        this.audit = audit;
        this.budgets = budgets;
        this.approvals = approvals;
        this.clock = clock;
        this.store = store;
        this.launcher = launcher;
        this.gateway = gateway;
        this.egress = egress;
        this.setups = setups;
        this.delivery = delivery;
        this.timer = timer;
        this.idleTimeout = idleTimeout;
    }

    /** Makes the session take its pending messages soon. Never blocks. */
    public void wake(SessionId id) {
        if (!closed) {
            Actor actor = actors.computeIfAbsent(id, Actor::new);
            actor.messageWake = true;
            actor.worker.wake();
        }
    }

    /** Start-up sweep: wakes every session with pending messages. */
    public void wakeAll() {
        store.sessionsWithPending().forEach(this::wake);
    }

    /** Sessions whose runner is up now. */
    public int liveCount() {
        return (int) actors.values().stream().filter(a -> a.link != null).count();
    }

    /** A session whose runner is up, with what its sandbox has used so far (empty if unknown). */
    public record LiveSession(SessionId session, String sandboxId, Optional<ResourceUsage> usage) {}

    /** The sessions whose runner is up now, oldest session first. Reads each sandbox's counters. */
    public List<LiveSession> live() {
        List<LiveSession> live = new ArrayList<>();
        actors.values().stream()
                .sorted(java.util.Comparator.comparingLong(a -> a.id.value()))
                .forEach(a -> {
                    RunnerLink current = a.link;
                    if (current != null) {
                        live.add(new LiveSession(a.id, current.sandboxId(), current.usage()));
                    }
                });
        return live;
    }

    /**
     * Where the files people send are kept, for the runner to write into the workspace before the
     * turn that takes their message; set once, before the first turn. Without it a turn's messages
     * say which files came, and none is written.
     */
    public void filesFrom(FileVault vault) {
        this.files = vault;
    }

    /** Where turn spans go (sandbox start, model calls, host tools); set once, before the first turn. */
    public void traceWith(Tracing tracing) {
        this.tracing = tracing;
    }

    /**
     * Runs only the sessions whose lease this replica holds (several daemons on one database); set
     * once, before the first wake. Without it every session is this daemon's ({@link SessionLeases#ALONE}).
     */
    public void leaseWith(SessionLeases leases) {
        this.leases = leases;
    }

    /**
     * Stops the sandbox of every session this daemon runs now, between turns or not: another replica
     * may have taken them over (this one was declared dead). Turns in progress fail; their messages
     * are redone by whoever holds the session.
     */
    public void dropAll(String why) {
        actors.values().forEach(a -> a.hibernate(why));
    }

    /**
     * Hibernates the live sandbox that has been idle longest (between turns), other than {@code
     * forWhom}'s, to make room for a session that is waiting for one.
     *
     * @return whether one was hibernated
     */
    boolean evictIdle(SessionId forWhom) {
        List<Actor> idle = actors.values().stream()
                .filter(a -> !a.id.equals(forWhom) && a.link != null && !a.busy)
                .sorted(java.util.Comparator.comparingLong(a -> a.lastUsed))
                .toList();
        for (Actor a : idle) {
            if (a.hibernateIfIdle("hibernated early to make room for a waiting session (sandbox.max_live,"
                    + " sandbox.max_memory_mb)")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops the session's sandbox now, as its owner asked: a turn in progress fails (it is not
     * retried) and the session's next message starts a fresh sandbox.
     *
     * @return false if the session has no live sandbox
     */
    public boolean kill(SessionId session, String by) {
        Actor a = actors.get(session);
        RunnerLink current = a == null ? null : a.link;
        if (current == null) {
            return false;
        }
        a.stopRequested = "stopped by " + by;
        a.record(
                AuditActions.SANDBOX_KILL,
                Decision.DENY,
                "operator",
                "stopped by " + by,
                Map.of("sandbox", current.sandboxId()));
        current.kill("stopped by " + by);
        a.hibernateIfIdle("stopped by " + by);
        return true;
    }

    /** The sessions waiting for a sandbox slot, and the caps. */
    public Admission.Snapshot admission() {
        return admission.snapshot();
    }

    /** Whether the session is in a turn now. */
    public boolean busy(SessionId session) {
        Actor a = actors.get(session);
        return a != null && a.busy;
    }

    /**
     * Stops starting turns and waits, up to {@code grace}, for the turns in progress to finish (their
     * replies stored). Messages not yet taken stay pending for the next start. Call {@link #close}
     * afterwards.
     *
     * @return how many turns were still running when the grace ran out
     */
    public int finishTurns(Duration grace) throws InterruptedException {
        draining = true;
        long deadline = System.nanoTime() + grace.toNanos();
        while (true) {
            int busy = (int) actors.values().stream().filter(a -> a.busy).count();
            if (busy == 0 || System.nanoTime() > deadline) {
                return busy;
            }
            Thread.sleep(50);
        }
    }

    /** Stops every runner. Turns in progress fail; their messages stay claimed and are redone at next start. */
    @Override
    public void close() {
        closed = true;
        actors.values().forEach(a -> a.hibernate("the daemon is stopping"));
    }

    /** {@code task} with the starting thread's log context (session and agent ids) in its own thread. */
    private static Runnable logged(Runnable task) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        return () -> {
            if (context != null) {
                MDC.setContextMap(context);
            }
            try {
                task.run();
            } finally {
                MDC.clear();
            }
        };
    }

    private final class Actor {
        final SessionId id;
        final SerialWorker worker;
        volatile RunnerLink link;
        volatile AgentName agentName;
        volatile boolean idleDue;
        /** In a turn: its sandbox is not to be taken away for another session. Changed under this actor's lock. */
        volatile boolean busy;
        /** When the last turn ended ({@link System#nanoTime}): the idle sandbox hibernated first is the oldest. */
        volatile long lastUsed = System.nanoTime();
        /** A message may be waiting (set by {@link #wake}, cleared at each claim); the idle timer does not set it. */
        volatile boolean messageWake;
        /** Why an operator stopped the sandbox, if one did: the turn it breaks is not retried. */
        volatile String stopRequested;
        /** The messages the turn in progress answers, for host tools (who asked, how far a message travelled). */
        volatile List<Inbound> batch = List.of();
        /** The files the turn in progress sends into the workspace before it starts. */
        volatile List<InboxFiles.Put> inbox = List.of();
        /** The paths sent whose {@code file_written} has not come: the only ones a runner may report on. */
        final java.util.Set<String> unwritten = ConcurrentHashMap.newKeySet();
        /** The turn's files that did not reach the workspace, with why: the model is told at its end. */
        final List<String> missed = new java.util.concurrent.CopyOnWriteArrayList<>();

        ScheduledFuture<?> idle;
        /** The span of the turn in progress, or {@link Tracing#NO_SPAN} between turns. */
        volatile Tracing.Span turnSpan = Tracing.NO_SPAN;
        /** How long its sandbox may idle: the agent's policy as of the last turn, else the host's. */
        volatile Duration idleAfter = idleTimeout;

        Actor(SessionId id) {
            this.id = id;
            this.worker = new SerialWorker("session-" + id.value(), this::drain);
        }

        /** Runs the session's pending turns with its ids in the log context (docs/dashboard.md, JSON logs). */
        void drain() {
            MDC.put("session", Long.toString(id.value()));
            try {
                drainTurns();
            } finally {
                MDC.remove("session");
                MDC.remove("agent");
            }
        }

        void drainTurns() {
            // Only a message that finds the session idle waits to gather; one that came during a turn
            // was taken by the claim after it, and the idle timer's wake brings no message.
            boolean wokenIdle = messageWake;
            if (!closed && !draining && link == null && !leases.acquire(id)) {
                // Another replica runs this session; it is woken by the same message.
                messageWake = false;
                return;
            }
            while (!closed && !draining) {
                Session session = store.session(id).orElseThrow();
                Agent agent = store.agent(session.agentId()).orElseThrow();
                MDC.put("agent", agent.name().value());
                AgentSetup setup = setups.apply(agent);
                idleAfter = setup.idleTimeout() == null ? idleTimeout : setup.idleTimeout();
                if (wokenIdle && !setup.batching().gather().isZero()) {
                    // Let a thought sent as several short messages arrive whole (policy turns.gather_ms).
                    if (!pause(setup.batching().gather())) {
                        return;
                    }
                }
                wokenIdle = false;
                // Busy before the claim: from here on no other session may take this sandbox.
                setBusy(true);
                messageWake = false;
                try {
                    List<Inbound> batch =
                            store.claimPending(id, setup.batching().maxMessages());
                    if (batch.isEmpty()) {
                        break;
                    }
                    cancelIdle();
                    idleDue = false;
                    this.batch = batch;
                    runTurn(session, agent, setup, batch);
                } finally {
                    setBusy(false);
                }
            }
            if (idleDue) {
                idleDue = false;
                LOG.info("session {} idle for {}: hibernating", id, idleAfter);
                hibernate("idle for " + human(idleAfter) + " (sandbox.idle_timeout_seconds)");
            } else if (link != null && admission.anyoneWaiting()) {
                hibernate("gave its sandbox up to a waiting session (sandbox.max_live, sandbox.max_memory_mb)");
            } else {
                scheduleIdle();
            }
            if (link == null && !busy) {
                leases.release(id);
            }
        }

        /** Waits; false if the daemon closed (or the thread was interrupted) meanwhile. */
        boolean pause(Duration wait) {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            return !closed;
        }

        synchronized void setBusy(boolean busy) {
            this.busy = busy;
            if (!busy) {
                lastUsed = System.nanoTime();
            }
        }

        /** Hibernates the sandbox unless a turn is using it. */
        boolean hibernateIfIdle(String why) {
            synchronized (this) {
                if (busy || link == null) {
                    return false;
                }
            }
            cancelIdle();
            hibernate(why);
            leases.release(id);
            return true;
        }

        void runTurn(Session session, Agent agent, AgentSetup setup, List<Inbound> batch) {
            // In the trace of the message the turn answers: its reply is that message's answer.
            try (Tracing.Span span = tracing.span(
                    batch.getLast().id().value(),
                    "turn",
                    false,
                    null,
                    Map.of(
                            "cordon.agent",
                            agent.name().value(),
                            "cordon.session",
                            id.value(),
                            "cordon.messages",
                            batch.size()))) {
                turnSpan = span;
                runTurnTraced(session, agent, setup, batch);
            } finally {
                turnSpan = Tracing.NO_SPAN;
            }
        }

        private void runTurnTraced(Session session, Agent agent, AgentSetup setup, List<Inbound> claimed) {
            Chat chat = store.chat(session.chatId()).orElseThrow();
            List<Inbound> batch = startAnewIfAsked(chat, claimed);
            if (batch.isEmpty()) {
                return;
            }
            this.batch = batch; // what host tools see as the turn's messages: not those before a /new
            List<InboundId> handled = batch.stream().map(Inbound::id).toList();
            InboundId last = handled.getLast();
            String turnId = "s" + id.value() + "-m" + last.value();
            LOG.info("turn {} starts with {} message(s)", turnId, batch.size());
            List<ChatMessage> added = new ArrayList<>();
            Map<InboundId, List<ReceivedFile>> sent = store.inboundFiles(handled);
            batch.forEach(m -> added.add(ChatMessage.user(InboxFiles.text(m, sent.get(m.id())))));
            inbox = InboxFiles.puts(sent);

            if (setup.problem() != null) {
                finish(chat, handled, last, turnId, added, setup.problem(), true);
                return;
            }
            List<ChatMessage> asked = List.copyOf(added);
            RunnerLink runner;
            TurnResult result;
            long refusedBefore;
            boolean compactionTried = false;
            for (int attempt = 1; ; attempt++) {
                try {
                    runner = ensureRunner(agent, session, chat, setup);
                    if (runner == null) {
                        // Stopping while this session waited for a slot or its sandbox started: its
                        // messages stay claimed, and the next start redoes the turn.
                        return;
                    }
                } catch (SandboxException e) {
                    LOG.error("session {}: sandbox did not start", id, e);
                    record(AuditActions.SANDBOX_START, Decision.DENY, null, e.getMessage(), Map.of());
                    finish(
                            chat,
                            handled,
                            last,
                            turnId,
                            added,
                            "Could not start the agent's sandbox: " + e.getMessage(),
                            true);
                    return;
                }
                List<ChatMessage> history = Transcripts.live(store.transcript(id));
                if (!compactionTried
                        && setup.compactAtTokens() > 0
                        && Transcripts.estimateTokens(history) + Transcripts.estimateTokens(added)
                                > setup.compactAtTokens()) {
                    compactionTried = true;
                    history = compact(runner, agent, setup, chat, turnId, history);
                }
                List<ChatMessage> transcript = new ArrayList<>(history);
                transcript.addAll(added);
                refusedBefore = refusedForks(runner);
                result = converse(runner, agent, setup, chat, turnId, transcript, added, false);
                if (closed) {
                    // The daemon is stopping and killed the runner: leave the messages claimed so the
                    // next start redoes this turn whole, instead of recording a failure it did not have.
                    return;
                }
                if (result.retryWhy() == null) {
                    break;
                }
                if (attempt == MAX_TURN_ATTEMPTS) {
                    result = new TurnResult(
                            "The agent's sandbox stopped during the turn " + attempt + " times (last: "
                                    + result.retryWhy() + "). Send the message again to retry.",
                            true);
                    break;
                }
                // Start the turn over in a fresh sandbox: what the broken attempt said is dropped (its
                // tools' effects on the workspace stay), and the chat is told to discard what it showed.
                Duration wait = RETRY_BACKOFF.multipliedBy(1L << (attempt - 1));
                LOG.warn("session {}: {}; retrying turn {} in {}", id, result.retryWhy(), turnId, wait);
                record(
                        AuditActions.TURN_RETRY,
                        Decision.INFO,
                        null,
                        result.retryWhy(),
                        Map.of("turn", turnId, "attempt", attempt + 1));
                delivery.live(chat, new LiveEvent.Reset("the agent's sandbox stopped; starting the turn over"));
                added.clear();
                added.addAll(asked);
                if (!pause(wait)) {
                    return;
                }
            }
            long refused = link == runner ? refusedForks(runner) - refusedBefore : 0;
            if (refused > 0) {
                // Whatever filled the process table (a fork bomb, a runaway build) may still be
                // running and would starve every later tool call: start the next turn afresh.
                String note = "[Cordon: this turn reached the sandbox's process limit; " + refused
                        + " process starts were refused. The sandbox was restarted to stop what was"
                        + " left running; files in /workspace are kept.]";
                LOG.warn("session {}: {} forks refused at the process limit; recycling its sandbox", id, refused);
                record(
                        AuditActions.LIMIT_HIT,
                        Decision.DENY,
                        "sandbox.pids",
                        "forks refused at the sandbox's process limit",
                        Map.of("limit", "pids", "refused", refused));
                hibernate("recycled after reaching its process limit");
                appendNote(added, note);
                result = new TurnResult(result.text + "\n\n" + note, result.failed);
            }
            if (!missed.isEmpty()) {
                // The message named these files as in the workspace; the model reads the truth next turn.
                appendNote(
                        added,
                        "[Cordon: these files sent with the message did not reach the workspace: "
                                + String.join("; ", missed) + ".]");
                missed.clear();
            }
            finish(chat, handled, last, turnId, added, result.text, result.failed);
        }

        /** Sends the turn's files to the runner (again, in a retried turn's fresh sandbox). */
        void sendInbox(RunnerLink runner) throws IOException {
            FileVault vault = files;
            if (inbox.isEmpty() || vault == null) {
                return;
            }
            unwritten.clear();
            missed.clear();
            inbox.forEach(p -> unwritten.add(p.path()));
            for (String path : InboxFiles.send(runner, vault, inbox)) {
                unwritten.remove(path);
                fileMissed(path, "the host's file vault no longer has it");
            }
        }

        void fileMissed(String path, String why) {
            LOG.warn("session {}: {} did not reach the workspace: {}", id, path, why);
            record(AuditActions.INBOUND_FILE_MISSED, Decision.DENY, null, why, Map.of("path", path));
            missed.add(ToolRules.WORKSPACE + "/" + path + " (" + why + ")");
        }

        /** Adds {@code note} to the turn's last assistant message, so the model reads it next turn. */
        static void appendNote(List<ChatMessage> added, String note) {
            if (!added.isEmpty() && added.getLast().role() == Role.ASSISTANT) {
                ChatMessage last = added.removeLast();
                List<Part> parts = new ArrayList<>(last.parts());
                parts.add(new Part.Text("\n\n" + note));
                added.add(new ChatMessage(Role.ASSISTANT, parts));
            } else {
                added.add(ChatMessage.assistant(note));
            }
        }

        long refusedForks(RunnerLink runner) {
            return runner.usage()
                    .map(ResourceUsage::pidsLimitHits)
                    .filter(n -> n > 0)
                    .orElse(0L);
        }

        /**
         * Summarizes the older turns of {@code history} with the model, in this runner, and stores
         * the summary followed by the turns kept as they are (the stored transcript only grows: what
         * came before stays archived). Returns what the turn sends from now on; on any failure, the
         * history as it was (the turn goes on, and the provider may refuse a context too long).
         */
        List<ChatMessage> compact(
                RunnerLink runner, Agent agent, AgentSetup setup, Chat chat, String turnId, List<ChatMessage> history) {
            int keep = Transcripts.keepFrom(history, setup.compactAtTokens() / 4);
            if (keep == 0) {
                return history;
            }
            List<ChatMessage> older = new ArrayList<>(history.subList(0, keep));
            older.add(ChatMessage.user(COMPACT_REQUEST));
            TurnResult summary = converse(
                    runner,
                    agent,
                    setup.forCompaction(COMPACT_SYSTEM),
                    chat,
                    turnId + "-compact",
                    older,
                    new ArrayList<>(),
                    true);
            long before = Transcripts.estimateTokens(history);
            if (summary.failed() || summary.text() == null || summary.text().isBlank()) {
                String why =
                        summary.text() == null || summary.text().isBlank() ? "the summary was empty" : summary.text();
                LOG.warn("session {}: compaction failed: {}", id, why);
                record(AuditActions.SESSION_COMPACT, Decision.DENY, null, why, Map.of("turn", turnId));
                return history;
            }
            List<ChatMessage> stored = new ArrayList<>();
            stored.add(new ChatMessage(
                    Role.USER, List.of(new Part.Summary(summary.text().strip()))));
            stored.addAll(history.subList(keep, history.size()));
            store.appendTranscript(id, stored);
            List<ChatMessage> live = Transcripts.live(stored);
            record(
                    AuditActions.SESSION_COMPACT,
                    Decision.INFO,
                    null,
                    null,
                    Map.of(
                            "turn", turnId,
                            "messages_summarized", keep,
                            "tokens_before", before,
                            "tokens_after", Transcripts.estimateTokens(live)));
            return live;
        }

        /**
         * Runs one turn in {@code runner}. A {@code quiet} one (compaction) streams nothing to the chat.
         */
        TurnResult converse(
                RunnerLink runner,
                Agent agent,
                AgentSetup setup,
                Chat chat,
                String turnId,
                List<ChatMessage> transcript,
                List<ChatMessage> added,
                boolean quiet) {
            // Calls are cancelled by flag, never by interrupting their threads: an interrupt that
            // lands while a thread writes to the runner's socket closes the whole channel (NIO
            // channels are interruptible), killing the next turn.
            Map<String, ChannelSink> calls = new ConcurrentHashMap<>();
            AtomicBoolean turnOver = new AtomicBoolean();
            AtomicInteger asked = new AtomicInteger();
            AtomicReference<String> killedBy = new AtomicReference<>();
            ToolWatchdog watchdog = new ToolWatchdog(id, runner, setup.toolTimeout(), calls, (rule, why) -> {
                killedBy.set(rule);
                record(AuditActions.SANDBOX_KILL, Decision.DENY, rule, why, Map.of("sandbox", runner.sandboxId()));
            });
            StreamMux streams = new StreamMux(new EgressStreams.Wire(runner), MAX_EGRESS_STREAMS);
            long started = System.nanoTime();
            try {
                delivery.liveEnded(chat); // whatever an earlier, broken-off turn streamed
                if (!quiet) {
                    sendInbox(runner);
                }
                runner.send(new HostMessage.StartTurn(
                        turnId,
                        setup.systemPrompt(),
                        setup.model(),
                        transcript,
                        setup.toolRules(),
                        setup.mcpServers()));
                boolean activity = true;
                while (true) {
                    if (activity) {
                        watchdog.rearm();
                    }
                    RunnerMessage message = runner.receive();
                    if (message == null) {
                        return gone(runner, killedBy.get());
                    }
                    watchdog.heard();
                    // A heartbeat says the runner is alive, not that its tools are making progress.
                    activity = !(message instanceof RunnerMessage.Heartbeat);
                    switch (message) {
                        case RunnerMessage.Heartbeat h -> {}
                        case RunnerMessage.TextDelta d -> {
                            if (!quiet) {
                                delivery.live(chat, new LiveEvent.Text(d.text()));
                            }
                        }
                        case RunnerMessage.StreamReset r -> {
                            if (!quiet) {
                                delivery.live(chat, new LiveEvent.Reset(r.reason()));
                            }
                        }
                        case RunnerMessage.TranscriptAppend a -> {
                            added.add(a.message());
                            if (!quiet) {
                                liveToolCalls(chat, a.message());
                            }
                        }
                        case RunnerMessage.ModelRequest request ->
                            calls.put(request.callId(), forward(runner, agent, chat, setup, request, calls, watchdog));
                        case RunnerMessage.ModelCancel c -> {
                            ChannelSink call = calls.remove(c.callId());
                            if (call != null) {
                                call.cancel();
                            }
                        }
                        case RunnerMessage.TurnEnded ended -> {
                            if (!turnId.equals(ended.turnId())) {
                                throw new ProtocolException(
                                        "runner ended turn " + ended.turnId() + " during " + turnId);
                            }
                            delivery.liveEnded(chat);
                            Usage usage = ended.usage() == null ? Usage.ZERO : ended.usage();
                            record(
                                    AuditActions.TURN_END,
                                    ended.error() == null ? Decision.INFO : Decision.DENY,
                                    null,
                                    ended.error(),
                                    Map.of(
                                            "turn", turnId,
                                            "input_tokens", usage.inputTokens(),
                                            "output_tokens", usage.outputTokens(),
                                            "cache_read_tokens", usage.cacheReadTokens(),
                                            "cache_write_tokens", usage.cacheWriteTokens(),
                                            "duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
                            return ended.error() == null
                                    ? new TurnResult(ended.reply(), false)
                                    : new TurnResult(ended.error(), true);
                        }
                        case RunnerMessage.Ready r -> throw new ProtocolException("runner said Ready twice");
                        case RunnerMessage.EgressOpen o -> openEgress(runner, agent, streams, o.streamId());
                        case RunnerMessage.StreamData d -> streams.data(d.streamId(), d.data());
                        case RunnerMessage.StreamEnd e -> streams.end(e.streamId(), e.error());
                        case RunnerMessage.StreamAck a -> streams.ack(a.streamId(), a.bytes());
                        case RunnerMessage.ApprovalRequest a ->
                            ask(runner, agent, chat, turnId, a, watchdog, turnOver, asked);
                        case RunnerMessage.FileWritten w -> {
                            // Hostile input: only a path this turn sent is reported, once, so a
                            // runner cannot fill the audit log with made-up failures.
                            if (unwritten.remove(w.path()) && w.error() != null) {
                                fileMissed(w.path(), "the sandbox could not write it: " + AuditEvent.clip(w.error()));
                            }
                        }
                        case RunnerMessage.HostToolCall c ->
                            hostTool(runner, agent, setup, chat, turnId, c, quiet, watchdog, turnOver, asked);
                    }
                }
            } catch (IOException | ProtocolException e) {
                LOG.warn("session {}: runner channel failed", id, e);
                return gone(runner, killedBy.get());
            } finally {
                turnOver.set(true);
                watchdog.stop();
                calls.values().forEach(ChannelSink::cancel);
                // A connection lives within its turn: a program still holding one after the turn
                // sees it closed.
                streams.closeAll("the turn ended");
            }
        }

        /**
         * Hands a runner's approval request to the service and answers the runner when it is decided,
         * without blocking the turn's read loop. While a person is being asked the tool watchdog is
         * paused: a sandbox waiting on a human is not a stuck tool. The request is hostile input; a
         * malformed one is refused at once with the reason, and audited.
         */
        void ask(
                RunnerLink runner,
                Agent agent,
                Chat chat,
                String turnId,
                RunnerMessage.ApprovalRequest request,
                ToolWatchdog watchdog,
                AtomicBoolean turnOver,
                AtomicInteger asked) {
            String problem = null;
            ApprovalRequest checked = null;
            if (!VALID_REQUEST_ID.matcher(request.requestId()).matches()) {
                problem = "request id must be 1-128 of A-Z, a-z, 0-9, '_', '.', ':' and '-'";
            } else if (!turnId.equals(request.turnId())) {
                problem = "it names turn " + clipped(request.turnId()) + " but the current turn is " + turnId;
            } else if (asked.incrementAndGet() > MAX_APPROVALS_PER_TURN) {
                problem = "a turn may ask at most " + MAX_APPROVALS_PER_TURN + " approval questions";
            } else {
                try {
                    checked = new ApprovalRequest(
                            agent.id(),
                            id,
                            chat.id(),
                            request.kind(),
                            request.summary(),
                            request.payload(),
                            approvals.defaultTimeout());
                } catch (IllegalArgumentException e) {
                    problem = e.getMessage();
                }
            }
            if (problem != null) {
                record(
                        AuditActions.APPROVAL_INVALID,
                        Decision.DENY,
                        "approvals.request",
                        "refused a malformed approval request: " + problem,
                        Map.of("kind", clipped(request.kind())));
                reply(
                        runner,
                        request.requestId(),
                        false,
                        "refused by the host without asking anyone: " + problem,
                        turnOver);
                return;
            }
            // Paused before asking: storing and auditing the question takes durable writes, which
            // are no stuck tool either. Resumed when the outcome is known, however it comes.
            watchdog.pause();
            Ticket ticket;
            try {
                ticket = approvals.request(checked);
            } catch (RuntimeException e) {
                LOG.error("session {}: approval request failed", id, e);
                watchdog.resume();
                reply(
                        runner,
                        request.requestId(),
                        false,
                        "the host could not ask for approval: " + e.getMessage(),
                        turnOver);
                return;
            }
            // Async: the thread that decided must not wait on this runner's socket.
            whenDecided(ticket, watchdog, "approval-" + id.value(), (outcome, failure) -> {
                if (outcome != null) {
                    reply(runner, request.requestId(), outcome.granted(), outcome.reason(), turnOver);
                } else {
                    reply(runner, request.requestId(), false, "the host could not decide: " + failure, turnOver);
                }
            });
        }

        /**
         * Runs a host tool for the runner, off the turn's read loop: the agent's tool rules decide
         * here, on the host (deny refuses, ask puts the call to a person through the approval
         * service, with the tool watchdog paused), then {@link HostTools} checks the arguments and
         * acts. Denials are audited as {@code host.rpc}; the runner gets a result either way.
         */
        void hostTool(
                RunnerLink runner,
                Agent agent,
                AgentSetup setup,
                Chat chat,
                String turnId,
                RunnerMessage.HostToolCall call,
                boolean quiet,
                ToolWatchdog watchdog,
                AtomicBoolean turnOver,
                AtomicInteger asked) {
            if (!VALID_REQUEST_ID.matcher(call.requestId()).matches()) {
                throw new ProtocolException("host tool call with a malformed request id");
            }
            ToolRules.Decision decision = setup.toolRules().evaluator().decide(call.tool(), null);
            String refused = null;
            String rule = decision.rule();
            if (quiet) {
                refused = "no tool runs while a conversation is summarized";
                rule = "compaction";
            } else if (decision.action() == ToolRules.Action.DENY) {
                refused = "Denied by the agent's policy: rule " + decision.rule() + " forbids " + call.tool()
                        + ", so it did not run. Do not retry it in another form; if it is needed, ask the operator,"
                        + " who can change the tools section of the agent's policy.yaml.";
            } else if (decision.action() == ToolRules.Action.ASK && asked.incrementAndGet() > MAX_APPROVALS_PER_TURN) {
                refused = "a turn may ask at most " + MAX_APPROVALS_PER_TURN + " approval questions";
                rule = "approvals.request";
            }
            if (refused != null) {
                record(AuditActions.HOST_RPC, Decision.DENY, rule, refused, Map.of("tool", clipped(call.tool())));
                answer(runner, call.requestId(), new HostTools.Result(refused, true), turnOver);
                return;
            }
            Session session = store.session(id).orElseThrow();
            HostTools.Caller caller = new HostTools.Caller(agent, session, chat, turnId, batch);
            Tracing.Span parent = turnSpan;
            Runnable run = () -> {
                HostTools.Result result;
                // The host works, or waits on a person (ask_user): no stuck tool in the sandbox.
                watchdog.pause();
                Tracing.Span span = parent.child("host_tool").set("cordon.tool", clipped(call.tool()));
                try {
                    result = hostTools.call(caller, call.tool(), call.arguments());
                } catch (RuntimeException e) {
                    LOG.error("session {}: host tool {} failed", id, clipped(call.tool()), e);
                    result =
                            new HostTools.Result("the host could not run " + call.tool() + ": " + e.getMessage(), true);
                } finally {
                    watchdog.resume();
                }
                if (result.error()) {
                    span.failed(result.text());
                }
                span.close();
                answer(runner, call.requestId(), result, turnOver);
            };
            if (decision.action() == ToolRules.Action.ALLOW) {
                Thread.ofVirtual().name("host-tool-" + id.value()).start(run);
                return;
            }
            watchdog.pause();
            Ticket ticket;
            try {
                ticket = approvals.request(new ApprovalRequest(
                        agent.id(),
                        id,
                        chat.id(),
                        "tool." + call.tool(),
                        call.tool() + " " + call.arguments() + " (rule " + decision.rule() + " asks a person first)",
                        call.arguments(),
                        approvals.defaultTimeout()));
            } catch (RuntimeException e) {
                watchdog.resume();
                answer(
                        runner,
                        call.requestId(),
                        new HostTools.Result("the host could not ask for approval: " + e.getMessage(), true),
                        turnOver);
                return;
            }
            whenDecided(ticket, watchdog, "host-tool-" + id.value(), (outcome, failure) -> {
                if (outcome != null && outcome.granted()) {
                    run.run();
                } else {
                    String why = outcome != null ? outcome.reason() : String.valueOf(failure);
                    answer(
                            runner,
                            call.requestId(),
                            new HostTools.Result(
                                    "Not approved, so " + call.tool() + " did not run (rule " + decision.rule()
                                            + " asks a person first): " + why,
                                    true),
                            turnOver);
                }
            });
        }

        /**
         * Resumes the tool watchdog and runs {@code then} once {@code ticket} is decided, on a virtual
         * thread of its own: the thread that decided must not wait on this runner's socket.
         */
        void whenDecided(
                Ticket ticket,
                ToolWatchdog watchdog,
                String thread,
                java.util.function.BiConsumer<Outcome, Throwable> then) {
            ticket.outcome()
                    .whenCompleteAsync(
                            (outcome, failure) -> {
                                watchdog.resume();
                                then.accept(outcome, failure);
                            },
                            task -> Thread.ofVirtual().name(thread).start(task));
        }

        void answer(RunnerLink runner, String requestId, HostTools.Result result, AtomicBoolean turnOver) {
            if (turnOver.get()) {
                return;
            }
            try {
                runner.send(new HostMessage.HostToolResult(requestId, result.text(), result.error()));
            } catch (IOException e) {
                LOG.debug("session {}: runner gone before host tool call {} was answered", id, requestId);
            }
        }

        /** Answers the runner unless the turn that asked is over (the runner then asks again next turn). */
        void reply(RunnerLink runner, String requestId, boolean granted, String reason, AtomicBoolean turnOver) {
            if (turnOver.get()) {
                return;
            }
            try {
                runner.send(new HostMessage.ApprovalDecision(requestId, granted, reason));
            } catch (IOException e) {
                LOG.debug("session {}: runner gone before approval {} was answered", id, requestId);
            }
        }

        /**
         * Serves a connection the sandbox opened to its local proxy port through the egress gateway,
         * on its own thread. A malformed or surplus stream is refused to the runner, not fatal: the
         * turn goes on.
         */
        void openEgress(RunnerLink runner, Agent agent, StreamMux streams, String streamId) throws IOException {
            StreamMux.Channel channel;
            try {
                channel = streams.open(streamId);
            } catch (ProtocolException e) {
                runner.send(new HostMessage.StreamEnd(streamId, e.getMessage()));
                return;
            }
            Thread.ofVirtual().name("egress-" + id.value() + "-" + streamId).start(logged(() -> {
                try (channel) {
                    egress.serve(agent, id, new EgressStreams.Connection(channel));
                } catch (RuntimeException e) {
                    LOG.warn("session {}: egress stream {} failed", id, streamId, e);
                }
            }));
        }

        ChannelSink forward(
                RunnerLink runner,
                Agent agent,
                Chat chat,
                AgentSetup setup,
                RunnerMessage.ModelRequest request,
                Map<String, ChannelSink> calls,
                ToolWatchdog watchdog) {
            ChannelSink sink = new ChannelSink(runner, request.callId());
            Budgets.Call meter = budgets.meter(agent, chat.id(), id, request.callId(), setup.budget());
            Tracing.Span span = turnSpan.child("model.call")
                    .set("cordon.model.api", request.api().name());
            Thread.ofVirtual().name("model-" + request.callId()).start(logged(() -> {
                try {
                    gateway.call(agent, setup.allowedModels(), request, meter, sink);
                } catch (CancellationException | java.io.UncheckedIOException e) {
                    LOG.debug("model call {} ended early: {}", request.callId(), e.toString());
                } finally {
                    int status = sink.status;
                    // A call the gateway refused never reached the provider: a denial by a rule.
                    String refusedBy = sink.refusedBy;
                    Map<String, Object> details = new java.util.HashMap<>(Map.of(
                            "call", request.callId(), "model", setup.model().model(), "status", status));
                    meter.charge().ifPresent(c -> {
                        details.put("model", c.model());
                        details.put("input_tokens", c.usage().inputTokens());
                        details.put("output_tokens", c.usage().outputTokens());
                        details.put("cache_read_tokens", c.usage().cacheReadTokens());
                        details.put("cache_write_tokens", c.usage().cacheWriteTokens());
                        details.put("cost_micros", c.costMicros());
                        details.put("usage_reported", c.reported());
                    });
                    record(
                            AuditActions.MODEL_CALL,
                            refusedBy != null
                                    ? Decision.DENY
                                    : status >= 200 && status < 300 ? Decision.ALLOW : Decision.INFO,
                            refusedBy,
                            refusedBy != null
                                    ? sink.refusedWhy
                                    : status >= 200 && status < 300 ? null : "status " + status,
                            details);
                    span.set("http.response.status_code", status).set("cordon.model", details.get("model"));
                    span.set("gen_ai.usage.input_tokens", details.get("input_tokens"))
                            .set("gen_ai.usage.output_tokens", details.get("output_tokens"));
                    if (refusedBy != null) {
                        span.failed("refused by " + refusedBy);
                    } else if (status < 200 || status >= 300) {
                        span.failed("status " + status);
                    }
                    span.close();
                    calls.remove(request.callId());
                    watchdog.rearm();
                }
            }));
            return sink;
        }

        /**
         * The runner went away mid-turn. A crash or a hang is worth another try in a fresh sandbox; a
         * stop by the agent's own limits (tool deadline, memory, process limit) is not: the same
         * turn would hit it again.
         */
        TurnResult gone(RunnerLink runner, String killedBy) {
            String why = runner.describeExit();
            boolean byPolicy =
                    killedBy != null && !killedBy.equals(HUNG) || runner.stoppedByALimit() || stopRequested != null;
            hibernate(why);
            return new TurnResult(
                    "The agent's sandbox stopped during the turn (" + why + "). Send the message again to retry.",
                    true,
                    byPolicy ? null : why);
        }

        void finish(
                Chat chat,
                List<InboundId> handled,
                InboundId last,
                String turnId,
                List<ChatMessage> added,
                String text,
                boolean failed) {
            String reply = text == null || text.isBlank() ? "(no reply)" : text;
            if (failed) {
                turnSpan.failed(reply);
            }
            List<ChatMessage> transcript = failed ? Transcripts.closeOpenToolCalls(added, reply) : added;
            Store.NewOutbound outbound = new Store.NewOutbound(chat.id(), last, reply, failed, "turn:" + turnId);
            // The turn's end is idempotent (its reply's key): a store that failed for a moment (a
            // serialization race several replicas lost, a busy disk) is asked again rather than
            // leaving the turn's messages claimed until the next start.
            for (int attempt = 1; ; attempt++) {
                try {
                    store.completeTurn(id, handled, transcript, outbound);
                    break;
                } catch (StoreException e) {
                    if (attempt == FINISH_ATTEMPTS || !pause(Duration.ofSeconds(attempt))) {
                        throw e;
                    }
                    LOG.warn(
                            "session {}: storing the end of turn {} failed (attempt {}), trying again: {}",
                            id,
                            turnId,
                            attempt,
                            e.getMessage());
                }
            }
            delivery.wake(chat.id());
        }

        /**
         * A chat's {@code /new} (docs/sessions.md): the messages up to the last one in {@code
         * claimed} are stored with a fresh start after them and answered with a note, so that no
         * later turn sends the model anything before it; the transcript stays on record. Runs as
         * part of the session's turns, so it falls between two of them on whichever replica holds
         * the session, and is redone whole after a crash (the note's key makes it once). Returns the
         * messages after it, which make the turn.
         */
        private List<Inbound> startAnewIfAsked(Chat chat, List<Inbound> claimed) {
            int at = -1;
            for (int i = 0; i < claimed.size(); i++) {
                if (Transcripts.asksForNewConversation(claimed.get(i).text())) {
                    at = i;
                }
            }
            if (at < 0) {
                return claimed;
            }
            List<Inbound> before = claimed.subList(0, at + 1);
            List<InboundId> handled = before.stream().map(Inbound::id).toList();
            InboundId last = handled.getLast();
            String turnId = "s" + id.value() + "-m" + last.value();
            Map<InboundId, List<ReceivedFile>> sent = store.inboundFiles(handled);
            List<ChatMessage> stored = new ArrayList<>();
            before.forEach(m -> stored.add(ChatMessage.user(InboxFiles.text(m, sent.get(m.id())))));
            stored.add(Transcripts.FRESH_START);
            int earlier = store.transcript(id).size();
            record(
                    AuditActions.SESSION_RESET,
                    Decision.INFO,
                    null,
                    "the chat sent " + Transcripts.NEW_CONVERSATION,
                    Map.of("turn", turnId, "messages_before", earlier));
            LOG.info("session {}: starting anew ({} stored messages before it)", id, earlier);
            finish(chat, handled, last, turnId, stored, NEW_CONVERSATION_REPLY, false);
            return claimed.subList(at + 1, claimed.size());
        }

        /** The session's runner, started if need be; null if the daemon began stopping meanwhile. */
        RunnerLink ensureRunner(Agent agent, Session session, Chat chat, AgentSetup setup) {
            RunnerLink current = link;
            if (current == null) {
                try {
                    admission.acquire(agent.id(), id, setup.memoryBytes(), Admission.priorityOf(session), place -> {
                        LOG.info("session {}: waiting for a sandbox slot ({} in line)", id, place);
                        delivery.live(
                                chat,
                                new LiveEvent.Notice("queued: every sandbox slot of this host is in use;"
                                        + " this conversation starts when one frees (" + place + " in line)"));
                    });
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (closed || draining) {
                    admission.release(id); // the daemon is stopping: this turn is for the next start
                    return null;
                }
                long started = System.nanoTime();
                try (Tracing.Span start = turnSpan.child("sandbox.start")) {
                    try {
                        current = launcher.launch(agent, session);
                    } catch (RuntimeException e) {
                        start.failed(e.getMessage());
                        admission.release(id);
                        throw e;
                    }
                    start.set("cordon.sandbox", current.sandboxId());
                }
                synchronized (this) {
                    link = current;
                    stopRequested = null;
                }
                // How long the sandbox and runner took to be ready: the metrics' start latency.
                record(
                        AuditActions.SANDBOX_START,
                        Decision.ALLOW,
                        null,
                        null,
                        Map.of(
                                "sandbox",
                                current.sandboxId(),
                                "start_ms",
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
                if (closed) {
                    // The daemon began stopping while this sandbox started, after close() had
                    // stopped the others: stop it here (close() sets closed before it looks at
                    // link, so one of the two always sees the other's write).
                    hibernate("the daemon is stopping");
                    return null;
                }
            }
            return current;
        }

        synchronized void scheduleIdle() {
            if (link != null && !closed) {
                idle = timer.schedule(
                        () -> {
                            idleDue = true;
                            worker.wake();
                        },
                        idleAfter.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }

        synchronized void cancelIdle() {
            if (idle != null) {
                idle.cancel(false);
                idle = null;
            }
        }

        void hibernate(String why) {
            RunnerLink current;
            synchronized (this) {
                current = link;
                link = null;
            }
            if (current != null) {
                current.close();
                record(AuditActions.SANDBOX_STOP, Decision.INFO, null, why, Map.of("sandbox", current.sandboxId()));
                admission.release(id);
            }
        }

        /**
         * Appends an event about this session. A failure is logged, not thrown: the sandbox's
         * state has already changed, and the same store failing would fail the turn's own commit.
         */
        void record(String action, Decision decision, String rule, String reason, Map<String, Object> details) {
            try {
                AgentName agent = agentName;
                if (agent == null) {
                    // A session never changes agent: look it up once, not at every model call.
                    Session session = store.session(id).orElse(null);
                    agent = session == null
                            ? null
                            : store.agent(session.agentId()).map(Agent::name).orElse(null);
                    agentName = agent;
                }
                audit.append(new AuditEvent(
                        clock.instant(),
                        AuditEvent.Actor.system("sessions"),
                        agent,
                        id,
                        action,
                        decision,
                        rule,
                        AuditEvent.clip(reason),
                        details));
            } catch (RuntimeException e) {
                LOG.error("session {}: could not audit {}: {}", id, action, e.toString());
            }
        }
    }

    /** What compaction tells the model to do (docs/sessions.md). */
    static final String COMPACT_SYSTEM = "You write the summary that replaces the older part of a conversation between"
            + " a user and you, an AI agent, so that the conversation can go on with less context. Keep what the"
            + " rest of the conversation needs: the user's goals and requests, decisions made, facts learned (names,"
            + " numbers, paths, addresses), work done and its results (files changed, commands run, what failed),"
            + " and what is still open. Be concise and concrete. Do not call tools; answer with the summary only.";

    static final String COMPACT_REQUEST =
            "The conversation above has grown long. Write its summary now, as your instructions say.";

    /** The answer to a chat's {@code /new}: from Cordon, not from the model. */
    static final String NEW_CONVERSATION_REPLY = "[Cordon: a new conversation starts here. The agent no longer sees"
            + " the messages before this one (they stay on record on the host); its files and its MEMORY.md are"
            + " kept.]";

    /** How often a turn's end is stored before the turn is given up (its messages stay claimed). */
    static final int FINISH_ATTEMPTS = 5;

    /** @param retryWhy why the turn may be tried again in a fresh sandbox, or null if it may not */
    private record TurnResult(String text, boolean failed, String retryWhy) {
        TurnResult(String text, boolean failed) {
            this(text, failed, null);
        }
    }

    /**
     * The host's deadline for a round of tool calls. While no model call is in flight the runner is
     * running tools (or thinking between them), and it must say something within {@code timeout};
     * otherwise the sandbox is killed, whatever the tools inside did to their own timeouts. Model
     * calls are not limited here: their time is the provider's (and the gateway's) to bound.
     */
    private final class ToolWatchdog {
        /** How often the sandbox's refused-fork counter is read during a turn. */
        private static final Duration FORK_CHECK = Duration.ofSeconds(2);
        /**
         * Checks with new refusals, within the last {@link #FORK_WINDOW}, after which the sandbox is
         * killed. Not "in a row": a fork bomb's shells back off (bash sleeps 1, 2, 4, 8 s between
         * retries), so its refusals come in bursts with quiet gaps of several seconds.
         */
        private static final int FORK_STRIKES = 4;

        /** How many recent checks count: 16 s. */
        private static final int FORK_WINDOW = 8;

        private final SessionId id;
        private final java.util.function.BiConsumer<String, String> killed;
        private final ScheduledFuture<?> forkWatch;
        private long lastRefused = -1;
        /** Whether each of the last {@link #FORK_WINDOW} checks saw new refusals (a ring). */
        private final boolean[] rose = new boolean[FORK_WINDOW];

        private int checks;
        private int strikes;
        private volatile long lastHeard = System.nanoTime();
        private final RunnerLink runner;
        private final Duration timeout;
        private final Map<String, ChannelSink> calls;
        private ScheduledFuture<?> pending;
        private boolean stopped;
        /** Approval questions of this turn that wait on a person; the tool clock stands still meanwhile. */
        private int waitingOnPeople;

        ToolWatchdog(
                SessionId id,
                RunnerLink runner,
                Duration timeout,
                Map<String, ChannelSink> calls,
                java.util.function.BiConsumer<String, String> killed) {
            this.id = id;
            this.killed = killed;
            this.runner = runner;
            this.timeout = timeout;
            this.calls = calls;
            this.forkWatch = timer.scheduleWithFixedDelay(
                    this::check, FORK_CHECK.toMillis(), FORK_CHECK.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** The runner said something (a heartbeat counts): it is not hung. */
        void heard() {
            lastHeard = System.nanoTime();
        }

        private void check() {
            if (System.nanoTime() - lastHeard > heartbeatTimeout.toNanos()) {
                synchronized (this) {
                    if (stopped) {
                        return;
                    }
                    stopped = true;
                }
                String why = "the runner sent nothing, not even a heartbeat, for " + human(heartbeatTimeout)
                        + ": it is hung";
                LOG.warn("session {}: {}; killing its sandbox", id, why);
                killed.accept(HUNG, why);
                Thread.ofVirtual().name("kill-" + runner.sandboxId()).start(() -> runner.kill(why));
                return;
            }
            checkForks();
        }

        /**
         * A sandbox whose forks keep being refused is stuck: a fork bomb holds every process slot,
         * and the runner itself may be unable to start a thread to finish the turn. A build that
         * touches the limit once recovers within a check or two; this does not.
         */
        private void checkForks() {
            long refused = runner.usage().map(ResourceUsage::pidsLimitHits).orElse(-1L);
            synchronized (this) {
                if (stopped || refused < 0) {
                    return;
                }
                rose[checks++ % FORK_WINDOW] = lastRefused >= 0 && refused > lastRefused;
                lastRefused = refused;
                strikes = 0;
                for (boolean r : rose) {
                    strikes += r ? 1 : 0;
                }
                if (strikes < FORK_STRIKES) {
                    return;
                }
                stopped = true;
            }
            LOG.warn(
                    "session {}: forks refused at the process limit in {} of the last {} checks: killing its sandbox",
                    id,
                    strikes,
                    FORK_WINDOW);
            String why = "it kept reaching its process limit (sandbox.pids): " + refused
                    + " process starts were refused, and refusals kept coming for "
                    + FORK_CHECK.multipliedBy(FORK_STRIKES).toSeconds() + " s or more, so the host stopped the sandbox";
            killed.accept("sandbox.pids", why);
            // Off the shared timer thread: killing a sandbox may take seconds.
            Thread.ofVirtual().name("kill-" + runner.sandboxId()).start(() -> runner.kill(why));
        }

        /** A person is being asked: the tool clock stops until {@link #resume}. */
        synchronized void pause() {
            waitingOnPeople++;
            if (pending != null) {
                pending.cancel(false);
                pending = null;
            }
        }

        /** An answer came: the tool clock starts again, from zero. */
        synchronized void resume() {
            waitingOnPeople--;
            rearm();
        }

        /**
         * Restarts the countdown after activity; only counts while no model call is in flight and no
         * person is being asked.
         */
        synchronized void rearm() {
            if (pending != null) {
                pending.cancel(false);
                pending = null;
            }
            if (!stopped && calls.isEmpty() && waitingOnPeople == 0) {
                pending = timer.schedule(this::expire, timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        synchronized void stop() {
            stopped = true;
            forkWatch.cancel(false);
            if (pending != null) {
                pending.cancel(false);
            }
        }

        private void expire() {
            synchronized (this) {
                if (stopped || !calls.isEmpty() || waitingOnPeople > 0) {
                    return;
                }
            }
            LOG.warn(
                    "session {}: no word from the runner for {} outside a model call: killing its sandbox",
                    id,
                    timeout);
            String why = "a round of tool calls ran longer than the host's limit of " + human(timeout)
                    + " (sandbox.tool_timeout_seconds), so the host stopped the sandbox";
            killed.accept("sandbox.tool_timeout_seconds", why);
            // Off the shared timer thread: killing a sandbox may take seconds.
            Thread.ofVirtual().name("kill-" + runner.sandboxId()).start(() -> runner.kill(why));
        }
    }

    /** Shows the chat each tool call of an assistant message as it happens, not only at the turn's end. */
    private void liveToolCalls(Chat chat, ChatMessage message) {
        for (Part.ToolUse use : message.toolUses()) {
            delivery.live(chat, new LiveEvent.ToolCall(use.name(), use.input().toString()));
        }
    }

    private static String clipped(String s) {
        return s == null ? "null" : s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }

    private static String human(Duration d) {
        return d.toSeconds() >= 120 && d.toSecondsPart() == 0 ? d.toMinutes() + " min" : d.toMillis() / 1000.0 + " s";
    }

    /**
     * Streams a gateway answer back to the runner as model_head / model_chunk / model_end. Once
     * cancelled, every further write throws {@link CancellationException}, which ends the gateway's
     * read loop at its next chunk.
     */
    private static final class ChannelSink implements ModelGateway.ResponseSink {
        private final RunnerLink runner;
        private final String callId;
        private volatile boolean cancelled;
        volatile int status;
        volatile String refusedBy;
        volatile String refusedWhy;

        ChannelSink(RunnerLink runner, String callId) {
            this.runner = runner;
            this.callId = callId;
        }

        void cancel() {
            cancelled = true;
        }

        @Override
        public void refused(String rule, String reason) {
            refusedWhy = reason;
            refusedBy = rule;
        }

        @Override
        public void head(int status, Map<String, List<String>> headers) {
            this.status = status;
            send(new HostMessage.ModelResponseHead(callId, status, headers));
        }

        @Override
        public void chunk(byte[] data) {
            send(new HostMessage.ModelResponseChunk(callId, data));
        }

        @Override
        public void end(String error) {
            send(new HostMessage.ModelResponseEnd(callId, error));
        }

        private void send(HostMessage message) {
            if (cancelled) {
                throw new CancellationException("model call " + callId + " was cancelled");
            }
            try {
                runner.send(message);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("runner channel closed during model call " + callId, e);
            }
        }
    }
}
