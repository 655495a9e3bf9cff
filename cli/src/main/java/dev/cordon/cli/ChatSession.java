package dev.cordon.cli;

import dev.cordon.cli.ChatView.TurnEnd;
import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.Attached;
import dev.cordon.protocol.control.ControlEvent.StatusReport;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * One {@code cordon chat}: attach to the agent's terminal chat, show what arrived while the user was
 * away, then send each line and show the reply.
 *
 * <p>Threads: the main thread reads lines and waits for turns; a virtual thread runs {@link
 * ChatView#dispatch}; Ctrl-C runs on JLine's signal thread. Leaving (Ctrl-D, end of stdin) does not
 * stop the daemon: turns still running finish there and their replies wait for the next attach.
 */
final class ChatSession {
    private static final Duration PENDING_TIMEOUT = Duration.ofSeconds(10);

    private final Context ctx;
    private final Daemon daemon;
    private final String agent;
    /** A line typed at an approval's question after its turn had ended: the next message. */
    private String typedAhead;

    ChatSession(Context ctx, Daemon daemon, String agent) {
        this.ctx = ctx;
        this.daemon = daemon;
        this.agent = agent;
    }

    int run() {
        StatusReport status = daemon.ensureRunning();
        CordonCommand.requireModel(status);
        try (ControlConnection connection = daemon.connect();
                ChatIo io = ctx.terminal() ? TerminalChatIo.open(daemon.home()) : new PlainChatIo(ctx)) {
            connection.send(new ControlRequest.Attach(agent, true));
            Attached attached = daemon.expect(connection, Attached.class, "the attach confirmation");
            io.info("Chatting with " + agent + (status.model() == null ? "" : " (" + status.model() + ")")
                    + ". Ctrl-D to leave; the daemon keeps running.");
            if (attached.pendingReplies() > 0) {
                io.screen()
                        .note("[" + attached.pendingReplies()
                                + (attached.pendingReplies() == 1 ? " reply" : " replies")
                                + " arrived while you were away]");
            }
            ChatView view = new ChatView(agent, connection, io.screen(), attached.pendingReplies());
            Thread dispatcher = Thread.ofVirtual().name("cordon-chat-events").start(view::dispatch);
            view.awaitPendingShown(PENDING_TIMEOUT);
            io.onInterrupt(view::stopWaiting);
            try {
                return converse(io, connection, view);
            } finally {
                view.leave();
                connection.close();
                dispatcher.join(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Exit.OK;
        }
    }

    private int converse(ChatIo io, ControlConnection connection, ChatView view) {
        while (true) {
            String line = typedAhead != null ? typedAhead : io.readLine();
            typedAhead = null;
            if (line == null) {
                if (view.awaitingReplies()) {
                    io.info(agent + " is still working; its reply will be shown the next time you chat.");
                }
                return Exit.OK;
            }
            if (view.disconnected() != null) {
                throw gone(view.disconnected());
            }
            if (line.isBlank()) {
                continue;
            }
            String clientMessageId = UUID.randomUUID().toString();
            CompletableFuture<TurnEnd> turn = view.beginTurn(clientMessageId);
            connection.send(new ControlRequest.Say(agent, clientMessageId, line));
            switch (awaitTurn(io, view, turn)) {
                case ANSWERED, REFUSED -> {}
                case STOPPED_WAITING ->
                    io.screen().note("[" + agent + " keeps working; its reply will appear here when it is done]");
                case DISCONNECTED -> throw gone(view.disconnected());
            }
        }
    }

    /** Waits for the turn to end, asking the user about each approval card it brings meanwhile. */
    private TurnEnd awaitTurn(ChatIo io, ChatView view, CompletableFuture<TurnEnd> turn) {
        while (true) {
            CompletableFuture.anyOf(turn, view.questionAsked()).join();
            if (turn.isDone()) {
                return turn.join();
            }
            ApprovalView question = view.nextQuestion();
            if (question != null) {
                answer(io, question, turn);
            }
        }
    }

    /**
     * Asks whether to grant the approval the card above showed, and sends the answer on a
     * connection of its own; the decision then comes back as a note on the chat's connection,
     * as it does when it is made anywhere else. Enter leaves it pending.
     */
    private void answer(ChatIo io, ApprovalView approval, CompletableFuture<TurnEnd> turn) {
        long id = approval.id();
        io.screen()
                .note("[approve #" + id + "? y: once, s: for this session, a: always for " + agent
                        + ", n: deny, Enter: not now]");
        while (true) {
            String line = io.readLine();
            if (line == null || line.isBlank()) {
                io.screen().note("[#" + id + " waits: ./cordon approvals approve|deny " + id + "]");
                return;
            }
            // 1 to 4 as well: the numbers a chat platform's card lists its options with
            ControlRequest request = switch (line.strip().toLowerCase(Locale.ROOT)) {
                case "y", "yes", "1" -> new ControlRequest.ApprovalApprove(id, "once", 0, 0, null);
                case "s", "session", "2" -> new ControlRequest.ApprovalApprove(id, "session", 0, 0, null);
                case "a", "always", "3" -> new ControlRequest.ApprovalApprove(id, "always", 0, 0, null);
                case "n", "no", "4" -> new ControlRequest.ApprovalDeny(id, null);
                default -> null;
            };
            if (request == null && turn.isDone()) {
                // The turn ended while the question stood (its reply is above): the user is typing
                // the next message, not an answer.
                typedAhead = line;
                return;
            }
            if (request == null) {
                io.screen().note("[answer y, s, a or n; Enter leaves #" + id + " for later]");
                continue;
            }
            try (ControlConnection answering = daemon.connect()) {
                answering.send(request);
                ControlEvent event = daemon.expect(answering, ControlEvent.class, "the approval's answer");
                if (event instanceof ControlEvent.ApprovalProblem problem) {
                    io.screen().failure(problem.message()); // decided or expired meanwhile
                }
            } catch (CliException e) { // refused (a Failure), or the daemon did not answer
                io.screen().failure(e.getMessage());
            }
            return;
        }
    }

    private CliException gone(String reason) {
        return new CliException(
                Exit.UNREACHABLE,
                "The Cordon daemon went away (" + reason + "). Your messages are stored;"
                        + " run ./cordon again to continue (it restarts the daemon).");
    }
}
