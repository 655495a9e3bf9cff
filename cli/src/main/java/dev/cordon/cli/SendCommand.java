package dev.cordon.cli;

import dev.cordon.cli.ControlConnection.Closed;
import dev.cordon.cli.ControlConnection.Incoming;
import dev.cordon.cli.ControlConnection.Received;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.Accepted;
import dev.cordon.protocol.control.ControlEvent.Attached;
import dev.cordon.protocol.control.ControlEvent.Delta;
import dev.cordon.protocol.control.ControlEvent.Failure;
import dev.cordon.protocol.control.ControlEvent.Reply;
import dev.cordon.protocol.control.ControlEvent.Reset;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "send",
        description = {
            "Send one message to an agent, wait for its reply and print it (for scripts).",
            "The reply goes to stdout; a failed turn's reason to stderr (exit 1)."
        },
        mixinStandardHelpOptions = true)
final class SendCommand implements Callable<Integer> {
    @ParentCommand
    CordonCommand root;

    @Option(
            names = {"-a", "--agent"},
            paramLabel = "NAME",
            defaultValue = ChatCommand.DEFAULT_AGENT,
            description = "The agent to send to (default: ${DEFAULT-VALUE}).")
    String agent;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "300",
            description = "How long to wait for the reply (default: ${DEFAULT-VALUE}). On timeout the reply is"
                    + " kept and shown by ./cordon chat.")
    long timeoutSeconds;

    @Option(names = "--stream", description = "Print the reply as it is written instead of when it is complete.")
    boolean stream;

    @Parameters(
            arity = "1..*",
            paramLabel = "TEXT",
            description = "The message; several words are joined with spaces. '-' reads it from stdin.")
    List<String> words;

    @Override
    public Integer call() {
        Context ctx = root.context();
        String text = text(ctx);
        if (timeoutSeconds <= 0) {
            throw new CliException(Exit.USAGE, "--timeout must be a positive number of seconds.");
        }
        Daemon daemon = root.daemon();
        CordonCommand.requireModel(daemon.ensureRunning());
        try (ControlConnection connection = daemon.connect()) {
            // No replay: pending replies belong to whoever chats next, not in this command's output.
            connection.send(new ControlRequest.Attach(agent, false));
            daemon.expect(connection, Attached.class, "the attach confirmation");
            String clientMessageId = UUID.randomUUID().toString();
            connection.send(new ControlRequest.Say(agent, clientMessageId, text));
            return new Wait(connection, ctx.out(), ctx.err(), clientMessageId)
                    .until(System.nanoTime()
                            + Duration.ofSeconds(timeoutSeconds).toNanos());
        }
    }

    private String text(Context ctx) {
        String text;
        if (words.size() == 1 && words.getFirst().equals("-")) {
            try {
                text = new String(ctx.in().readAllBytes(), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new CliException(Exit.USAGE, "Could not read the message from stdin: " + e.getMessage(), e);
            }
        } else {
            text = String.join(" ", words).strip();
        }
        if (text.isEmpty()) {
            throw new CliException(Exit.USAGE, "Nothing to send: the message is empty.");
        }
        return text;
    }

    /**
     * Waits for the reply to one message. Deltas carry no message id, so with {@code --stream} the
     * text of a turn that was already running for another terminal could be taken for ours; when its
     * reply shows that, the mix-up is said on stderr and our reply is printed whole.
     */
    private final class Wait {
        private final ControlConnection connection;
        private final PrintStream out;
        private final PrintStream err;
        private final String clientMessageId;
        private long inboundId = -1;
        private final StringBuilder streamed = new StringBuilder();

        Wait(ControlConnection connection, PrintStream out, PrintStream err, String clientMessageId) {
            this.connection = connection;
            this.out = out;
            this.err = err;
            this.clientMessageId = clientMessageId;
        }

        int until(long deadline) {
            while (true) {
                Incoming incoming;
                try {
                    incoming = connection.next(Duration.ofNanos(deadline - System.nanoTime()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException(Exit.TIMEOUT, "Interrupted while waiting for the reply.", e);
                }
                switch (incoming) {
                    case null -> {
                        endStreamedLine();
                        throw new CliException(
                                Exit.TIMEOUT,
                                inboundId < 0
                                        ? "The daemon did not confirm the message within " + timeoutSeconds + " s."
                                        : "No reply within " + timeoutSeconds + " s. " + agent
                                                + " keeps working; the reply will be kept and shown by ./cordon chat.");
                    }
                    case Closed closed -> {
                        endStreamedLine();
                        throw new CliException(
                                Exit.UNREACHABLE,
                                "Lost the connection to the Cordon daemon: " + closed.reason() + ".\n"
                                        + (inboundId < 0
                                                ? "The message may not have been stored; send it again."
                                                : "The message is stored; its reply will be shown by ./cordon chat."));
                    }
                    case Received(ControlEvent event) -> {
                        Integer exit = handle(event);
                        if (exit != null) {
                            return exit;
                        }
                    }
                }
            }
        }

        /** Returns the exit code once the command is done, null to keep waiting. */
        private Integer handle(ControlEvent event) {
            switch (event) {
                case Accepted accepted -> {
                    if (accepted.clientMessageId().equals(clientMessageId)) {
                        inboundId = accepted.inboundId();
                    }
                }
                case Delta delta -> {
                    if (stream && inboundId >= 0 && delta.agent().equals(agent)) {
                        streamed.append(delta.text());
                        out.print(delta.text());
                        out.flush();
                    }
                }
                case Reset reset -> {
                    if (stream && !streamed.isEmpty()) {
                        endStreamedLine();
                        err.println("[retrying: " + reset.reason() + "]");
                    }
                    streamed.setLength(0);
                }
                case Reply reply -> {
                    if (inboundId < 0 || reply.inReplyTo() != inboundId) {
                        // Another terminal's turn. Not ours to acknowledge: its owner has not seen it.
                        if (!streamed.isEmpty()) {
                            endStreamedLine();
                            err.println("[the text above answered another message; waiting for the reply to yours]");
                        }
                        streamed.setLength(0);
                        return null;
                    }
                    boolean shown = !streamed.isEmpty();
                    if (reply.failed()) {
                        endStreamedLine();
                        err.println("error: " + reply.text());
                    } else if (shown && reply.text().startsWith(streamed.toString())) {
                        // The daemon holds back the stream's last words until it knows they carry no secret.
                        String rest = reply.text().substring(streamed.length());
                        streamed.append(rest);
                        out.print(rest);
                        endStreamedLine();
                    } else if (shown) {
                        endStreamedLine();
                        out.println(reply.text()); // not what was streamed (withheld by the data-loss guard)
                    } else {
                        out.println(reply.text());
                    }
                    out.flush();
                    connection.send(new ControlRequest.ReplyAck(reply.outboundId()));
                    return reply.failed() ? Exit.REPLY_FAILED : Exit.OK;
                }
                case Failure failure -> throw new CliException(Exit.UNREACHABLE, failure.message());
                case ControlEvent.ApprovalRequested requested -> {
                    // On stderr: stdout is the reply, for scripts. The turn waits for the answer,
                    // which another shell gives with the commands on the card.
                    if (requested.approval().agent().equals(agent)) {
                        if (!streamed.isEmpty()) {
                            err.println();
                        }
                        ApprovalCards.card(requested.approval()).forEach(err::println);
                        err.flush();
                    }
                }
                case ControlEvent.ApprovalDecided decided -> {
                    if (decided.approval().agent().equals(agent)) {
                        err.println("[approval #" + decided.approval().id() + " "
                                + ApprovalCards.flat(decided.message()) + "]");
                    }
                }
                case ControlEvent.Notice notice -> {
                    if (notice.agent().equals(agent)) {
                        err.println("[cordon: " + ApprovalCards.flat(notice.message()) + "]");
                    }
                }
                case ControlEvent.StatusReport ignored -> {}
                case ControlEvent.SessionListing ignored -> {}
                case ControlEvent.AgentListing ignored -> {}
                case ControlEvent.Stopping ignored -> {}
                case ControlEvent.DashboardLink ignored -> {}
                case Attached ignored -> {}
                case ControlEvent.AccessAnswer ignored -> {}
                case ControlEvent.ApprovalListing ignored -> {}
                case ControlEvent.ApprovalCard ignored -> {}
                case ControlEvent.ApprovalProblem ignored -> {}
                case ControlEvent.TaskListing ignored -> {}
                case ControlEvent.TaskDetail ignored -> {}
            }
            return null;
        }

        private void endStreamedLine() {
            if (!streamed.isEmpty() && streamed.charAt(streamed.length() - 1) != '\n') {
                out.println();
            }
            streamed.setLength(0);
            out.flush();
        }
    }
}
