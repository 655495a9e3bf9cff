package dev.cordon.bench;

import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.sandbox.ResourceUsage;
import dev.cordon.core.session.RunnerLauncher;
import dev.cordon.core.session.RunnerLink;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.server.Daemon;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Timestamps ({@link System#nanoTime}, the clock of the bench and of the fake model server) of a
 * message's way through an in-process daemon, taken by wrappers around its store and its runner
 * launcher ({@link Daemon.Probes}): the inbound row committed, the session's worker asking for its
 * pending messages (woken) and getting them (claimed), {@code StartTurn} written to the runner's
 * channel, and the runner's first frame back (its model request: the first thing it does with a
 * turn). Thread-safe.
 */
final class Probe {
    /** What happened to one inbound message; 0 where not (yet) seen. */
    static final class Marks {
        volatile long stored;
        volatile long woken;
        volatile long claimed;
        volatile long sendStart;
        volatile long sent;
        volatile long back;
        volatile String firstFrame;
    }

    private final Map<Long, Marks> byInbound = new ConcurrentHashMap<>();
    private final Map<String, Marks> byTurn = new ConcurrentHashMap<>();

    Daemon.Probes probes() {
        return new Daemon.Probes(this::store, this::launcher);
    }

    /** The marks of inbound message {@code id} (as {@code Accepted} names it). */
    Marks marks(long inboundId) {
        return byInbound.computeIfAbsent(inboundId, id -> new Marks());
    }

    private Store store(Store store) {
        return (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class}, (p, m, a) -> {
            long called = System.nanoTime();
            Object result;
            try {
                result = m.invoke(store, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            long returned = System.nanoTime();
            if (m.getName().equals("storeInbound") && result instanceof Store.InboundStored s) {
                marks(s.id().value()).stored = returned;
            } else if (m.getName().equals("claimPending") && result instanceof List<?> batch && !batch.isEmpty()) {
                SessionId session = (SessionId) a[0];
                Inbound last = (Inbound) batch.getLast();
                for (Object o : batch) {
                    Marks marks = marks(((Inbound) o).id().value());
                    marks.woken = called;
                    marks.claimed = returned;
                }
                // SessionManager's turn id: the session and the batch's last message.
                byTurn.put(
                        "s" + session.value() + "-m" + last.id().value(),
                        marks(last.id().value()));
            }
            return result;
        });
    }

    private RunnerLauncher launcher(RunnerLauncher launcher) {
        return (agent, session) -> new Link(launcher.launch(agent, session));
    }

    /** The runner channel, timestamped: every call goes to the daemon's own link unchanged. */
    private final class Link implements RunnerLink {
        private final RunnerLink link;
        /** The turn whose StartTurn went out and whose runner has not answered yet. */
        private volatile Marks waiting;

        Link(RunnerLink link) {
            this.link = link;
        }

        @Override
        public void send(HostMessage message) throws IOException {
            if (message instanceof HostMessage.StartTurn start) {
                Marks marks = byTurn.getOrDefault(start.turnId(), new Marks());
                marks.sendStart = System.nanoTime();
                link.send(message);
                marks.sent = System.nanoTime();
                waiting = marks;
            } else {
                link.send(message);
            }
        }

        @Override
        public RunnerMessage receive() throws IOException {
            RunnerMessage message = link.receive();
            Marks marks = waiting;
            if (marks != null) {
                marks.back = System.nanoTime();
                marks.firstFrame = message == null ? "none" : message.getClass().getSimpleName();
                waiting = null;
            }
            return message;
        }

        @Override
        public String describeExit() {
            return link.describeExit();
        }

        @Override
        public boolean stoppedByALimit() {
            return link.stoppedByALimit();
        }

        @Override
        public String sandboxId() {
            return link.sandboxId();
        }

        @Override
        public Optional<ResourceUsage> usage() {
            return link.usage();
        }

        @Override
        public void kill(String reason) {
            link.kill(reason);
        }

        @Override
        public void close() {
            link.close();
        }
    }
}
