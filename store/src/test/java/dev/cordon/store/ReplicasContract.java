package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.store.Replicas;
import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link Store#replicas()} must do on every engine: two stores on one database stand for two
 * daemon replicas ({@code a} and {@code b}), sharing only the database and a clock the test moves.
 */
abstract class ReplicasContract {
    static final Duration TTL = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-02T03:04:05.678Z"));
    Store a;
    Store b;
    Session session;
    Chat chat;

    /** Opens a store of replica {@code name} on the database kept in {@code dir}. */
    protected abstract Store open(Path dir, Clock clock, String name);

    @BeforeEach
    void openTwoReplicas() {
        a = open(dir, clock, "a");
        b = open(dir, clock, "b");
        Agent agent = a.ensureAgent(new AgentName("ada"));
        chat = a.ensureChat("test", "C1");
        session = a.ensureSession(agent.id(), chat.id(), "");
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    InboundId receive(String id) {
        return a.storeInbound(session.id(), chat.id(), new NewInbound("test", "C1", id, "u1", "hi " + id))
                .id();
    }

    List<InboundId> claim(Store store) {
        return store.claimPending(session.id(), 1).stream().map(Inbound::id).toList();
    }

    @Test
    void atStartAReplicaReleasesOnlyItsOwnClaims() {
        InboundId first = receive("m-1");
        InboundId second = receive("m-2");
        assertThat(claim(a)).containsExactly(first);
        assertThat(claim(b)).containsExactly(second);

        assertThat(a.releaseClaims()).isEqualTo(1);

        assertThat(claim(b)).as("b's claim stays: b's turn is still running").containsExactly(first);
        assertThat(b.releaseClaims()).isEqualTo(2);
    }

    @Test
    void aDeadReplicasClaimsAndLeasesAreTakenOverByASurvivorOnce() {
        assertThat(a.replicas().heartbeat(TTL))
                .as("a first heartbeat registers")
                .isFalse();
        b.replicas().heartbeat(TTL);
        assertThat(a.replicas().acquire("session:1", TTL)).isTrue();
        assertThat(b.replicas().acquire("session:1", TTL)).as("held by a").isFalse();
        InboundId message = receive("m-1");
        assertThat(claim(a)).containsExactly(message);

        clock.advance(Duration.ofSeconds(3));
        assertThat(b.replicas().heartbeat(TTL)).isTrue();
        assertThat(b.replicas().reapExpired()).as("a is late, not yet dead").isEmpty();
        clock.advance(Duration.ofSeconds(3));
        assertThat(b.replicas().heartbeat(TTL)).isTrue();

        assertThat(b.replicas().reapExpired()).containsExactly("a");
        assertThat(b.replicas().reapExpired()).as("taken over once").isEmpty();
        assertThat(claim(b)).as("a's claimed message is pending again").containsExactly(message);
        assertThat(b.replicas().acquire("session:1", TTL)).isTrue();
        assertThat(b.replicas().held()).containsExactly("session:1");
        assertThat(a.replicas().held()).isEmpty();
        assertThat(a.replicas().heartbeat(TTL))
                .as("a learns that it was declared dead")
                .isFalse();
    }

    @Test
    void theHeartbeatRenewsLeasesAndLeavingFreesThemAtOnce() {
        a.replicas().heartbeat(TTL);
        assertThat(a.replicas().acquire("channel:irc", TTL)).isTrue();
        assertThat(a.replicas().acquire("channel:irc", TTL))
                .as("held already: renewed")
                .isTrue();
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(4));
            a.replicas().heartbeat(TTL);
            assertThat(b.replicas().acquire("channel:irc", TTL)).isFalse();
        }
        clock.advance(Duration.ofSeconds(6));
        assertThat(b.replicas().acquire("channel:irc", TTL))
                .as("expired: anyone may take it")
                .isTrue();
        assertThat(a.replicas().held()).isEmpty();

        b.replicas().release("channel:irc");
        a.replicas().release("channel:irc");
        assertThat(a.replicas().acquire("channel:irc", TTL)).isTrue();
        a.replicas().leave();
        assertThat(b.replicas().acquire("channel:irc", TTL)).isTrue();
    }

    @Test
    void everyReplicaSeesAllReplicasAndWhoHoldsEachLease() {
        Instant start = clock.instant();
        a.replicas().heartbeat(TTL);
        clock.advance(Duration.ofSeconds(2));
        b.replicas().heartbeat(TTL);
        a.replicas().acquire("channel:telegram", TTL);
        b.replicas().acquire("session:7", TTL);

        assertThat(b.replicas().members())
                .containsExactly(
                        new Replicas.Member("a", start, start, start.plus(TTL)),
                        new Replicas.Member(
                                "b",
                                clock.instant(),
                                clock.instant(),
                                clock.instant().plus(TTL)));
        assertThat(a.replicas().leases())
                .containsExactly(
                        new Replicas.Lease(
                                "channel:telegram", "a", clock.instant().plus(TTL)),
                        new Replicas.Lease("session:7", "b", clock.instant().plus(TTL)));

        b.replicas().leave();
        assertThat(a.replicas().members()).extracting(Replicas.Member::id).containsExactly("a");
        assertThat(a.replicas().leases()).extracting(Replicas.Lease::owner).containsExactly("a");
    }
}
