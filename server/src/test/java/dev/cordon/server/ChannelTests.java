package dev.cordon.server;

import static org.awaitility.Awaitility.await;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/** What the channel end-to-end tests ask a running daemon: as the owner would, or from its audit log. */
final class ChannelTests {
    private ChannelTests() {}

    /** One control request as {@code terminal:owner}, and its answer. */
    static ControlEvent control(Daemon daemon, ControlRequest request) throws Exception {
        try (ControlClient owner = new ControlClient(daemon.controlSocket())) {
            owner.send(request);
            return owner.await(ControlEvent.class);
        }
    }

    /** The audit entries with {@code action}, oldest first. */
    static List<AuditEntry> audit(Daemon daemon, String action) {
        return daemon.audit().read(0, 100_000).stream()
                .filter(e -> e.event().action().equals(action))
                .toList();
    }

    /** The first {@code inbound.dropped} entry of {@code actor} ({@code irc:mallory}), once there is one. */
    static AuditEntry awaitDropped(Daemon daemon, String actor, Duration wait) {
        return awaitFirst(daemon, "inbound.dropped", e -> e.event().actor().id().equals(actor), wait);
    }

    /** The first delivery given up on (a denied {@code delivery} entry), once there is one. */
    static AuditEntry awaitGivenUp(Daemon daemon, Duration wait) {
        return awaitFirst(daemon, "delivery", e -> e.event().decision() == AuditEvent.Decision.DENY, wait);
    }

    private static AuditEntry awaitFirst(Daemon daemon, String action, Predicate<AuditEntry> which, Duration wait) {
        await().atMost(wait).until(() -> audit(daemon, action).stream().anyMatch(which));
        return audit(daemon, action).stream().filter(which).findFirst().orElseThrow();
    }

    /** The first sender request (docs/access.md), once there is one. */
    static ControlEvent.SenderRow firstSenderRequest(Daemon daemon, Duration wait) throws Exception {
        await().atMost(wait).until(() -> !senders(daemon).isEmpty());
        return senders(daemon).getFirst();
    }

    private static List<ControlEvent.SenderRow> senders(Daemon daemon) throws Exception {
        return ((ControlEvent.SenderList) control(daemon, new ControlRequest.SendersList())).senders();
    }
}
