package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.session.RunnerLauncher;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.StoreException;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.Scripted;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmarks' seam ({@link Daemon.Probes}): the wrappers given at start are the store and the
 * runner launcher the daemon really uses, so what they time is a message's real way.
 */
class DaemonProbesTest {
    @TempDir
    Path home;

    @Test
    void aMessageGoesThroughTheWrappedStoreAndTheWrappedLauncher() throws Exception {
        List<String> storeCalls = new CopyOnWriteArrayList<>();
        AtomicInteger launches = new AtomicInteger();
        Daemon.Probes probes = new Daemon.Probes(
                store -> (Store) Proxy.newProxyInstance(
                        Store.class.getClassLoader(), new Class<?>[] {Store.class}, (p, method, args) -> {
                            storeCalls.add(method.getName());
                            try {
                                return method.invoke(store, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        }),
                launcher -> (RunnerLauncher) (agent, session) -> {
                    launches.incrementAndGet();
                    return launcher.launch(agent, session);
                });
        assertThat(answer(probes, "probed")).isEqualTo("probed");
        assertThat(storeCalls).contains("storeInbound", "claimPending", "completeTurn");
        assertThat(launches).hasValue(1);
    }

    @Test
    void aTurnWhoseEndTheStoreFailsToWriteOnceIsStoredOnTheNextAttemptAndAnswered() throws Exception {
        AtomicInteger completions = new AtomicInteger();
        Daemon.Probes probes = new Daemon.Probes(
                store -> (Store) Proxy.newProxyInstance(
                        Store.class.getClassLoader(), new Class<?>[] {Store.class}, (p, method, args) -> {
                            // A serialization race lost 30 times, as several replicas can (docs/store.md).
                            if (method.getName().equals("completeTurn") && completions.incrementAndGet() == 1) {
                                throw new StoreException("completeTurn: could not serialize access (injected)", null);
                            }
                            try {
                                return method.invoke(store, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        }),
                launcher -> launcher);
        assertThat(answer(probes, "stored at last")).isEqualTo("stored at last");
        assertThat(completions).hasValue(2);
    }

    /** Starts the daemon with {@code probes}, says hello to {@code main} and returns its answer. */
    private String answer(Daemon.Probes probes, String scripted) throws Exception {
        try (FakeModelServer model = FakeModelServer.start()) {
            model.enqueue(Scripted.text(scripted));
            Map<String, String> env = Map.of(
                    "ANTHROPIC_API_KEY",
                    "sk-ant-test",
                    "ANTHROPIC_BASE_URL",
                    model.baseUrl().toString());
            try (Daemon daemon = Daemon.start(home, env, EndToEndTest.RUNNER_LIB, probes);
                    ControlClient client = new ControlClient(daemon.controlSocket())) {
                return client.ask("main", "hello").text();
            }
        }
    }
}
