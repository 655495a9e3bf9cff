package dev.cordon.cli;

import dev.cordon.cli.ChatView.TurnEnd;
import dev.cordon.protocol.control.ControlEvent.Attached;
import dev.cordon.protocol.control.ControlEvent.StatusReport;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Duration;
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
            String line = io.readLine();
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
            switch (turn.join()) {
                case ANSWERED, REFUSED -> {}
                case STOPPED_WAITING ->
                    io.screen().note("[" + agent + " keeps working; its reply will appear here when it is done]");
                case DISCONNECTED -> throw gone(view.disconnected());
            }
        }
    }

    private CliException gone(String reason) {
        return new CliException(
                Exit.UNREACHABLE,
                "The Cordon daemon went away (" + reason + "). Your messages are stored;"
                        + " run ./cordon again to continue (it restarts the daemon).");
    }
}
