package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ReplicasContract} on a real PostgreSQL, and its wake-ups (LISTEN/NOTIFY) between stores. */
class PostgresReplicasTest extends ReplicasContract {
    final PostgresTestDatabase db = new PostgresTestDatabase();

    @Override
    protected Store open(Path dir, Clock clock, String name) {
        return db.open(clock, name);
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    @Test
    void anotherReplicasStoredMessagesRepliesAndReleasedClaimsWakeTheListener() throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        try (AutoCloseable listening = b.replicas().listen(heard::add)) {
            // LISTEN runs on the listener's own thread: wait until it hears a first notification.
            String first;
            do {
                receive("warm-" + System.nanoTime());
                first = heard.poll(200, TimeUnit.MILLISECONDS);
            } while (first == null);
            assertThat(first).isEqualTo("inbound:" + session.id().value());
            a.claimPending(session.id(), 100);
            heard.clear();

            InboundId message = receive("m-1");
            assertThat(heard.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("inbound:" + session.id().value());

            a.replicas().heartbeat(TTL);
            a.claimPending(session.id(), 1);
            a.completeTurn(
                    session.id(),
                    List.of(message),
                    List.of(),
                    new Store.NewOutbound(chat.id(), message, "hello", false, "k-1"));
            assertThat(heard.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("outbound:" + chat.id().value());

            receive("m-2");
            assertThat(heard.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("inbound:" + session.id().value());
            a.claimPending(session.id(), 1);
            clock.advance(TTL.plus(Duration.ofSeconds(1)));
            b.replicas().heartbeat(TTL);
            assertThat(b.replicas().reapExpired()).containsExactly("a");
            assertThat(heard.poll(10, TimeUnit.SECONDS))
                    .as("the dead replica's claim is pending again")
                    .isEqualTo("inbound:" + session.id().value());
        }
    }
}
