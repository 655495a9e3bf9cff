package dev.cordon.core.approval;

import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.access.UserId;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.store.Store;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Approvals in the chat where the turn runs (docs/approvals.md): a pending request is posted there
 * as a card with four options (buttons where the platform has them, a numbered list where not), and
 * a press or a typed answer ({@code 1}..{@code 4}, or the option's text) from that chat answers it
 * as its sender. The approval service decides whether the sender may approve: anyone else's answer
 * is ignored and audited there ({@code approval.ignored}), and the chat is told so. An answer is the
 * host's business: it never reaches the agent.
 *
 * <p>The card goes in reply to the message the turn answers ({@link Store#turnMessage}), so it lands
 * in that message's thread (a Slack or Discord thread, a Matrix thread, an email's References), and
 * so does everything said about it afterwards (the decision, a refused answer).
 *
 * <p>A typed answer goes to whichever waits on a person and was posted last: the newest approval
 * card, or the agent's {@code ask_user} question ({@link #questionsFrom}). The older one then says
 * so in the chat (a note on the card when it is posted, or a note when the question is), and is
 * answered by a press or a reply to it.
 *
 * <p>Only chats of a channel {@code chatPlatform} accepts get cards: a chat platform whose every
 * message is not read as the reply (not a webhook's reply endpoint, not another agent) and without
 * its own live view (the terminal and the web chat show approvals their own way).
 *
 * <p>Thread-safe. Listener methods and {@link #around} block on the store only.
 */
public final class ChatApprovals implements ApprovalService.Listener {
    /** The card's options, in the order their numbers answer. */
    public static final List<String> OPTIONS = List.of("Allow once", "Allow for this session", "Allow always", "Deny");

    private static final List<Approval.Scope> SCOPES =
            List.of(Approval.Scope.ONCE, Approval.Scope.SESSION, Approval.Scope.ALWAYS);
    /** How far back a chat's outbox is searched for a card a press answers. */
    private static final int CARDS_SEARCHED = 200;

    private final Store store;
    private final Predicate<String> chatPlatform;
    private final Consumer<ChatId> deliver;
    private volatile ApprovalService service;
    private volatile Function<ChatId, Optional<OutboundId>> questions = chat -> Optional.empty();

    /**
     * @param chatPlatform whether chats of a channel get cards (see the class comment)
     * @param deliver wakes delivery for a chat with a new outbound message
     */
    public ChatApprovals(Store store, Predicate<String> chatPlatform, Consumer<ChatId> deliver) {
        this.store = store;
        this.chatPlatform = chatPlatform;
        this.deliver = deliver;
    }

    /** The service is built with this object as (part of) its listener, so it is handed over afterwards. */
    public void serve(ApprovalService service) {
        this.service = service;
    }

    /**
     * Where the question that waits in a chat is, if one does: its outbox row ({@code
     * Questions#waitingIn}). Set once, before the first approval; without it no question is known.
     */
    public void questionsFrom(Function<ChatId, Optional<OutboundId>> waitingQuestion) {
        this.questions = waitingQuestion;
    }

    @Override
    public void requested(Approval a) {
        chatOf(a).ifPresent(chat -> {
            String text = card(a);
            if (questions.apply(a.chat()).isPresent()) {
                text += "\n" + QUESTION_BEFORE;
            }
            InboundId turn = store.turnMessage(a.session()).map(Inbound::id).orElse(null);
            post(a, turn, text, "approval:" + a.id().value(), OPTIONS);
        });
    }

    /** What a card posted while the agent's question waits says. */
    public static final String QUESTION_BEFORE =
            "(The agent's question above waits too: a typed answer now answers this"
                    + " approval. Answer the question by replying to it or with its buttons.)";

    @Override
    public void decided(Approval a) {
        chatOf(a)
                .ifPresent(chat -> post(
                        a,
                        "Approval #" + a.id().value() + ": " + outcome(a) + ".",
                        "approval:" + a.id().value() + ":decided"));
    }

    /**
     * The agent put a question in {@code chat}'s outbox: each approval that waits there with a card
     * posted before it says, in the card's thread, that typed answers now go to the question and how
     * to answer the approval.
     */
    public void questionAsked(ChatId chat) {
        Optional<OutboundId> question = questions.apply(chat);
        if (service == null || question.isEmpty()) {
            return;
        }
        long asked = question.get().value();
        for (Approval a : service.pending()) {
            // A card posted after the question keeps typed answers, and said so itself.
            if (a.chat().equals(chat)
                    && cardOf(a).filter(card -> card.id().value() < asked).isPresent()) {
                post(
                        a,
                        "Approval #" + a.id().value() + " still waits, but a typed answer now answers the"
                                + " agent's question. Answer approval #" + a.id().value()
                                + " with a button on its card, or by replying to it.",
                        "approval:" + a.id().value() + ":behind:"
                                + question.get().value());
            }
        }
    }

    /**
     * {@code next}, with answers to a chat's pending approvals taken out first: such a message is
     * answered by the host ({@link InboundSink.InboundResult.Answered}) and never passed on.
     */
    public InboundSink around(InboundSink next) {
        return message -> answer(message).orElseGet(() -> next.accept(message));
    }

    private Optional<InboundSink.InboundResult> answer(NewInbound message) {
        int choice = choice(message.text());
        if (choice == 0 || service == null || !chatPlatform.test(message.channel())) {
            return Optional.empty();
        }
        // The router stores every message's chat anyway; the chat of a card exists already.
        ChatId chat =
                store.ensureChat(message.channel(), message.platformChatId()).id();
        Approval target;
        String replyTo = message.replyToPlatformMessageId();
        if (replyTo != null) {
            // A press (or a reply) on a card answers that card's approval, whatever its state now;
            // on any other message (an ask_user question) it is not ours.
            Optional<Approval> carded = card(chat, replyTo)
                    .flatMap(o -> service.find(
                            new ApprovalId(Long.parseLong(o.idempotencyKey().substring("approval:".length())))));
            if (carded.isEmpty()) {
                return Optional.empty();
            }
            target = carded.get();
        } else {
            List<Approval> here = service.pending().stream()
                    .filter(a -> a.chat().equals(chat))
                    .toList();
            if (here.isEmpty() || !newestWaiting(here, questions.apply(chat))) {
                return Optional.empty();
            }
            if (here.size() > 1) {
                return Optional.of(answered(
                        here.getFirst(),
                        message,
                        here.size() + " approvals wait in this chat ("
                                + String.join(
                                        ", ",
                                        here.stream()
                                                .map(a -> "#" + a.id().value())
                                                .toList())
                                + "): press a button on the card you mean, or reply to it."));
            }
            target = here.getFirst();
        }
        String approver = new UserId(message.channel(), message.senderId()).toString();
        Answer answer = choice == OPTIONS.size()
                ? new Answer.Deny("denied in chat")
                : new Answer.Grant(SCOPES.get(choice - 1), 0, null, "answered in chat");
        AnswerResult result = service.answer(target.id(), approver, answer);
        String id = "#" + target.id().value();
        return Optional.of(
                switch (result) {
                    // The decision itself is posted to the chat by decided().
                    case AnswerResult.Decided d -> new InboundSink.InboundResult.Answered(outcome(d.approval()));
                    case AnswerResult.Ignored i ->
                        answered(
                                target,
                                message,
                                "Only an owner or an admin of "
                                        + target.agentName().value() + " may answer approval "
                                        + id + " (" + i.why()
                                        + "). Your answer was ignored and recorded in the audit log.");
                    case AnswerResult.AlreadyDecided a ->
                        answered(target, message, "Approval " + id + " was already " + outcome(a.approval()) + ".");
                    case AnswerResult.Expired e ->
                        answered(target, message, "Approval " + id + " " + outcome(e.approval()) + ".");
                    case AnswerResult.Unknown u -> answered(target, message, "There is no approval " + id + ".");
                });
    }

    /**
     * The option an answer picks (1-based: 1..3 grant once/session/always, 4 denies), or 0: its
     * number, or an option's text, ignoring case and surrounding space.
     */
    static int choice(String text) {
        String said = text.strip();
        for (int i = 0; i < OPTIONS.size(); i++) {
            if (OPTIONS.get(i).equalsIgnoreCase(said) || said.equals(Integer.toString(i + 1))) {
                return i + 1;
            }
        }
        return 0;
    }

    /**
     * Whether a card of {@code here} was posted after the question that waits in the chat (if one
     * does): only then is a typed answer the approvals'. A card not found is taken as older.
     */
    private boolean newestWaiting(List<Approval> here, Optional<OutboundId> question) {
        if (question.isEmpty()) {
            return true;
        }
        long asked = question.get().value();
        return here.stream()
                .anyMatch(a -> cardOf(a).map(card -> card.id().value() > asked).orElse(false));
    }

    /** The card of approval {@code a} in its chat's recent outbox. */
    private Optional<Outbound> cardOf(Approval a) {
        String key = "approval:" + a.id().value();
        return cards(a.chat()).filter(o -> o.idempotencyKey().equals(key)).findFirst();
    }

    private Optional<Chat> chatOf(Approval a) {
        return store.chat(a.chat()).filter(c -> chatPlatform.test(c.channel()));
    }

    /**
     * The card shown as {@code platformMessageId} in {@code chat}. A press can come before delivery
     * has marked the card delivered with its platform id (a person pressing within milliseconds,
     * a test): then the one card of the chat still without a platform id is taken, unless the id is
     * that of another known message.
     */
    private Optional<Outbound> card(ChatId chat, String platformMessageId) {
        List<Outbound> recent = cards(chat).toList();
        Optional<Outbound> shown =
                recent.stream().filter(o -> shows(o, platformMessageId)).findFirst();
        if (shown.isPresent()) {
            return shown.filter(ChatApprovals::isCard);
        }
        List<Outbound> unconfirmed = recent.stream()
                .filter(o -> isCard(o) && o.platformMessageId() == null)
                .toList();
        return unconfirmed.size() == 1 ? Optional.of(unconfirmed.getFirst()) : Optional.empty();
    }

    private static boolean isCard(Outbound o) {
        return o.idempotencyKey().matches("approval:[0-9]+");
    }

    private Stream<Outbound> cards(ChatId chat) {
        return store.recentOutbound(chat, CARDS_SEARCHED).stream();
    }

    /** A split message's platform ids are comma-joined (Fitting); its buttons are on a part of it. */
    private static boolean shows(Outbound o, String platformMessageId) {
        return o.platformMessageId() != null
                && List.of(o.platformMessageId().split(",")).contains(platformMessageId);
    }

    private InboundSink.InboundResult answered(Approval a, NewInbound message, String text) {
        post(
                a,
                text,
                "approval:" + a.id().value() + ":answer:" + message.channel() + ":" + message.platformMessageId());
        return new InboundSink.InboundResult.Answered(text);
    }

    /** Posts {@code text} about {@code a} in its card's thread (in reply to what the card replied to). */
    private void post(Approval a, String text, String key) {
        post(a, cardOf(a).map(Outbound::inReplyTo).orElse(null), text, key, List.of());
    }

    private void post(Approval a, InboundId inReplyTo, String text, String key, List<String> options) {
        store.completeTurn(
                a.session(),
                List.of(),
                List.of(),
                new Store.NewOutbound(a.chat(), inReplyTo, text, false, key, options));
        deliver.accept(a.chat());
    }

    /** The card: what is asked, the payload in full, with invisible and control characters shown as markers. */
    static String card(Approval a) {
        StringBuilder text = new StringBuilder()
                .append("Approval #")
                .append(a.id().value())
                .append(" · ")
                .append(a.agentName().value())
                .append(" asks: ")
                .append(a.kind())
                .append('\n')
                .append(visible(a.summary()));
        for (Map.Entry<String, String> field : a.payload().entrySet()) {
            text.append("\n  ").append(field.getKey()).append(": ").append(visible(field.getValue()));
        }
        return text.append("\nDenied if nobody answers by ")
                .append(a.expiresAt())
                .append(". Only an owner or an admin of ")
                .append(a.agentName().value())
                .append(" may answer.")
                .toString();
    }

    /** "granted by telegram:42 (once)", "denied by …", "expired …". */
    private static String outcome(Approval a) {
        return switch (a.status()) {
            case PENDING -> "pending";
            case GRANTED ->
                "granted by " + a.decidedBy() + " (" + a.scope().name().toLowerCase(Locale.ROOT) + ")";
            case DENIED -> "denied by " + a.decidedBy();
            case EXPIRED -> a.reason() == null ? "expired" : a.reason();
        };
    }

    /**
     * What a sandbox wrote, safe to show: control characters but the newline, and invisible format
     * characters (a right-to-left override that reverses a file name), become {@code ⟨U+202E⟩}.
     */
    static String visible(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> {
            int type = Character.getType(c);
            if (c != '\n' && (type == Character.CONTROL || type == Character.FORMAT)) {
                out.append(String.format(Locale.ROOT, "⟨U+%04X⟩", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
