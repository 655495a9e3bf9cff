package dev.cordon.server;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.channel.OutgoingMessage;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The terminal as a channel like any other: {@code cordon chat} and {@code cordon send} are its
 * clients over the control socket. Its platform chat id is the agent's name; its platform message
 * id is the client's message id. A reply goes to every interactive terminal attached to the chat
 * and to the client that sent the message it answers; it counts as delivered when one of them
 * acknowledges it, and otherwise waits for the next terminal to attach. Thread-safe.
 */
final class TerminalChannel implements ChannelAdapter {
    static final String NAME = "terminal";
    static final String OWNER = "owner";
    private static final long ACK_TIMEOUT_SECONDS = 15;

    private final Map<String, Set<ControlConnection>> attached = new ConcurrentHashMap<>();
    private final Map<String, ControlConnection> senders = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Void>> acks = new ConcurrentHashMap<>();
    private volatile InboundSink sink;

    void connect(InboundSink sink) {
        this.sink = sink;
    }

    @Override
    public String name() {
        return NAME;
    }

    void attach(ControlConnection client, String chat) {
        attached.computeIfAbsent(chat, c -> ConcurrentHashMap.newKeySet()).add(client);
    }

    void detach(ControlConnection client) {
        attached.values().forEach(set -> set.remove(client));
        senders.values().removeIf(c -> c == client);
    }

    /**
     * Stores the owner's message; only then is it acknowledged to the client (invariant 6), and
     * before anything else the client hears about it (its session may answer before the Accepted
     * is out).
     */
    void say(ControlConnection client, ControlRequest.Say say) {
        client.inOrder(() -> client.send(accept(client, say)));
    }

    private ControlEvent accept(ControlConnection client, ControlRequest.Say say) {
        senders.put(say.clientMessageId(), client);
        InboundSink.InboundResult result =
                sink.accept(new NewInbound(NAME, say.agent(), say.clientMessageId(), OWNER, say.text()));
        return switch (result) {
            case InboundSink.InboundResult.Accepted a ->
                new ControlEvent.Accepted(say.clientMessageId(), a.inboundId());
            case InboundSink.InboundResult.Dropped d -> {
                senders.remove(say.clientMessageId());
                yield new ControlEvent.Failure("message not accepted: " + d.reason());
            }
            // The terminal's user is the owner: never held, never a pairing code. Said plainly if so.
            case InboundSink.InboundResult.Held h -> {
                senders.remove(say.clientMessageId());
                yield new ControlEvent.Failure("message held: " + h.reason());
            }
            case InboundSink.InboundResult.Answered a -> {
                senders.remove(say.clientMessageId());
                yield new ControlEvent.Failure("message answered by the host: " + a.reply());
            }
        };
    }

    void ack(long deliveryId) {
        CompletableFuture<Void> waiting = acks.get(deliveryId);
        if (waiting != null) {
            waiting.complete(null);
        }
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        Set<ControlConnection> targets = new LinkedHashSet<>();
        attached.getOrDefault(message.platformChatId(), Set.of()).stream()
                .filter(ControlConnection::wantsAllReplies)
                .forEach(targets::add);
        ControlConnection sender =
                message.replyToPlatformMessageId() == null ? null : senders.get(message.replyToPlatformMessageId());
        if (sender != null && sender.isOpen()) {
            targets.add(sender);
        }
        if (targets.isEmpty()) {
            return new DeliveryResult.NoRecipient();
        }
        CompletableFuture<Void> ack = acks.computeIfAbsent(message.deliveryId(), id -> new CompletableFuture<>());
        ControlEvent.Reply reply = new ControlEvent.Reply(
                message.deliveryId(), message.platformChatId(), message.inReplyTo(), message.text(), message.failed());
        targets.forEach(t -> t.send(reply));
        try {
            ack.get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (message.replyToPlatformMessageId() != null) {
                senders.remove(message.replyToPlatformMessageId());
            }
            return new DeliveryResult.Delivered("terminal-" + message.deliveryId());
        } catch (TimeoutException | ExecutionException e) {
            return new DeliveryResult.NoRecipient();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryResult.NoRecipient();
        } finally {
            acks.remove(message.deliveryId());
        }
    }

    /** Sends {@code event} to every terminal attached to {@code chat} (an agent's name). Never blocks long. */
    void broadcast(String chat, ControlEvent event) {
        attached.getOrDefault(chat, Set.of()).forEach(c -> c.send(event));
    }

    @Override
    public boolean showsLive() {
        return true;
    }

    @Override
    public void live(String platformChatId, LiveEvent event) {
        ControlEvent out = switch (event) {
            case LiveEvent.Text t -> new ControlEvent.Delta(platformChatId, t.text());
            case LiveEvent.Reset r -> new ControlEvent.Reset(platformChatId, r.reason());
            case LiveEvent.Notice n -> new ControlEvent.Notice(platformChatId, n.text());
            // The terminal shows the reply, not the steps: its output stays what scripts expect.
            case LiveEvent.ToolCall c -> null;
        };
        if (out == null) {
            return;
        }
        attached.getOrDefault(platformChatId, Set.of()).forEach(c -> c.send(out));
    }
}
