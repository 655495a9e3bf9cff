package dev.cordon.core.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Several daemons ("replicas") on one database (docs/store.md, "Several replicas"): who is alive,
 * what each holds, and the wake-ups between them. One instance belongs to one store, and the store
 * records its claims under {@link #self()}. Every method is one transaction of that store and
 * thread-safe; infrastructure failures throw {@link StoreException}.
 *
 * <p>A lease is a name ({@code session:12}, {@code channel:telegram}) held by one replica until its
 * expiry; the holder's {@link #heartbeat} renews every lease it holds. A replica whose heartbeat
 * expired is dead: {@link #reapExpired} (run by any survivor) returns its claimed messages to
 * PENDING and drops its leases, so others take its sessions and channels over.
 */
public interface Replicas {
    /** The replica this store claims and leases for. */
    String self();

    /**
     * Records this replica alive until now + {@code ttl} (registering it if it is not) and renews
     * every lease it holds to the same time.
     *
     * @return whether the replica was still registered: false means a survivor declared it dead (its
     *     heartbeat was late past its expiry) and released its claims and leases, so whatever it
     *     still runs may be running elsewhere too; the caller must stop it
     */
    boolean heartbeat(Duration ttl);

    /** The leases this replica holds now (names). */
    Set<String> held();

    /**
     * Takes over every other replica whose heartbeat has expired: its CLAIMED messages become PENDING
     * again, its leases and its row are deleted. Several survivors may call this at once; each dead
     * replica is taken over once.
     *
     * @return the ids of the replicas taken over, empty if none
     */
    List<String> reapExpired();

    /**
     * Takes lease {@code name} for this replica until now + {@code ttl} if it is free, expired, or
     * already this replica's (then it is renewed).
     *
     * @return whether this replica holds it now
     */
    boolean acquire(String name, Duration ttl);

    /** Gives lease {@code name} up if this replica holds it; otherwise changes nothing. */
    void release(String name);

    /**
     * A clean stop: deletes this replica's leases and its row, so others take over at once instead
     * of after the expiry. Its claims stay for {@link Store#releaseClaims} at its next start, or for
     * a survivor's {@link #reapExpired}.
     */
    void leave();

    /**
     * Delivers the store's wake-up notifications ({@code inbound:<session id>} when a message
     * becomes pending, {@code outbound:<chat id>} when a reply is stored, whichever replica wrote
     * them) to {@code listener} on a thread of its own, until the returned handle is closed. On
     * PostgreSQL this is {@code LISTEN} on one dedicated connection; after that connection is lost
     * and made again {@code listener} gets {@link #RECONNECTED}, since notifications may have been
     * missed meanwhile. SQLite has one daemon per file and nothing to listen to: the handle does
     * nothing.
     */
    AutoCloseable listen(Consumer<String> listener);

    /** A replica as the store has it: registered at {@code startedAt}, last heartbeat, alive until {@code expiresAt}. */
    record Member(String id, Instant startedAt, Instant heartbeatAt, Instant expiresAt) {}

    /** A lease ({@code session:12}, {@code channel:telegram}) and the replica that holds it. */
    record Lease(String name, String owner, Instant expiresAt) {}

    /** Every registered replica, this one included, by id; dead ones stay until a survivor takes them over. */
    List<Member> members();

    /** Every lease of every replica, by name. */
    List<Lease> leases();

    /** What {@link #listen} passes after a lost connection came back: sweep for missed work. */
    String RECONNECTED = "reconnected";
}
