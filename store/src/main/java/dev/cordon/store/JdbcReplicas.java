package dev.cordon.store;

import dev.cordon.core.store.Replicas;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** {@link Replicas} in the store's tables {@code replicas} and {@code leases} (V11), on either engine. */
final class JdbcReplicas implements Replicas {
    private static final System.Logger LOG = System.getLogger(JdbcReplicas.class.getName());

    /** How long the listener waits for notifications before it checks whether it was closed. */
    private static final int LISTEN_POLL_MILLIS = 500;

    private final Database db;
    private final Clock clock;
    private final String self;

    JdbcReplicas(Database db, Clock clock, String self) {
        this.db = db;
        this.clock = clock;
        this.self = Objects.requireNonNull(self, "replica");
    }

    @Override
    public String self() {
        return self;
    }

    @Override
    public boolean heartbeat(Duration ttl) {
        long now = clock.millis();
        long expires = now + ttl.toMillis();
        return db.withWriteTransaction("heartbeat", h -> {
            int renewed = h.createUpdate(
                            "UPDATE replicas SET heartbeat_at = :now, expires_at = :expires WHERE id = :self")
                    .bind("now", now)
                    .bind("expires", expires)
                    .bind("self", self)
                    .execute();
            if (renewed == 0) {
                h.createUpdate("INSERT INTO replicas (id, started_at, heartbeat_at, expires_at)"
                                + " VALUES (:self, :now, :now, :expires)")
                        .bind("self", self)
                        .bind("now", now)
                        .bind("expires", expires)
                        .execute();
            }
            h.createUpdate("UPDATE leases SET expires_at = :expires WHERE owner = :self")
                    .bind("expires", expires)
                    .bind("self", self)
                    .execute();
            return renewed == 1;
        });
    }

    @Override
    public List<Member> members() {
        return db.withReadTransaction(
                "replicas",
                h -> h.createQuery("SELECT id, started_at, heartbeat_at, expires_at FROM replicas ORDER BY id")
                        .map((rs, ctx) -> new Member(
                                rs.getString("id"),
                                Instant.ofEpochMilli(rs.getLong("started_at")),
                                Instant.ofEpochMilli(rs.getLong("heartbeat_at")),
                                Instant.ofEpochMilli(rs.getLong("expires_at"))))
                        .list());
    }

    @Override
    public List<Lease> leases() {
        return db.withReadTransaction(
                "allLeases",
                h -> h.createQuery("SELECT name, owner, expires_at FROM leases ORDER BY name")
                        .map((rs, ctx) -> new Lease(
                                rs.getString("name"),
                                rs.getString("owner"),
                                Instant.ofEpochMilli(rs.getLong("expires_at"))))
                        .list());
    }

    @Override
    public Set<String> held() {
        return db.withReadTransaction(
                "leases",
                h -> Set.copyOf(h.createQuery("SELECT name FROM leases WHERE owner = :self")
                        .bind("self", self)
                        .mapTo(String.class)
                        .list()));
    }

    @Override
    public List<String> reapExpired() {
        long now = clock.millis();
        return db.withWriteTransaction("reapExpired", h -> {
            List<String> dead = h.createQuery(
                            "SELECT id FROM replicas WHERE expires_at < :now AND id <> :self ORDER BY id")
                    .bind("now", now)
                    .bind("self", self)
                    .mapTo(String.class)
                    .list();
            for (String replica : dead) {
                // Its turns were cut short: redone by whoever takes the session (a PostgreSQL trigger
                // announces each message that is pending again).
                h.createUpdate("UPDATE inbound SET state = 'PENDING', claimed_at = NULL, claimed_by = NULL"
                                + " WHERE state = 'CLAIMED' AND claimed_by = :dead")
                        .bind("dead", replica)
                        .execute();
                forget(h, replica);
            }
            return dead;
        });
    }

    @Override
    public boolean acquire(String name, Duration ttl) {
        Objects.requireNonNull(name, "name");
        long now = clock.millis();
        return db.withWriteTransaction(
                "acquireLease",
                h -> h.createUpdate("""
                        INSERT INTO leases (name, owner, expires_at) VALUES (:name, :self, :expires)
                        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                        WHERE leases.owner = excluded.owner OR leases.expires_at < :now""")
                                .bind("name", name)
                                .bind("self", self)
                                .bind("expires", now + ttl.toMillis())
                                .bind("now", now)
                                .execute()
                        == 1);
    }

    @Override
    public void release(String name) {
        db.withWriteTransaction(
                "releaseLease",
                h -> h.createUpdate("DELETE FROM leases WHERE name = :name AND owner = :self")
                        .bind("name", name)
                        .bind("self", self)
                        .execute());
    }

    @Override
    public void leave() {
        db.withWriteTransaction("leave", h -> {
            forget(h, self);
            return null;
        });
    }

    private static void forget(Handle h, String replica) {
        h.createUpdate("DELETE FROM leases WHERE owner = :replica")
                .bind("replica", replica)
                .execute();
        h.createUpdate("DELETE FROM replicas WHERE id = :replica")
                .bind("replica", replica)
                .execute();
    }

    @Override
    public AutoCloseable listen(Consumer<String> listener) {
        Objects.requireNonNull(listener, "listener");
        if (db.dialect() != Dialect.POSTGRESQL) {
            return () -> {};
        }
        Listener l = new Listener(listener);
        l.thread = Thread.ofVirtual().name("store-listen").start(l::run);
        return l;
    }

    /** LISTEN on one connection of the pool, held for as long as it listens (the pool has one spare). */
    private final class Listener implements AutoCloseable {
        private final Consumer<String> listener;
        private volatile boolean closed;
        private Thread thread;

        Listener(Consumer<String> listener) {
            this.listener = listener;
        }

        void run() {
            boolean first = true;
            while (!closed) {
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(true);
                    try (Statement s = c.createStatement()) {
                        s.execute("LISTEN cordon");
                    }
                    if (!first) {
                        listener.accept(RECONNECTED);
                    }
                    first = false;
                    PGConnection pg = c.unwrap(PGConnection.class);
                    while (!closed) {
                        PGNotification[] notifications = pg.getNotifications(LISTEN_POLL_MILLIS);
                        if (notifications != null) {
                            for (PGNotification n : notifications) {
                                listener.accept(n.getParameter());
                            }
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    first = false;
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "lost the LISTEN connection to " + db.describe() + "; reconnecting in 1 s: " + e);
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            thread.join(Duration.ofSeconds(5));
        }
    }
}
