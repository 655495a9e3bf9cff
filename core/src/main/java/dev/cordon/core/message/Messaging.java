package dev.cordon.core.message;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.file.WorkspaceFile;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.store.Store;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The agent's {@code send_message} tool, run on the host: a message to the current chat (no {@code
 * to}) or to a destination its policy names, nowhere else. It takes the normal outbound path: stored
 * in the outbox in one transaction, under an idempotency key made of the turn and the message (so a
 * turn redone in a fresh sandbox sends it once), and only then reported sent; delivery hands it to
 * the channel and retries until the platform confirms. A message to an agent goes through {@link
 * AgentChannel}. Refusals say why and are audited as {@code message.deny}. Thread-safe.
 */
public final class Messaging implements HostTools {
    public static final String SEND = "send_message";

    /** Sends a file of the agent's workspace, with the same destination rules (docs/agents.md). */
    public static final String SEND_FILE = "send_file";

    /** The longest caption of a file: every platform with uploads takes it in one message. */
    static final int MAX_CAPTION = 1_000;

    /** The longest message; delivery splits what a platform cannot take in one. */
    static final int MAX_TEXT = 16_000;

    /** Messages one turn may send: a runaway loop in one turn floods nobody. */
    static final int MAX_PER_TURN = 20;

    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final Function<Agent, Map<String, Destination>> destinations;
    private final Predicate<String> channelEnabled;
    private final Consumer<ChatId> deliver;
    private final Map<SessionId, Count> sent = new ConcurrentHashMap<>();
    private volatile FileSending files;

    /** Calls of one turn so far. */
    private record Count(String turnId, int calls) {}

