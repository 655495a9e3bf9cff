package dev.cordon.core.channel;

import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.store.Store;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Maps a channel's message to its agent's session, stores it, and wakes the session: chat →
 * wiring → agent → session. Event-driven: the stored message wakes its session directly.
 */
public final class Router implements InboundSink {
    private final Store store;
    private final Consumer<SessionId> wake;

    public Router(Store store, Consumer<SessionId> wake) {
        this.store = store;
        this.wake = wake;
    }

    @Override
    public InboundResult accept(NewInbound message) {
        Chat chat = store.ensureChat(message.channel(), message.platformChatId());
        Optional<Wiring> wiring = store.wiring(chat.id());
        if (wiring.isEmpty()) {
            return new InboundResult.Dropped(
                    "chat " + message.channel() + ":" + message.platformChatId() + " is not wired to an agent");
        }
        Session session = store.ensureSession(wiring.get().agentId(), chat.id(), "");
        Store.InboundStored stored = store.storeInbound(session.id(), chat.id(), message);
        if (!stored.duplicate()) {
            wake.accept(session.id());
        }
        return new InboundResult.Accepted(stored.id().value(), stored.duplicate());
    }
}
