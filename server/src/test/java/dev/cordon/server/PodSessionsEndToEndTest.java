package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.Ports;
import dev.cordon.testkit.Scripted;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sessions in pods end to end ({@code sandbox.backend: kubernetes}, docs/deploy-kubernetes.md): a
 * real daemon against fabric8's Kubernetes mock server (CRUD) as the API server. The test plays
 * the kubelet ({@link TestKubelet}): it runs the pod's command, a real runner JVM from {@code
 * runner/target/lib}, with the pod's environment, and reports the pod Ready at 127.0.0.1. That
 * process is not sandboxed; the walls of a real pod are checked by
 * deploy/kubernetes/escape-suite.sh on a real cluster.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class PodSessionsEndToEndTest extends DaemonTestBase {
    static final String NS = "cordon-sandboxes";

    KubernetesClient client;

    @TempDir
    Path kubeletRoot;

    TestKubelet kubelet;
    int runnerPort;

    @AfterEach
    void stopKubelet() {
        if (kubelet != null) {
            kubelet.close();
        }
    }

    private void startDaemonOnCluster(int readyTimeoutSeconds) throws IOException {
        runnerPort = Ports.free();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(
                home.resolve("cordon.yaml"),
                String.join(
                        "\n",
                        "sandbox:",
                        "  backend: kubernetes",
                        "  unenforced_limits: [pids]",
                        "kubernetes:",
                        "  namespace: " + NS,
                        "  daemon_id: daemon-a",
                        "  runtime_classes: {gvisor: gvisor}",
                        "  runner_image: registry.example/cordon-runner:0.1.0",
                        "  runner_port: " + runnerPort,
                        "  egress_proxy: 10.0.0.5:3128",
                        "  ready_timeout_seconds: " + readyTimeoutSeconds,
                        // The image's command, as this machine has it: the kubelet below runs it here.
                        "  runner_command: ['" + java + "', -XX:+UseSerialGC, -Xmx128m, -cp, '"
                                + EndToEndTest.RUNNER_LIB + "/*', dev.cordon.runner.Main]",
                        ""));
        Path kubeconfig = home.resolve("kubeconfig");
        Files.writeString(
                kubeconfig,
                String.join(
                        "\n",
                        "apiVersion: v1",
                        "kind: Config",
                        "clusters: [{name: mock, cluster: {server: '" + client.getMasterUrl() + "'}}]",
                        "users: [{name: daemon, user: {token: not-checked}}]",
                        "contexts: [{name: mock, context: {cluster: mock, user: daemon}}]",
                        "current-context: mock",
                        ""));
        kubelet = new TestKubelet(client, NS, kubeletRoot);
        daemon = Daemon.start(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY",
                        "sk-ant-test",
                        "ANTHROPIC_BASE_URL",
                        model.baseUrl().toString(),
                        "KUBECONFIG",
                        kubeconfig.toString()),
                EndToEndTest.RUNNER_LIB);
    }

    /** Asks {@code main} on a virtual thread: the answer needs the kubelet's part first. */
    private CompletableFuture<ControlEvent.Reply> askLater(String text) {
        CompletableFuture<ControlEvent.Reply> reply = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (ControlClient control = new ControlClient(daemon.controlSocket())) {
                reply.complete(control.ask("main", text));
            } catch (Exception | AssertionError e) {
                reply.completeExceptionally(e);
            }
        });
        return reply;
    }

    /** Runs {@code pod}'s runner here and waits until it listens, as a started container would. */
    private Process runUntilListening(Pod pod) throws IOException {
        Process runner = kubelet.run(pod);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!runner.isAlive()) {
                throw new AssertionError("the runner exited: " + Files.readString(kubelet.log(name(pod))));
            }
            try (Socket probe = new Socket("127.0.0.1", runnerPort)) {
                // A connection that sends nothing is dropped after 10 s; closing it at once is cheaper.
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return runner;
    }

    /** The kubelet's whole part for the next pod: run its runner, wait until it listens, report Ready. */
    private Pod nextPodUp() throws IOException {
        Pod pod = kubelet.awaitNewPod();
        runUntilListening(pod);
        kubelet.ready(name(pod));
        return pod;
    }

    private static String answered(CompletableFuture<ControlEvent.Reply> reply) throws Exception {
        ControlEvent.Reply answer = reply.get();
        assertThat(answer.failed()).as(answer.text()).isFalse();
        return answer.text();
    }

    private static String name(Pod pod) {
        return pod.getMetadata().getName();
    }

    private static Map<String, EnvVar> env(Pod pod) {
        return pod.getSpec().getContainers().getFirst().getEnv().stream()
                .collect(Collectors.toMap(EnvVar::getName, e -> e));
    }

    @Test
    void aSessionsRunnerStartsInAPodAndAnswersOverItsTokenChannel() throws Exception {
        startDaemonOnCluster(60);
        model.enqueue(Scripted.text("Hello from a pod."));

        CompletableFuture<ControlEvent.Reply> reply = askLater("hi");
        Pod pod = nextPodUp();
        Container container = pod.getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("registry.example/cordon-runner:0.1.0");
        assertThat(container.getCommand()).last().isEqualTo("dev.cordon.runner.Main");
        assertThat(pod.getSpec().getVolumes())
                .allSatisfy(v -> assertThat(v.getHostPath()).isNull());
        Map<String, EnvVar> env = env(pod);
        assertThat(env.get("CORDON_LISTEN_PORT").getValue()).isEqualTo(String.valueOf(runnerPort));
        assertThat(env.get("CORDON_CHANNEL_TOKEN").getValueFrom().getSecretKeyRef())
                .isNotNull();
        assertThat(env.get("CORDON_PROXY_PORT").getValue()).isEqualTo("3128");
        assertThat(env.get("HTTPS_PROXY").getValue()).isEqualTo("http://127.0.0.1:3128");
        assertThat(env).doesNotContainKeys("CORDON_SOCKET", "PATH");

        assertThat(answered(reply)).isEqualTo("Hello from a pod.");
        Process runner = kubelet.process(name(pod));
        assertThat(runner.info().commandLine().orElse("")).contains("dev.cordon.runner.Main");
        assertThat(runner.isAlive()).isTrue();
        assertThat(model.requests()).hasSize(1);
    }

    @Test
    void toolsInAPodReachTheEgressProxyOnlyThroughTheRunnersRelayOverTheChannel() throws Exception {
        startDaemonOnCluster(60);
        model.enqueue(
                Scripted.toolCall(
                        "bash",
                        EndToEndTest.json("echo \"proxy=$HTTPS_PROXY\"; curl -s -m 20 -w '\\nstatus=%{http_code}\\n'"
                                + " http://example.com/upload?x=1")),
                Scripted.text("done"));

        CompletableFuture<ControlEvent.Reply> reply = askLater("upload it");
        nextPodUp();

        assertThat(answered(reply)).isEqualTo("done");
        String out = EndToEndTest.toolResults(model.requests().getLast()).getLast();
        // The daemon's proxy answered (its structured denial), so the request crossed the channel.
        assertThat(out).contains("proxy=http://127.0.0.1:3128", "status=403", "\"error\":\"egress_denied\"");
        assertThat(audited("egress.deny"))
                .singleElement()
                .satisfies(e -> assertThat(e.details())
                        .containsEntry("host", "example.com")
                        .containsEntry("path", "/upload"));
    }

    @Test
    void theRunnerRefusesAWrongTokenAndStillTakesTheDaemons() throws Exception {
        startDaemonOnCluster(60);
        model.enqueue(Scripted.text("still mine"));

        CompletableFuture<ControlEvent.Reply> reply = askLater("hi");
        Pod pod = kubelet.awaitNewPod();
        runUntilListening(pod);
        try (Socket intruder = new Socket("127.0.0.1", runnerPort)) {
            OutputStream out = intruder.getOutputStream();
            out.write(("cordon-token " + "0".repeat(64) + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = intruder.getInputStream();
            // Refused: closed without a frame (a Ready would be the runner's first bytes).
            assertThat(in.read()).isEqualTo(-1);
        }
        assertThat(Files.readString(kubelet.log(name(pod)))).contains("wrong or missing token");
        kubelet.ready(name(pod));

        assertThat(answered(reply)).isEqualTo("still mine");
    }

    @Test
    void aPodThatIsNeverReadyFailsTheSessionNamingTheTimeoutAndIsDeleted() throws Exception {
        startDaemonOnCluster(2);

        CompletableFuture<ControlEvent.Reply> reply = askLater("hi");
        Pod pod = kubelet.awaitNewPod();

        ControlEvent.Reply answer = reply.get();
        assertThat(answer.failed()).isTrue();
        assertThat(answer.text())
                .contains("pod " + name(pod))
                .contains("was not Ready within 2 s (kubernetes.ready_timeout_seconds)");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> client.pods().inNamespace(NS).withName(name(pod)).get() == null);
        assertThat(client.secrets().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(model.requests()).isEmpty();
    }

    @Test
    void anAgentThatNeedsAHostFolderIsRefusedNamingItAndNoPodIsMade() throws Exception {
        Path skills = Files.createDirectories(home.resolve("agents/main/skills"));
        startDaemonOnCluster(60);

        ControlEvent.Reply answer = askLater("hi").get();

        assertThat(answer.failed()).isTrue();
        assertThat(answer.text())
                .contains("the kubernetes backend cannot show host path " + skills + " at /skills/agent inside a pod");
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.secrets().inNamespace(NS).list().getItems()).isEmpty();
    }

    @Test
    void stoppingTheSessionDeletesItsPodAndItsRunnerEnds() throws Exception {
        startDaemonOnCluster(60);
        model.enqueue(Scripted.text("ok"));
        CompletableFuture<ControlEvent.Reply> reply = askLater("hi");
        Pod pod = nextPodUp();
        Process runner = kubelet.process(name(pod));
        assertThat(answered(reply)).isEqualTo("ok");

        ControlEvent.SessionListing listing = (ControlEvent.SessionListing) request(new ControlRequest.SessionsList(0));
        ControlEvent.SessionRow row = listing.sessions().stream()
                .filter(s -> s.agent().equals("main"))
                .findFirst()
                .orElseThrow();
        assertThat(row.sandboxId()).isEqualTo(name(pod));
        assertThat(request(new ControlRequest.SessionsKill(row.session()))).isInstanceOf(ControlEvent.Done.class);

        await().atMost(Duration.ofSeconds(30))
                .until(() -> client.pods().inNamespace(NS).withName(name(pod)).get() == null);
        runner.onExit().get();
        assertThat(client.secrets().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.network()
                        .v1()
                        .networkPolicies()
                        .inNamespace(NS)
                        .list()
                        .getItems())
                .isEmpty();
    }

    @Test
    void podsThatACrashedRunOfThisDaemonLeftAreDeletedAtStartAndOthersAreKept() throws Exception {
        client.pods()
                .inNamespace(NS)
                .resource(leftover("cordon-main-s1-99-1", "daemon-a"))
                .create();
        client.pods()
                .inNamespace(NS)
                .resource(leftover("cordon-main-s1-77-1", "daemon-b"))
                .create();

        startDaemonOnCluster(60);

        List<String> left = client.pods().inNamespace(NS).list().getItems().stream()
                .map(PodSessionsEndToEndTest::name)
                .toList();
        assertThat(left).containsExactly("cordon-main-s1-77-1");
    }

    private static Pod leftover(String name, String daemonId) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NS)
                .withLabels(Map.of(
                        "app.kubernetes.io/managed-by",
                        "cordon",
                        "cordon.dev/daemon",
                        daemonId,
                        "cordon.dev/sandbox",
                        name))
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("runner")
                .withImage("registry.example/cordon-runner:0.1.0")
                .endContainer()
                .endSpec()
                .build();
    }
}
