package dev.cordon.server;

import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.Delivery;
import dev.cordon.core.channel.DeliveryLeases;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.session.SessionLeases;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Replicas;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This daemon as one of several replicas on one PostgreSQL (docs/store.md, "Several replicas"). A
 * heartbeat thread keeps this replica alive in the store and renews its leases, takes over replicas
 * whose heartbeat expired, and holds the long-lived channel connections it wins (started on
 * acquire, stopped on loss or when its leases could lapse, started again when it wins them back). A session runs here only while this replica holds its lease; a chat's
 * replies are delivered by one replica at a time. The store's notifications wake the sessions and
 * deliveries that another replica's writes concern. Thread-safe; {@link #start} once, then {@link
 * #close}.
 */
final class ReplicaSet implements SessionLeases, DeliveryLeases, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaSet.class);
    /** How often the heartbeat runs. */
    static final Duration BEAT = Duration.ofSeconds(1);
    /** How long a heartbeat or lease holds: a replica silent this long is dead and taken over. */
    static final Duration TTL = Duration.ofSeconds(5);
    /** Heartbeats between safety-net sweeps for pending messages and undelivered replies. */
    private static final int SWEEP_EVERY = 10;

    /** Channels whose recipients are connections to this very daemon: each replica delivers its own. */
    private static final Set<String> LOCAL_CHANNELS = Set.of(TerminalChannel.NAME, WebChannel.NAME);

    private final Replicas replicas;
    private final SessionManager sessions;
    private final Delivery delivery;
    private final Map<String, ChannelService> connections;
    private final InboundSink sink;
    private final Runnable tookOver;
    private final Runnable fenced;
    /** The connections this replica runs: holds their lease. */
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    /**
     * Until when (System.nanoTime) this replica's leases surely hold: the start of its last successful
     * heartbeat plus the TTL. Past that minus one beat, another replica may take them soon, so the
     * connections stop here first ({@link #watch}): never two holders, even while the database is away.
     */
    private volatile long leasesValidUntil;

    private volatile boolean closed;
    /** Whether channel connections may be taken: the daemon is up ({@link #openChannels}). */
    private volatile boolean channelsOpen;

    private Thread heart;
    private Thread watchdog;
    private AutoCloseable listening;

    /**
     * @param connections the channel adapters that hold one platform connection each (pollers,
     *     sockets); each runs on one replica at a time
     * @param tookOver called after this replica took a dead one over (the heartbeat's thread): what
     *     the dead one ran that has a timer here (its approvals' expiry) is adopted
     * @param fenced called (once) when this replica finds it was declared dead: whatever it still
     *     runs may run elsewhere too, so the daemon must stop
     */
    ReplicaSet(
            Replicas replicas,
            SessionManager sessions,
            Delivery delivery,
            List<ChannelService> connections,
            InboundSink sink,
            Runnable tookOver,
            Runnable fenced) {
        this.replicas = replicas;
        this.sessions = sessions;
        this.delivery = delivery;
        this.connections = new ConcurrentHashMap<>();
        connections.forEach(c -> this.connections.put(c.name(), c));
        this.sink = sink;
        this.tookOver = tookOver;
        this.fenced = fenced;
    }

    /** This replica's name in the store. */
    String self() {
        return replicas.self();
    }

    /** Registers this replica (before it claims anything) and starts listening and beating. */
    void start() {
        long started = System.nanoTime();
        replicas.heartbeat(TTL);
        leasesValidUntil = started + TTL.toNanos();
        listening = replicas.listen(this::notified);
        heart = Thread.ofVirtual().name("replica-heartbeat").start(this::beatUntilClosed);
        watchdog = Thread.ofVirtual().name("replica-lease-watchdog").start(this::watch);
        LOG.info(
                "replica {} joined (heartbeat every {} ms, taken over {} s after it stops)",
                replicas.self(),
                BEAT.toMillis(),
                TTL.toSeconds());
    }

    /** From now on the heartbeat takes the channel connections that are free (the daemon is up). */
    void openChannels() {
        channelsOpen = true;
    }

    private void beatUntilClosed() {
        for (long beat = 1; !closed; beat++) {
            try {
                beat(beat % SWEEP_EVERY == 0);
            } catch (RuntimeException e) {
                // The database is away: the next beat tries again; past the TTL others take over.
                LOG.warn("replica {}: heartbeat failed: {}", replicas.self(), e.toString());
            }
            try {
                Thread.sleep(BEAT);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void beat(boolean sweep) {
        long started = System.nanoTime();
        if (!replicas.heartbeat(TTL)) {
            LOG.error(
                    "replica {} was declared dead by another replica (its heartbeat was more than {} s late):"
                            + " its sessions and channels may run elsewhere now, so it stops",
                    replicas.self(),
                    TTL.toSeconds());
            closed = true;
            Thread.ofVirtual().start(fenced);
            return;
        }
        leasesValidUntil = started + TTL.toNanos();
        List<String> dead = replicas.reapExpired();
        if (!dead.isEmpty()) {
            LOG.warn("replica {} took over dead replica(s) {}: their sessions and channels", replicas.self(), dead);
            tookOver.run();
        }
        Set<String> held = replicas.held();
        for (String name : List.copyOf(running)) {
            if (!held.contains(lease(name))) {
                stop(name, "lost it to another replica; it takes the channel again once the lease is free");
            }
        }
        // A channel lost while this replica lived (it stalled, another took the expired lease) is
        // taken again here as soon as its lease is free: the adapter is a fresh one (RenewableChannel).
        for (ChannelService c : connections.values()) {
            String name = c.name();
            if (channelsOpen
                    && !closed
                    && !running.contains(name)
                    && replicas.acquire(lease(name), TTL)
                    && !lapsingWithin(2)) {
                LOG.info("replica {} holds channel {}: connecting", replicas.self(), name);
                // Started before it is listed: a watchdog pass in between finds it at its next pass.
                c.start(sink);
                running.add(name);
                sweep = true;
            }
        }
        if (sweep || !dead.isEmpty()) {
            sessions.wakeAll();
            delivery.wakeAll();
        }
    }

    /**
     * Whether the leases may lapse within {@code beats} heartbeats: the last successful heartbeat
     * started that long ago. A connection stops within one beat of the expiry and starts only with two
     * to spare, so a heartbeat that was slow to commit does not start one that stops a moment later.
     */
    private boolean lapsingWithin(int beats) {
        return System.nanoTime() - (leasesValidUntil - BEAT.toNanos() * beats) > 0;
    }

    /**
     * Stops every connection while this replica cannot renew its leases (the heartbeat fails or
     * hangs): they stop before the leases expire and another replica may connect. The heartbeat
     * takes them again once it renews.
     */
    private void watch() {
        while (!closed) {
            if (lapsingWithin(1)) {
                for (String name : List.copyOf(running)) {
                    stop(
                            name,
                            "its leases could not be renewed for " + (TTL.minus(BEAT)).toSeconds()
                                    + " s; it takes the channel again once its heartbeat renews them");
                }
            }
            try {
                Thread.sleep(BEAT.dividedBy(4));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void stop(String name, String why) {
        if (running.remove(name)) {
            LOG.error("replica {} stopped channel {}: {}", replicas.self(), name, why);
            connections.get(name).close();
        }
    }

    /** The channel connections this replica runs now, by name. */
    Set<String> channelsHere() {
        return Set.copyOf(running);
    }

    private static String lease(String channel) {
        return "channel:" + channel;
    }

    /** A notification of the store: another replica's (or this one's) write that wants a wake-up. */
    private void notified(String what) {
        if (what.equals(Replicas.RECONNECTED)) {
            sessions.wakeAll();
            delivery.wakeAll();
        } else if (what.startsWith("inbound:")) {
            sessions.wake(new SessionId(Long.parseLong(what.substring("inbound:".length()))));
        } else if (what.startsWith("outbound:")) {
            delivery.wake(new ChatId(Long.parseLong(what.substring("outbound:".length()))));
        }
    }

    @Override
    public boolean acquire(SessionId session) {
        return replicas.acquire("session:" + session.value(), TTL);
    }

    @Override
    public void release(SessionId session) {
        replicas.release("session:" + session.value());
    }

    @Override
    public Turn take(Chat chat) {
        if (LOCAL_CHANNELS.contains(chat.channel())) {
            return Turn.HERE;
        }
        if (connections.containsKey(chat.channel())) {
            return running.contains(chat.channel()) ? Turn.HERE : Turn.ELSEWHERE;
        }
        return replicas.acquire("delivery:" + chat.id().value(), TTL) ? Turn.HERE : Turn.LATER;
    }

    @Override
    public void done(Chat chat) {
        if (!LOCAL_CHANNELS.contains(chat.channel()) && !connections.containsKey(chat.channel())) {
            replicas.release("delivery:" + chat.id().value());
        }
    }

    /**
     * Stops beating and listening, and leaves: this replica's leases go at once (call it after the
     * sessions and channels have stopped). Never throws.
     */
    @Override
    public void close() {
        closed = true;
        if (watchdog != null) {
            watchdog.interrupt();
        }
        if (heart != null) {
            // Not interrupted: a heartbeat cut short inside a JDBC call could break its connection.
            try {
                heart.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (listening != null) {
                listening.close();
            }
            replicas.leave();
        } catch (Exception e) {
            LOG.warn(
                    "replica {}: could not leave cleanly; others take over after {} s: {}",
                    replicas.self(),
                    TTL.toSeconds(),
                    e.toString());
        }
    }
}
