package dev.cordon.core.message;

import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.session.HostTools;
import dev.cordon.core.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The agent's {@code ask_user} tool, run on the host: the question goes to the chat like a reply,
 * through the outbox, with its options stored beside it (buttons where the channel has them, a
 * numbered list where not), and the turn waits for the person's answer: the first message of that
 * session received after the question was asked, or a timeout. The answer is taken out of the
 * session's inbox (it is part of this turn, not the next) and handed to the model; a number or an
 * option's text (a button press) picks an option. Call {@link #arrived} whenever a person's message is stored (not a
 * message of the scheduler or of another agent: those are no answer).
 * Thread-safe; {@link #call} blocks until the answer or the timeout.
 */
public final class Questions implements HostTools {
    public static final String ASK = "ask_user";

    static final int MAX_QUESTION = 4_000;
    static final int MAX_OPTIONS = 10;
    static final int MAX_OPTION = 200;
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<ChatId> deliver;
    private final Map<SessionId, Waiting> waiting = new ConcurrentHashMap<>();
    private volatile Consumer<ChatId> asked = chat -> {};

    /**
     * A question of one session: answered by the first person's message stored after it was asked.
     * {@code question} is its outbox row, once stored.
     */
    private record Waiting(CompletableFuture<Inbound> answer, ChatId chat, AtomicReference<OutboundId> question) {}

    /** @param deliver wakes delivery for a chat with a new outbound message */
    public Questions(Store store, AuditLog audit, Clock clock, Consumer<ChatId> deliver) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.deliver = deliver;
    }

    /**
     * Who hears that a question was put in a chat's outbox (the chat's approval cards, which then
     * say how they are answered). Set once, before the first question; called on the asking thread.
     */
    public void onAsked(Consumer<ChatId> listener) {
        this.asked = listener;
    }

    /**
     * The outbox row of the newest question that waits for an answer in {@code chat}, if any. Never
     * blocks.
     */
    public Optional<OutboundId> waitingIn(ChatId chat) {
        return waiting.values().stream()
                .filter(w -> w.chat().equals(chat) && !w.answer().isDone())
                .map(w -> {
                    synchronized (w) {
                        return w.question().get();
                    }
                })
                .filter(java.util.Objects::nonNull)
                .max(java.util.Comparator.comparingLong(OutboundId::value));
    }

    /**
     * A person's message was stored as {@code inbound}: if a question of its session waits, it is the
     * answer, taken out of the inbox now. Never blocks long.
     */
    public void arrived(InboundId inbound) {
        if (waiting.isEmpty()) {
            return;
        }
        Optional<Inbound> stored = store.inbound(inbound);
        Waiting w = stored.map(m -> waiting.get(m.sessionId())).orElse(null);
        if (w == null) {
            return;
        }
        synchronized (w) {
            if (!w.answer().isDone()) {
                store.claimInbound(inbound).ifPresent(w.answer()::complete);
            }
        }
    }

    @Override
    public Result call(Caller caller, String tool, Map<String, String> arguments) {
        if (!ASK.equals(tool)) {
            return new Result("this host offers no tool '" + tool + "'", true);
        }
        String question = arguments.getOrDefault("question", "").strip();
        if (question.isEmpty() || question.length() > MAX_QUESTION) {
            return new Result(ASK + ": question must be 1 to " + MAX_QUESTION + " characters", true);
        }
        List<String> options = new ArrayList<>();
        for (String line : arguments.getOrDefault("options", "").split("\n")) {
            if (!line.isBlank()) {
                options.add(line.strip());
            }
        }
        if (options.size() > MAX_OPTIONS || options.stream().anyMatch(o -> o.length() > MAX_OPTION)) {
            return new Result(
                    ASK + ": at most " + MAX_OPTIONS + " options of at most " + MAX_OPTION + " characters", true);
        }
        Duration timeout;
        try {
            String raw = arguments.get("timeout_seconds");
            timeout = raw == null || raw.isBlank() ? DEFAULT_TIMEOUT : Duration.ofSeconds(Long.parseLong(raw.strip()));
        } catch (NumberFormatException e) {
            timeout = Duration.ZERO;
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            return new Result(
                    ASK + ": timeout_seconds must be a whole number from 1 to " + MAX_TIMEOUT.toSeconds(), true);
        }
        if (AgentChannel.NAME.equals(caller.chat().channel())) {
            return new Result(
                    ASK + " asks a person, and this chat is a conversation with another agent: ask in your reply",
                    true);
        }
        SessionId session = caller.session().id();
        Waiting w = new Waiting(new CompletableFuture<>(), caller.chat().id(), new AtomicReference<>());
        // A question of a turn that broke off (its sandbox died) gives way to its retry's.
        Optional.ofNullable(waiting.put(session, w))
                .ifPresent(old -> old.answer().cancel(false));
        try {
            InboundId inReplyTo =
                    caller.batch().isEmpty() ? null : caller.batch().getLast().id();
            // Under w's lock, so that waitingIn, which takes it too, never misses a question stored
            // before an approval card that asks whether one waits.
            synchronized (w) {
                store.completeTurn(
                                session,
                                List.of(),
                                List.of(),
                                new Store.NewOutbound(
                                        caller.chat().id(),
                                        inReplyTo,
                                        question,
                                        false,
                                        "ask:" + caller.turnId() + ":" + Integer.toHexString(question.hashCode()),
                                        options))
                        .ifPresent(w.question()::set);
            }
            record(caller, AuditActions.USER_QUESTION, Decision.INFO, null, Map.of("options", options.size()));
            deliver.accept(caller.chat().id());
            asked.accept(caller.chat().id());
            Inbound answer = w.answer().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            // The answer belongs to this turn: done now, so no later turn takes it as a new message.
            store.completeTurn(session, List.of(answer.id()), List.of(), null);
            String said = answer.text().strip();
            int picked = pick(said, options);
            record(
                    caller,
                    AuditActions.USER_ANSWER,
                    Decision.INFO,
                    null,
                    Map.of("inbound", answer.id().value(), "option", picked));
            return new Result(
                    picked > 0
                            ? "The user chose option " + picked + ": " + options.get(picked - 1)
                            : "The user answered: " + said,
                    false);
        } catch (TimeoutException e) {
            record(caller, AuditActions.USER_ANSWER, Decision.DENY, "ask_user.timeout", Map.of());
            return new Result(
                    "No answer within " + timeout.toSeconds() + " s. Go on without it, and say what you assumed.",
                    false);
        } catch (CancellationException e) {
            return new Result("this question gave way to a newer one of this conversation", true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result("the host stopped waiting for the answer", true);
        } catch (ExecutionException e) {
            return new Result("the host could not wait for the answer: " + e.getCause(), true);
        } finally {
            waiting.remove(session, w);
        }
    }

    /**
     * The option a reply picks (1-based), or 0 if it picks none: its number ({@code 2}, {@code 2.})
     * as typed where the options were shown as a numbered list, or the option's own text (what a
     * button press reports, or what a person types), ignoring case and surrounding space.
     */
    static int pick(String said, List<String> options) {
        String answer = said.strip();
        for (int i = 0; i < options.size(); i++) {
            if (options.get(i).equalsIgnoreCase(answer)) {
                return i + 1;
            }
        }
        String digits = answer.endsWith(".") ? answer.substring(0, answer.length() - 1) : answer;
        if (digits.isEmpty() || digits.length() > 2 || !digits.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        int n = Integer.parseInt(digits);
        return n >= 1 && n <= options.size() ? n : 0;
    }

    private void record(Caller caller, String action, Decision decision, String rule, Map<String, Object> details) {
        audit.append(AuditEvent.of(clock.instant(), Actor.agent(caller.agent().name()), action, decision)
                .withAgent(caller.agent().name())
                .withSession(caller.session().id())
                .withRule(rule)
                .withDetails(details));
    }
}
