package dev.cordon.server;

import dev.cordon.core.store.Replicas;
import dev.cordon.protocol.control.ControlEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One look at every replica on the shared PostgreSQL, for {@code cordon sessions list} and the
 * dashboard: the replicas with their heartbeat's age and what they hold, and which replica runs each
 * session (its {@code session:<id>} lease). Read from the store, so any replica shows the same
 * picture (docs/store.md, "Several replicas").
 *
 * @param replicas every registered replica, by name
 * @param sessions the replica holding each session's lease, by session id
 */
record ReplicaView(List<ControlEvent.ReplicaRow> replicas, Map<Long, Holder> sessions) {
    /** The replica that runs a session, and how long ago its heartbeat was. */
    record Holder(String replica, long heartbeatAgeMillis) {}

    /** No replicas: a daemon alone on its store. */
    static final ReplicaView NONE = new ReplicaView(List.of(), Map.of());

    private static final String SESSION = "session:";
    private static final String CHANNEL = "channel:";

    /** Two reads of the store (its replicas, then its leases); blocks on both. */
    static ReplicaView of(Replicas store, Clock clock) {
        Instant now = clock.instant();
        Map<String, Long> ages = new HashMap<>();
        List<Replicas.Member> members = store.members();
        members.forEach(m -> ages.put(
                m.id(), Math.max(0, Duration.between(m.heartbeatAt(), now).toMillis())));
        Map<String, List<String>> channels = new HashMap<>();
        Map<String, Integer> held = new HashMap<>();
        Map<Long, Holder> sessions = new HashMap<>();
        for (Replicas.Lease lease : store.leases()) {
            if (lease.name().startsWith(CHANNEL)) {
                channels.computeIfAbsent(lease.owner(), o -> new ArrayList<>())
                        .add(lease.name().substring(CHANNEL.length()));
            } else if (lease.name().startsWith(SESSION)) {
                held.merge(lease.owner(), 1, Integer::sum);
                sessions.put(
                        Long.parseLong(lease.name().substring(SESSION.length())),
                        new Holder(lease.owner(), ages.getOrDefault(lease.owner(), -1L)));
            }
        }
        List<ControlEvent.ReplicaRow> rows = members.stream()
                .map(m -> new ControlEvent.ReplicaRow(
                        m.id(),
                        m.id().equals(store.self()),
                        m.startedAt().toEpochMilli(),
                        ages.get(m.id()),
                        channels.getOrDefault(m.id(), List.of()),
                        held.getOrDefault(m.id(), 0)))
                .toList();
        return new ReplicaView(rows, Map.copyOf(sessions));
    }

    /** The heartbeat age of replica {@code name}, -1 if it is not registered. */
    long age(String name) {
        return replicas.stream()
                .filter(r -> r.name().equals(name))
                .mapToLong(ControlEvent.ReplicaRow::heartbeatAgeMillis)
                .findFirst()
                .orElse(-1);
    }
}
