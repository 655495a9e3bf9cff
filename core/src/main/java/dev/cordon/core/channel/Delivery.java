package dev.cordon.core.channel;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.SerialWorker;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.store.Store;
import dev.cordon.core.trace.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands stored replies to their channel, one chat at a time and in order, and marks each delivered
 * only when the channel confirms it. Woken when a reply is stored or a recipient appears; nothing
 * polls. Thread-safe.
 */
public final class Delivery {
    private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);
    private final Store store;
    private final Map<String, ChannelAdapter> adapters;
    private final ScheduledExecutorService timer;
    private final AuditLog audit;
    private final Clock clock;
    private final boolean bodies;
    private final SecretScanner guard;
    private final Function<Outbound, DlpAction> action;
    private final Map<ChatId, SerialWorker> workers = new ConcurrentHashMap<>();
    private final Map<ChatId, LiveText> streams = new ConcurrentHashMap<>();
    private final Map<ChatId, Queue<String>> notices = new ConcurrentHashMap<>();
    private final Fitting fitting = new Fitting();
    private volatile BiConsumer<Outbound, String> undeliverable = (o, why) -> {};
    private volatile Tracing tracing = Tracing.OFF;
    private volatile DeliveryLeases leases = DeliveryLeases.ALONE;
    private volatile FileVault files;
    private volatile Function<Attachment, String> inPlaceOfFile =
            f -> "[File " + f.name() + " (" + f.size() + " bytes) stays on the Cordon host.]";

    public Delivery(
            Store store, List<ChannelAdapter> adapters, AuditLog audit, Clock clock, ScheduledExecutorService timer) {
        this(store, adapters, audit, clock, timer, false);
    }

    /**
     * @param bodies whether a reply's text goes into its {@code delivery} audit entry (clipped to
     *     4,096 characters); off by default: the log records decisions, not conversations
     */
    public Delivery(
            Store store,
            List<ChannelAdapter> adapters,
            AuditLog audit,
            Clock clock,
            ScheduledExecutorService timer,
            boolean bodies) {
        this(store, adapters, audit, clock, timer, bodies, new SecretScanner(Map::of), o -> DlpAction.REDACT);
    }

    /**
     * @param guard the data-loss guard: a reply carrying a vault secret's value or a credential is
     *     handled as {@code action} says for the reply's agent: sent with each such piece replaced
     *     by {@code [redacted: KIND]}, or withheld with a notice sent in its place. The delivery's
     *     audit entry names the kinds.
     */
    public Delivery(
            Store store,
            List<ChannelAdapter> adapters,
            AuditLog audit,
            Clock clock,
            ScheduledExecutorService timer,
            boolean bodies,
            SecretScanner guard,
            Function<Outbound, DlpAction> action) {
        this.guard = guard;
        this.action = action;
        this.bodies = bodies;
        this.audit = audit;
        this.clock = clock;
        this.store = store;
        this.adapters = adapters.stream().collect(Collectors.toMap(ChannelAdapter::name, Function.identity()));
        this.timer = timer;
    }

    /**
     * Who is told of a reply given up on (the platform refused it for good), with the reason: the
     * daemon tells the owner's terminals. Set once, before the first delivery.
     */
    public void onUndeliverable(BiConsumer<Outbound, String> listener) {
        this.undeliverable = listener;
    }

    /** Whether a channel of this name is enabled here: replies to its chats can be delivered. */
    public boolean serves(String channel) {
        return adapters.containsKey(channel);
    }

    /**
     * Whether the host may post messages of its own (an approval card) in chats of this channel: an
     * enabled chat platform that takes notices ({@link ChannelAdapter#takesNotices}) and has no live
     * view of its own ({@link ChannelAdapter#showsLive}: the terminal and the web chat show
     * approvals their own way).
     */
    public boolean takesHostMessages(String channel) {
        ChannelAdapter adapter = adapters.get(channel);
        return adapter != null && adapter.takesNotices() && !adapter.showsLive();
    }

    /** Where delivery spans go (in the trace of the message each reply answers); set once, early. */
    public void traceWith(Tracing tracing) {
        this.tracing = tracing;
    }

    /**
     * Delivers a chat's replies only when this replica's turn (several daemons on one database); set
     * once, before the first wake. Without it every chat is this daemon's ({@link DeliveryLeases#ALONE}).
     */
    public void leaseWith(DeliveryLeases leases) {
        this.leases = leases;
    }

    /** How soon a chat another replica is delivering to is tried again. */
    static final Duration BUSY_RETRY = Duration.ofMillis(500);

    /**
     * Where the files that messages carry are kept ({@code send_file}), and the text a channel
     * without uploads gets in a file's place (a link, or where the file is on the host). Set once,
     * before the first delivery; without it a file is named in text only.
     */
    public void filesFrom(FileVault vault, Function<Attachment, String> inPlaceOfFile) {
        this.files = vault;
        this.inPlaceOfFile = inPlaceOfFile;
    }

    /** Delivers the chat's undelivered replies soon. Never blocks. */
    public void wake(ChatId chat) {
        workers.computeIfAbsent(chat, c -> new SerialWorker("delivery-" + c.value(), () -> drain(c)))
                .wake();
    }

    /** Start-up sweep: wakes every chat that has undelivered replies. */
    public void wakeAll() {
        store.undelivered().stream().map(Outbound::chatId).distinct().forEach(this::wake);
    }

    /**
     * Passes live progress to the chat's channel; drops it if the channel is unknown. Streamed text
     * goes through the data-loss guard too: whatever more text could still turn into a secret (the
     * word being written, the start of a vault value: {@link SecretScanner#holdBack}) waits, and the
     * rest is redacted before it is passed on, so a secret never shows in the live stream whatever
     * the reply's policy. The held-back end arrives with the reply itself. A turn's stream over
     * {@link #MAX_LIVE} characters stops streaming.
     */
    public void live(Chat chat, LiveEvent event) {
        ChannelAdapter adapter = adapters.get(chat.channel());
        if (adapter == null) {
            return;
        }
        switch (event) {
            case LiveEvent.Text t -> {
                String safe = streams.computeIfAbsent(chat.id(), c -> new LiveText(guard.snapshot()))
                        .add(t.text());
                if (!safe.isEmpty()) {
                    adapter.live(chat.platformChatId(), new LiveEvent.Text(safe));
                }
            }
            case LiveEvent.Reset r -> {
                streams.remove(chat.id());
                adapter.live(chat.platformChatId(), r);
            }
            case LiveEvent.Notice n -> {
                if (adapter.showsLive()) {
                    adapter.live(chat.platformChatId(), n);
                } else if (adapter.takesNotices()) {
                    notices.computeIfAbsent(chat.id(), c -> new ConcurrentLinkedQueue<>())
                            .add(n.text());
                    wake(chat.id());
                }
            }
            // Arguments the model wrote can quote a secret it saw: redacted like a reply's text.
            case LiveEvent.ToolCall c ->
                adapter.live(chat.platformChatId(), new LiveEvent.ToolCall(c.tool(), guard.redact(c.input())));
        }
    }

    /** The chat's turn ended: its next streamed text starts a new stream. */
    public void liveEnded(Chat chat) {
        streams.remove(chat.id());
    }

    /** The longest turn streamed live; the reply still arrives whole. */
    static final int MAX_LIVE = 256 * 1024;

    /** One turn's streamed text: what has been passed on, and what is held back. Not thread-safe: one turn's reader. */
    private static final class LiveText {
        private final SecretScanner scanner;
        private final StringBuilder text = new StringBuilder();
        /** How much of {@code text} has been passed on (redacted): no finding reaches back before it. */
        private int released;

        LiveText(SecretScanner scanner) {
            this.scanner = scanner;
        }

        /** Adds {@code more}; returns what may be shown now (redacted), perhaps nothing. */
        String add(String more) {
            if (text.length() + more.length() > MAX_LIVE) {
                return "";
            }
            text.append(more);
            String all = text.toString();
            int upTo = all.length() - scanner.holdBack(all);
            if (upTo <= released) {
                return "";
            }
            // Only the new stretch is scanned: the text before it ended where no secret could go on.
            String out = scanner.redact(all.substring(released, upTo));
            released = upTo;
            return out;
        }
    }

    private void drain(ChatId chatId) {
        Optional<Chat> chat = store.chat(chatId);
        if (chat.isEmpty()) {
            return;
        }
        ChannelAdapter adapter = adapters.get(chat.get().channel());
        if (adapter == null) {
            LOG.warn(
                    "no channel adapter '{}' is enabled; replies to chat {} wait",
                    chat.get().channel(),
                    chatId);
            return;
        }
        switch (leases.take(chat.get())) {
            case HERE -> {
                try {
                    drain(chat.get(), adapter);
                } finally {
                    leases.done(chat.get());
                }
            }
            case ELSEWHERE -> {
                // The replica that holds the channel delivers; it was woken by the same reply.
            }
            case LATER -> timer.schedule(() -> wake(chatId), BUSY_RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void drain(Chat chat, ChannelAdapter adapter) {
        ChatId chatId = chat.id();
        sendNotices(chat, adapter);
        for (Outbound o : store.undelivered(chatId)) {
            SecretScanner scanner = guard.snapshot();
            List<SecretScanner.Finding> found = scanner.scan(o.text());
            String kinds = found.stream()
                    .map(SecretScanner.Finding::kind)
                    .distinct()
                    .collect(java.util.stream.Collectors.joining(", "));
            DlpAction act = found.isEmpty() ? null : action.apply(o);
            // Looked up before sending: between the platform's confirmation and the mark below, a
            // crash makes the reply go again (a second copy where the platform takes no idempotency
            // key), so that window holds only the audit append and the mark.
            AgentName agent = agentOf(o);
            String text = act == null
                    ? o.text()
                    : act == DlpAction.REDACT
                            ? scanner.redact(o.text())
                            : "[Cordon withheld this reply: it contained what looks like " + kinds
                                    + ". It stays on the host; the agent's policy (dlp.replies: block) keeps such"
                                    + " replies from leaving.]";
            OutgoingMessage message = new OutgoingMessage(
                    o.id().value(),
                    chat.platformChatId(),
                    o.inReplyTo() == null ? 0 : o.inReplyTo().value(),
                    o.inReplyTo() == null
                            ? null
                            // A task run has no platform message to answer.
                            : store.inbound(o.inReplyTo())
                                    .filter(i -> !i.fromScheduler())
                                    .map(Inbound::platformMessageId)
                                    .orElse(null),
                    text,
                    o.failed(),
                    o.idempotencyKey(),
                    o.options(),
                    null,
                    o.createdAt());
            Attachment file = attachment(o);
            if (file != null) {
                message = adapter.capabilities().files()
                        ? message.withFile(text, file)
                        : message.withFile(inPlaceOf(text, file), null);
            }
            String fileRefused = null;
            // Long text split, options numbered where the channel cannot show more (Fitting).
            DeliveryResult result;
            try (Tracing.Span span = o.inReplyTo() == null
                    ? Tracing.NO_SPAN
                    : tracing.span(
                            o.inReplyTo().value(),
                            "delivery",
                            false,
                            null,
                            Map.of("cordon.channel", adapter.name(), "cordon.outbound", o.id().value()))) {
                result = fitting.deliver(adapter, message);
                if (result instanceof DeliveryResult.FileRefused refused && message.file() != null) {
                    // Nothing was shown: the message goes again as a channel without uploads gets it.
                    fileRefused = refused.reason();
                    message = message.withFile(inPlaceOf(text, file), null);
                    result = fitting.deliver(adapter, message);
                }
                span.set("cordon.delivery", result.getClass().getSimpleName());
                if (result instanceof DeliveryResult.Failed f) {
                    span.failed(f.reason());
                }
            }
            switch (result) {
                case DeliveryResult.Delivered d -> {
                    Map<String, Object> extra = new HashMap<>();
                    extra.put("platform_message", d.platformMessageId());
                    if (file != null) {
                        extra.put("file", file.sha256());
                        extra.put("file_as", message.file() != null ? "upload" : "text");
                    }
                    if (fileRefused != null) {
                        extra.put("file_refused", AuditEvent.clip(fileRefused));
                    }
                    if (act != null) {
                        extra.put(act == DlpAction.REDACT ? "redacted" : "withheld", kinds);
                    }
                    audited(
                            o,
                            agent,
                            text,
                            adapter,
                            Decision.ALLOW,
                            act == null
                                    ? null
                                    : act == DlpAction.REDACT
                                            ? "the data-loss guard redacted what looked like secrets"
                                            : "the data-loss guard withheld the reply and sent a notice in its place",
                            extra);
                    store.markDelivered(o.id(), d.platformMessageId());
                }
                case DeliveryResult.NoRecipient n -> {
                    // kept for later; the adapter wakes us when someone can receive it
                }
                case DeliveryResult.RetryLater r -> {
                    LOG.info("delivery of {} to {} deferred {}: {}", o.id(), chatId, r.after(), r.reason());
                    timer.schedule(() -> wake(chatId), r.after().toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
                case DeliveryResult.Failed f -> giveUp(o, agent, text, adapter, f.reason());
                // A file refused when the message carries none any more: the adapter cannot send it.
                case DeliveryResult.FileRefused r -> giveUp(o, agent, text, adapter, r.reason());
            }
        }
    }

    /**
     * Never marked delivered: it stays in the outbox with why, and the owner is told. Given up on,
     * it no longer holds up the chat's later replies.
     */
    private void giveUp(Outbound o, AgentName agent, String text, ChannelAdapter adapter, String reason) {
        LOG.error("delivery of {} to chat {} failed for good: {}", o.id(), o.chatId(), reason);
        audited(o, agent, text, adapter, Decision.DENY, reason, Map.of("given_up", true));
        if (store.giveUp(o.id(), reason)) {
            undeliverable.accept(o, reason);
        }
    }

    /** {@code text} with what a channel without uploads gets in {@code file}'s place below it. */
    private String inPlaceOf(String text, Attachment file) {
        return (text.isEmpty() ? "" : text + "\n\n") + inPlaceOfFile.apply(file);
    }

    /** The file {@code o} carries, readable from the vault, or null. */
    private Attachment attachment(Outbound o) {
        FileVault vault = files;
        return store.outboundFile(o.id())
                .map(f -> new Attachment(f.name(), f.mediaType(), f.size(), f.sha256(), () -> {
                    if (vault == null) {
                        throw new java.io.IOException("this daemon keeps no files (no file vault)");
                    }
                    return vault.open(f.sha256());
                }))
                .orElse(null);
    }

    /**
     * Sends the chat's pending host notices as messages, ahead of its replies and in the chat's
     * delivery order. A notice is best effort: it is not stored, and one the platform does not
     * take now is dropped (logged), never retried and never holding up a reply.
     */
    private void sendNotices(Chat chat, ChannelAdapter adapter) {
        Queue<String> pending = notices.get(chat.id());
        String text;
        while (pending != null && (text = pending.poll()) != null) {
            OutgoingMessage message =
                    new OutgoingMessage(0, chat.platformChatId(), 0, null, text, false, "notice:" + UUID.randomUUID());
            DeliveryResult result = fitting.deliver(adapter, message);
            if (!(result instanceof DeliveryResult.Delivered)) {
                LOG.info("notice to chat {} not shown ({}): {}", chat.id(), result, text);
            }
        }
    }

    /** The agent whose session wrote {@code o}, or null if either is gone. */
    private AgentName agentOf(Outbound o) {
        return store.session(o.sessionId())
                .flatMap(s -> store.agent(s.agentId()))
                .map(Agent::name)
                .orElse(null);
    }

    private void audited(
            Outbound o,
            AgentName agent,
            String text,
            ChannelAdapter adapter,
            Decision decision,
            String reason,
            Map<String, Object> extra) {
        Map<String, Object> details = new HashMap<>(extra);
        details.put("outbound", o.id().value());
        details.put("channel", adapter.name());
        details.put("failed_turn", o.failed());
        if (bodies) {
            details.put("body", AuditEvent.clip(text));
        }
        audit.append(
                AuditEvent.of(clock.instant(), AuditEvent.Actor.system("delivery"), AuditActions.DELIVERY, decision)
                        .withAgent(agent)
                        .withSession(o.sessionId())
                        .withReason(reason == null ? null : AuditEvent.clip(reason))
                        .withDetails(details));
    }
}