    /**
     * @param destinations the destinations the agent's policy grants, by name (read at each call, so
     *     a policy edit applies to the next one)
     * @param channelEnabled whether this host delivers to a channel of this name
     * @param deliver wakes delivery for a chat with a new outbound message
     */
    public Messaging(
            Store store,
            AuditLog audit,
            Clock clock,
            Function<Agent, Map<String, Destination>> destinations,
            Predicate<String> channelEnabled,
            Consumer<ChatId> deliver) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.destinations = destinations;
        this.channelEnabled = channelEnabled;
        this.deliver = deliver;
    }

    /** Offers {@link #SEND_FILE} too, taking files as {@code files} says. Set once, before the first call. */
    public Messaging withFiles(FileSending files) {
        this.files = files;
        return this;
    }

    @Override
    public Result call(Caller caller, String tool, Map<String, String> arguments) {
        FileSending fileSending = SEND_FILE.equals(tool) ? files : null;
        if (!SEND.equals(tool) && fileSending == null) {
            return new Result("this host offers no tool '" + tool + "'", true);
        }
        String text;
        String path = "";
        if (fileSending != null) {
            path = arguments.getOrDefault("path", "");
            text = arguments.getOrDefault("caption", "").strip();
            if (path.isBlank() || text.length() > MAX_CAPTION) {
                return new Result(
                        SEND_FILE + ": path must name a file in /workspace, and caption be at most " + MAX_CAPTION
                                + " characters",
                        true);
            }
        } else {
            text = arguments.getOrDefault("text", "");
            if (text.isBlank() || text.length() > MAX_TEXT) {
                return new Result(SEND + ": text must be 1 to " + MAX_TEXT + " characters", true);
            }
        }
        String to = arguments.getOrDefault("to", "").strip();
        Count count = sent.compute(
                caller.session().id(),
                (s, c) -> c == null || !c.turnId().equals(caller.turnId())
                        ? new Count(caller.turnId(), 1)
                        : new Count(c.turnId(), c.calls() + 1));
        if (count.calls() > MAX_PER_TURN) {
            return deny(
                    caller,
                    to,
                    "messages.per_turn",
                    "a turn may send at most " + MAX_PER_TURN + " messages; say the rest in your reply");
        }
        int hops = Hops.of(caller.batch());
        Chat chat;
        InboundId inReplyTo = null;
        String name;
        if (to.isEmpty()) {
            name = "this chat";
            chat = caller.chat();
            if (AgentChannel.NAME.equals(chat.channel())) {
                // To the agent this session talks with: it travels like a reply, back to the sender.
                inReplyTo = caller.batch().isEmpty()
                        ? null
                        : caller.batch().getLast().id();
                if (inReplyTo == null) {
                    return deny(caller, name, "destinations", "this chat has no message to answer yet");
                }
                if (hops + 1 > Hops.MAX) {
                    return tooFar(caller, name, hops);
                }
            }
        } else {
            Map<String, Destination> granted = destinations.apply(caller.agent());
            Destination destination = granted.get(to);
            if (destination == null) {
                return deny(
                        caller,
                        to,
                        "destinations",
                        "your policy names no destination '" + clip(to) + "'"
                                + (granted.isEmpty()
                                        ? "; it names none, so you can only write to this chat (leave out to)"
                                        : "; yours: " + String.join(", ", granted.keySet())
                                                + ", or leave out to for this chat")
                                + ". The owner can add one under destinations: in your policy.yaml.");
            }
            name = to;
            switch (destination) {
                case Destination.Chat c -> {
                    if (!channelEnabled.test(c.channel()) || AgentChannel.NAME.equals(c.channel())) {
                        return deny(
                                caller,
                                to,
                                "destinations." + to,
                                "destination '" + to + "' is on channel '" + c.channel()
                                        + "', which this host does not run; the owner can enable it in"
                                        + " cordon.yaml's channels");
                    }
                    chat = store.ensureChat(c.channel(), c.chat());
                }
                case Destination.Agent a -> {
                    Optional<Agent> receiver = store.agentByName(a.agent());
                    if (receiver.isEmpty()
                            || receiver.get().id().equals(caller.agent().id())) {
                        return deny(
                                caller,
                                to,
                                "destinations." + to,
                                receiver.isEmpty()
                                        ? "destination '" + to + "' is agent " + a.agent() + ", which does not exist"
                                        : "destination '" + to + "' is yourself");
                    }
                    if (hops + 1 > Hops.MAX) {
                        return tooFar(caller, to, hops);
                    }
                    chat = AgentChannel.pairChat(store, caller.agent(), receiver.get());
                }
            }
        }
        if (fileSending != null) {
            // To this chat the file answers the message that asked for it (email needs one to answer).
            InboundId asked = to.isEmpty() && !caller.batch().isEmpty()
                    ? caller.batch().getLast().id()
                    : null;
            return sendFile(caller, fileSending, chat, asked, name, to, path, text);
        }
        String key = Hops.key("send:" + caller.turnId() + ":" + digest(chat.id().value() + "\n" + text), hops + 1);
        Optional<OutboundId> stored = store.completeTurn(
                caller.session().id(),
                java.util.List.of(),
                java.util.List.of(),
                new Store.NewOutbound(chat.id(), inReplyTo, text, false, key));
        Map<String, Object> details = sent(name, chat, stored.orElseThrow());
        details.put("hops", hops + 1);
        stored(caller, AuditActions.MESSAGE_SEND, to, chat, details);
        return new Result(
                "Sent to " + name
                        + (AgentChannel.NAME.equals(chat.channel())
                                ? "; its reply will come to you here as a message"
                                : "")
                        + ".",
                false);
    }

    /**
     * Copies the file into the vault, then stores its message (file before message, so a stored
     * message always finds its bytes), audits and wakes delivery.
     */
    private Result sendFile(
            Caller caller,
            FileSending fileSending,
            Chat chat,
            InboundId inReplyTo,
            String name,
            String to,
            String path,
            String caption) {
        if (AgentChannel.NAME.equals(chat.channel())) {
            return deny(
                    caller,
                    name,
                    "files",
                    "files go to chats, not to agents; to let another agent read files, the owner can share a"
                            + " folder (cordon agents share)");
        }
        FileSending.Taken taken;
        try {
            taken = fileSending.take(caller.agent(), path);
        } catch (WorkspaceFile.Refused e) {
            return deny(caller, name, "files", SEND_FILE + ": " + e.getMessage());
        } catch (IOException e) {
            return deny(
                    caller, name, "files", SEND_FILE + ": the host could not read or keep the file: " + e.getMessage());
        }
        Store.OutboundFile file = taken.file();
        String key = Hops.key(
                "file:" + caller.turnId() + ":"
                        + digest(chat.id().value() + "\n" + file.sha256() + "\n" + file.name() + "\n" + caption),
                1);
        OutboundId stored = store.storeFileMessage(
                caller.session().id(), new Store.NewOutbound(chat.id(), inReplyTo, caption, false, key), file);
        Map<String, Object> details = sent(name, chat, stored);
        details.put("name", file.name());
        details.put("size", file.size());
        details.put("sha256", file.sha256());
        details.put("media_type", file.mediaType());
        details.put("path", clip(path));
        if (!taken.redacted().isEmpty()) {
            details.put("redacted", taken.redacted());
        }
        stored(caller, AuditActions.FILE_SEND, to, chat, details);
        return new Result(
                "Sent " + file.name() + " (" + file.size() + " bytes) to " + name + "."
                        + (taken.redacted().isEmpty()
                                ? ""
                                : " The data-loss guard replaced what looked like " + taken.redacted()
                                        + " in it with [redacted: KIND]."),
                false);
    }

    /** Audits a stored message as {@code action}, then wakes delivery for its chat. */
    private void stored(Caller caller, String action, String to, Chat chat, Map<String, Object> details) {
        audit.append(AuditEvent.of(clock.instant(), Actor.agent(caller.agent().name()), action, Decision.ALLOW)
                .withAgent(caller.agent().name())
                .withSession(caller.session().id())
                .withRule(to.isEmpty() ? null : "destinations." + to)
                .withDetails(details));
        deliver.accept(chat.id());
    }

    /** The audit details of a stored message: where it goes (add what else the action names). */
    private static Map<String, Object> sent(String name, Chat chat, OutboundId stored) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("to", name);
        details.put("channel", chat.channel());
        details.put("chat", chat.platformChatId());
        details.put("outbound", stored.value());
        return details;
    }

    private Result tooFar(Caller caller, String to, int hops) {
        return deny(
                caller,
                to,
                "messages.max_hops",
                "this conversation between agents has gone " + hops + " hops, and a message may make at most "
                        + Hops.MAX + "; answer in your reply instead (agents answering each other stop here)");
    }

    private Result deny(Caller caller, String to, String rule, String why) {
        audit.append(AuditEvent.of(
                        clock.instant(), Actor.agent(caller.agent().name()), AuditActions.MESSAGE_DENY, Decision.DENY)
                .withAgent(caller.agent().name())
                .withSession(caller.session().id())
                .withRule(rule)
                .withReason(why)
                .withDetails(Map.of("to", clip(to))));
        return new Result(why, true);
    }

    private static String clip(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
