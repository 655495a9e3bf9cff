package dev.cordon.runner;

import dev.cordon.protocol.ChannelToken;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.runner.mcp.McpHub;
import dev.cordon.runner.model.ModelClients;
import dev.cordon.runner.model.RetryPolicy;
import dev.cordon.runner.tools.Skills;
import dev.cordon.runner.tools.Tool;
import dev.cordon.runner.tools.ToolConfig;
import dev.cordon.runner.tools.Tools;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The agent runner: started by the host inside a sandbox, it connects to the host over the one
 * socket it was given, says Ready, and runs turns until the host says Shutdown or goes away. It
 * holds no secret and depends on no host module (checked by ArchUnit).
 */
public final class Main {
    static final String VERSION = "0.1.0";

    private Main() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        if (Training.requested()) {
            // The host builds the AOT cache this way; the JVM writes it when this process exits.
            Training.run();
            System.exit(0);
        }
        Path socket = Path.of(System.getenv().getOrDefault("CORDON_SOCKET", "/run/cordon/host.sock"));
        Path workspace = Path.of(System.getenv().getOrDefault("CORDON_WORKSPACE", System.getProperty("user.dir")));
        String listen = System.getenv("CORDON_LISTEN_PORT");
        try (HostConnection host = listen == null
                ? HostConnection.open(socket)
                : HostConnection.listen(Integer.parseInt(listen), token())) {
            serve(host, workspace, Skills.SANDBOX_ROOTS);
        }
        // Turns still running (a tool stuck in a syscall) must not keep the runner alive.
        System.exit(0);
    }

    /** The pod's channel token; a runner told to listen without one refuses to start. */
    private static String token() {
        String token = System.getenv(ChannelToken.ENV);
        if (token == null || token.isBlank()) {
            throw new IllegalStateException("CORDON_LISTEN_PORT is set but " + ChannelToken.ENV + " is not:"
                    + " the runner never accepts a connection without a token");
        }
        return token.strip();
    }

    /**
     * Sends heartbeats during turns: one platform thread, never busy, started before the first turn
     * (a turn that fills the sandbox's process table could not start it later).
     */
    private static final ScheduledThreadPoolExecutor HEARTBEAT = new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().daemon().name("heartbeat").factory());

    /** Runs turns from {@code host} until it closes or says Shutdown. Blocks. */
    static void serve(HostConnection host, Path workspace, List<Path> skillRoots) throws IOException {
        ChannelTransport transport = new ChannelTransport(host);
        Approvals approvals = new Approvals(host::send);
        HostCalls hostCalls = new HostCalls(host::send);
        Skills skills = Skills.scan(skillRoots);
        skills.problems().forEach(p -> System.err.println("skill left out: " + p));
        ToolConfig config = ToolConfig.defaults(workspace);
        List<Tool> tools = new ArrayList<>(Tools.builtins(config));
        tools.addAll(Tools.forSkills(skills));
        tools.addAll(Tools.tasks(hostCalls::call));
        tools.add(Tools.sendMessage(hostCalls::call));
        tools.add(Tools.sendFile(hostCalls::call));
        tools.add(Tools.askUser(hostCalls::call));
        tools.add(Tools.createAgent(hostCalls::call));
        EgressRelay egress = egressRelay(host);
        if (egress != null) {
            tools.add(Tools.webFetch(egress.port(), config.outputLimitChars()));
        }
        McpHub mcp = new McpHub(
                egress == null
                        ? null
                        : java.net.ProxySelector.of(new java.net.InetSocketAddress(
                                java.net.InetAddress.getLoopbackAddress(), egress.port())));
        AgentLoop loop = new AgentLoop(
                Map.of(
                        ModelApi.ANTHROPIC,
                                ModelClients.anthropic(transport.forApi(ModelApi.ANTHROPIC), RetryPolicy.defaults()),
                        ModelApi.OPENAI,
                                ModelClients.openai(transport.forApi(ModelApi.OPENAI), RetryPolicy.defaults())),
                tools,
                host::send,
                approvals,
                workspace,
                skills,
                mcp);
        Inbox inbox = new Inbox(workspace, host::send);
        HEARTBEAT.prestartCoreThread();
        host.send(new RunnerMessage.Ready(VERSION));
        ExecutorService turns = Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("turn").factory());
        while (true) {
            HostMessage message;
            try {
                message = host.receive();
            } catch (IOException e) {
                message = null;
            }
            switch (message) {
                case null -> {
                    transport.failAll();
                    closeQuietly(egress);
                    approvals.failAll();
                    hostCalls.failAll();
                    turns.shutdownNow();
                    mcp.close();
                    return;
                }
                case HostMessage.Shutdown s -> {
                    transport.failAll();
                    closeQuietly(egress);
                    approvals.failAll();
                    hostCalls.failAll();
                    turns.shutdownNow();
                    mcp.close();
                    return;
                }
                case HostMessage.StartTurn turn ->
                    turns.submit(() -> {
                        // From a thread of its own, so a long tool call or a model call waiting out a
                        // rate limit still says the runner is alive; only a hung runner goes quiet.
                        ScheduledFuture<?> beat = HEARTBEAT.scheduleAtFixedRate(
                                () -> {
                                    try {
                                        host.send(new RunnerMessage.Heartbeat(turn.turnId()));
                                    } catch (RuntimeException e) {
                                        // the host is gone: the reader sees the same and ends the runner
                                    }
                                },
                                RunnerMessage.HEARTBEAT_SECONDS,
                                RunnerMessage.HEARTBEAT_SECONDS,
                                TimeUnit.SECONDS);
                        try {
                            loop.run(turn);
                        } catch (HostConnection.HostGoneException e) {
                            // the reader sees the same and ends the runner
                        } finally {
                            beat.cancel(false);
                        }
                    });
                case HostMessage.ModelResponseHead m -> transport.dispatch(m);
                case HostMessage.ModelResponseChunk m -> transport.dispatch(m);
                case HostMessage.ModelResponseEnd m -> transport.dispatch(m);
                case HostMessage.StreamData m -> dispatchStream(egress, m);
                case HostMessage.StreamEnd m -> dispatchStream(egress, m);
                case HostMessage.StreamAck m -> dispatchStream(egress, m);
                case HostMessage.ApprovalDecision d -> approvals.dispatch(d);
                case HostMessage.HostToolResult r -> hostCalls.dispatch(r);
                // Written by this thread, so every piece is in place before the StartTurn behind it.
                case HostMessage.PutFile f -> inbox.put(f);
            }
        }
    }

    /**
     * The local proxy port, when the host asked for one ({@code CORDON_PROXY_PORT}, normally 3128 on
     * the sandbox's own loopback). Without it, or if the port is taken, the sandbox simply has no
     * way out: tools get "connection refused" from the proxy address.
     */
    private static EgressRelay egressRelay(HostConnection host) {
        String port = System.getenv("CORDON_PROXY_PORT");
        if (port == null || port.isBlank()) {
            return null;
        }
        try {
            return EgressRelay.start(host, Integer.parseInt(port.strip()));
        } catch (IOException | NumberFormatException e) {
            System.err.println("cordon-runner: no egress relay on port " + port + ": " + e);
            return null;
        }
    }

    /** Stream frames for a runner without a relay are ignored: nothing here opened a stream. */
    private static void dispatchStream(EgressRelay egress, HostMessage message) {
        if (egress != null) {
            egress.dispatch(message);
        }
    }

    private static void closeQuietly(EgressRelay egress) {
        if (egress != null) {
            egress.close();
        }
    }
}
