package dev.cordon.cli;

import dev.cordon.cli.ControlConnection.Closed;
import dev.cordon.cli.ControlConnection.Incoming;
import dev.cordon.cli.ControlConnection.Received;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.Accepted;
import dev.cordon.protocol.control.ControlEvent.Attached;
import dev.cordon.protocol.control.ControlEvent.Delta;
import dev.cordon.protocol.control.ControlEvent.Failure;
import dev.cordon.protocol.control.ControlEvent.Reply;
import dev.cordon.protocol.control.ControlEvent.Reset;
import dev.cordon.protocol.control.ControlEvent.StatusReport;
import dev.cordon.protocol.control.ControlEvent.Stopping;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Turns an attached connection's events into what the user sees, and tracks the turn the user is
 * waiting for.
 *
 * <p>Two modes. In the foreground (the user just sent a message and waits), deltas are printed as
 * they arrive and the reply only ends the line. In the background (the user is at the prompt, or
 * pressed Ctrl-C), deltas are only collected and each reply is printed whole, above the prompt.
 * Because a delta carries no message id, a reply's text is printed whole unless its deltas were
 * shown from the very first one.
 *
 * <p>A reply is acknowledged after it was printed, never before: the daemon marks it delivered on
 * the acknowledgement, and a reply that was not shown must come back on the next attach.
 *
 * <p>Events are handled on one dispatcher thread ({@link #dispatch}); the other methods are called
 * from the main thread and the Ctrl-C handler. All state is guarded by {@code this}.
 */
final class ChatView {

    /** How a turn the main thread waited for ended. */
    enum TurnEnd {
        /** Its reply (possibly a failed one) was shown. */
        ANSWERED,
        /** The daemon refused the message. */
        REFUSED,
        /** The user pressed Ctrl-C; the reply will be shown when it comes. */
        STOPPED_WAITING,
        /** The connection ended. */
        DISCONNECTED
    }

    private final String agent;
    private final ControlConnection connection;
    private final Screen screen;
    private final CountDownLatch pendingShown;

    private final StringBuilder current = new StringBuilder();
    private boolean shownFromStart;
    private boolean foreground;
    private String awaitedClientId;
    private long awaitedInboundId = -1;
    private CompletableFuture<TurnEnd> turn;
    private final Set<Long> unanswered = new HashSet<>();
    /** Cards that came while the user waited for a turn: the main thread asks about each. */
    private final ArrayDeque<ApprovalView> questions = new ArrayDeque<>();
    /** Completed (and replaced) when a question is queued. */
    private CompletableFuture<Void> asked = new CompletableFuture<>();

    private boolean leaving;
    private String disconnected;

    ChatView(String agent, ControlConnection connection, Screen screen, int pendingReplies) {
        this.agent = agent;
        this.connection = connection;
        this.screen = screen;
        this.pendingShown = new CountDownLatch(pendingReplies);
    }

    /** Handles events until the connection ends. Runs on the dispatcher thread. */
    void dispatch() {
        while (true) {
            Incoming incoming;
            try {
                incoming = connection.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            switch (incoming) {
                case Received(ControlEvent event) -> handle(event);
                case Closed closed -> {
                    disconnected(closed.reason());
                    return;
                }
            }
        }
    }

    /** Waits until the replies replayed on attach were shown (and acknowledged), or the timeout. */
    boolean awaitPendingShown(Duration timeout) throws InterruptedException {
        return pendingShown.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Starts waiting for the reply to the message that is about to be sent with {@code
     * clientMessageId}; the returned future completes when the wait ends.
     */
    synchronized CompletableFuture<TurnEnd> beginTurn(String clientMessageId) {
        turn = new CompletableFuture<>();
        if (disconnected != null) {
            turn.complete(TurnEnd.DISCONNECTED);
            return turn;
        }
        awaitedClientId = clientMessageId;
        awaitedInboundId = -1;
        foreground = true;
        return turn;
    }

    /** Ctrl-C: stop waiting for the current turn; its reply is shown above the prompt later. */
    synchronized void stopWaiting() {
        if (turn == null) {
            return;
        }
        if (shownFromStart && !current.isEmpty()) {
            screen.endStream();
        }
        shownFromStart = false;
        end(TurnEnd.STOPPED_WAITING);
    }

    /** Completes when a question is waiting for {@link #nextQuestion}, at once if one already is. */
    synchronized CompletableFuture<Void> questionAsked() {
        return questions.isEmpty() ? asked : CompletableFuture.completedFuture(null);
    }

    /** The oldest card of the awaited turn not yet asked about, or null. */
    synchronized ApprovalView nextQuestion() {
        return questions.poll();
    }

    /** Whether a message was accepted whose reply has not been shown yet. */
    synchronized boolean awaitingReplies() {
        return !unanswered.isEmpty();
    }

    /** The reason the connection ended, or null while it is open. */
    synchronized String disconnected() {
        return disconnected;
    }

    /** The user is leaving: the connection's end that follows is expected, not news. */
    synchronized void leave() {
        leaving = true;
    }

    synchronized void handle(ControlEvent event) {
        switch (event) {
            case Accepted accepted -> {
                unanswered.add(accepted.inboundId());
                if (accepted.clientMessageId().equals(awaitedClientId)) {
                    awaitedInboundId = accepted.inboundId();
                }
            }
            case Delta delta -> {
                if (delta.agent().equals(agent)) {
                    onDelta(delta.text());
                }
            }
            case Reset reset -> {
                if (reset.agent().equals(agent)) {
                    onReset(reset.reason());
                }
            }
            case Reply reply -> {
                if (reply.agent().equals(agent)) {
                    onReply(reply);
                }
            }
            case Failure failure -> {
                screen.failure(failure.message());
                // A failure before the message was accepted answers the message: it was not stored.
                if (turn != null && awaitedInboundId < 0) {
                    end(TurnEnd.REFUSED);
                }
            }
            case ControlEvent.ApprovalRequested requested -> {
                if (requested.approval().agent().equals(agent)) {
                    onApprovalCard(requested.approval());
                }
            }
            case ControlEvent.ApprovalDecided decided -> {
                if (decided.approval().agent().equals(agent)) {
                    questions.removeIf(q -> q.id() == decided.approval().id()); // answered elsewhere
                    screen.note("[approval #" + decided.approval().id() + " " + ApprovalCards.flat(decided.message())
                            + "]");
                }
            }
            case ControlEvent.Notice notice -> {
                if (notice.agent().equals(agent)) {
                    screen.note("[cordon: " + ApprovalCards.flat(notice.message()) + "]");
                }
            }
            case StatusReport ignored -> {}
            case ControlEvent.SessionListing ignored -> {}
            case ControlEvent.AgentListing ignored -> {}
            case Stopping ignored -> {}
            case ControlEvent.DashboardLink ignored -> {}
            case Attached ignored -> {}
            case ControlEvent.AccessAnswer ignored -> {}
            case ControlEvent.ApprovalListing ignored -> {}
            case ControlEvent.ApprovalCard ignored -> {}
            case ControlEvent.ApprovalProblem ignored -> {}
            case ControlEvent.TaskListing ignored -> {}
            case ControlEvent.TaskDetail ignored -> {}
        }
    }

    private void onDelta(String text) {
        if (current.isEmpty()) {
            shownFromStart = foreground;
        }
        current.append(text);
        if (shownFromStart) {
            screen.stream(text);
        }
    }

    /**
     * A card interrupts a streamed reply: the stream's line ends, and the reply is then printed whole
     * when it comes (the part before the card would otherwise be cut off from the rest).
     */
    private void onApprovalCard(dev.cordon.protocol.control.ApprovalView approval) {
        if (shownFromStart && !current.isEmpty()) {
            screen.endStream();
        }
        shownFromStart = false;
        ApprovalCards.card(approval).forEach(screen::note);
        // The user waits for this turn and cannot type a command: the main thread asks instead.
        if (turn != null && foreground && "pending".equals(approval.status())) {
            questions.add(approval);
            CompletableFuture<Void> signal = asked;
            asked = new CompletableFuture<>();
            signal.complete(null);
        }
    }

    private void onReset(String reason) {
        if (shownFromStart && !current.isEmpty()) {
            screen.endStream();
        }
        screen.note("[retrying: " + reason + "]");
        current.setLength(0);
        shownFromStart = false;
    }

    private void onReply(Reply reply) {
        boolean streamed = shownFromStart && !current.isEmpty();
        String shown = current.toString();
        if (streamed && !reply.failed() && reply.text().startsWith(shown)) {
            // The daemon holds back the stream's last words until it knows they carry no secret.
            String rest = reply.text().substring(shown.length());
            if (!rest.isEmpty()) {
                screen.stream(rest);
            }
            screen.endStream();
        } else {
            if (streamed) {
                screen.endStream();
            }
            if (reply.failed()) {
                screen.failure(reply.text());
            } else if (!streamed || !reply.text().equals(shown)) {
                screen.reply(reply.text()); // not what was streamed (withheld by the data-loss guard)
            }
        }
        current.setLength(0);
        shownFromStart = false;
        try {
            connection.send(new ControlRequest.ReplyAck(reply.outboundId()));
        } catch (CliException e) {
            // The connection is gone; the dispatcher sees its end next. Not acknowledged, the reply
            // stays undelivered and is shown again on the next attach: a duplicate, never a loss.
        }
        unanswered.remove(reply.inReplyTo());
        pendingShown.countDown();
        if (turn != null && awaitedInboundId >= 0 && reply.inReplyTo() == awaitedInboundId) {
            end(TurnEnd.ANSWERED);
        }
    }

    private synchronized void disconnected(String reason) {
        disconnected = reason;
        if (!leaving) {
            if (shownFromStart && !current.isEmpty()) {
                screen.endStream();
            }
            screen.note("[the daemon went away: " + reason + "]");
        }
        while (pendingShown.getCount() > 0) {
            pendingShown.countDown();
        }
        if (turn != null) {
            end(TurnEnd.DISCONNECTED);
        }
    }

    private void end(TurnEnd how) {
        foreground = false;
        questions.clear(); // the turn is over: what it asked has been decided, or expired
        awaitedClientId = null;
        awaitedInboundId = -1;
        CompletableFuture<TurnEnd> ended = turn;
        turn = null;
        ended.complete(how);
    }
}
