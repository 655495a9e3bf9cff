package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.cordon.core.trace.Tracing;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.Scripted;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Traces of a message's way, exported over real OTLP/HTTP to a collector the test runs: routing,
 * the turn with its sandbox start, model calls and host-side tool work, and the delivery, all in
 * the one trace the message's stored id names.
 */
class TracingEndToEndTest extends DaemonTestBase {
    @Test
    void aMessagesRoutingTurnModelCallsAndDeliveryAreOneTraceAtTheCollector() throws Exception {
        List<byte[]> posts = new CopyOnWriteArrayList<>();
        List<String> types = new CopyOnWriteArrayList<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/v1/traces", exchange -> {
            posts.add(exchange.getRequestBody().readAllBytes());
            types.add(exchange.getRequestHeaders().getFirst("Content-Type"));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        long inbound;
        try {
            Files.writeString(
                    home.resolve("cordon.yaml"),
                    "tracing:\n  otlp_endpoint: http://127.0.0.1:"
                            + collector.getAddress().getPort() + "/v1/traces\n");
            startDaemon();
            model.enqueue(Scripted.toolCall("bash", EndToEndTest.json("echo traced")), Scripted.text("done"));
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                ControlEvent.Reply reply = client.ask("main", "trace this");
                assertThat(reply.text()).isEqualTo("done");
                inbound = reply.inReplyTo();
            }
            daemon.close(); // flushes what the batch processor holds
            daemon = null;
        } finally {
            collector.stop(0);
        }

        assertThat(types).isNotEmpty().allSatisfy(t -> assertThat(t).isEqualTo("application/x-protobuf"));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        posts.forEach(all::writeBytes);
        String wire = all.toString(StandardCharsets.ISO_8859_1);
        assertThat(wire).contains("inbound", "turn", "sandbox.start", "model.call", "delivery", "cordon");
        // The trace id the message's stored id names is on the wire (OTLP carries it as 16 raw bytes).
        String traceId = new OtelTracing(InMemorySpanExporter.create(), home.toString()).ids(inbound)[0];
        assertThat(wire).contains(new String(HexFormat.of().parseHex(traceId), StandardCharsets.ISO_8859_1));
    }

    @Test
    void aTurnAfterARestartJoinsTheTraceItsMessageStartedUnderTheRoutingSpan() {
        InMemorySpanExporter first = InMemorySpanExporter.create();
        OtelTracing before = new OtelTracing(first, "/srv/cordon");
        before.span(42, "inbound", true, null, Map.of("cordon.channel", "irc")).close();
        before.flush();
        List<SpanData> spans = new ArrayList<>(first.getFinishedSpanItems());
        before.close();
        InMemorySpanExporter second = InMemorySpanExporter.create();
        OtelTracing after = new OtelTracing(second, "/srv/cordon"); // a new daemon process
        try (Tracing.Span turn = after.span(42, "turn", false, null, Map.of("cordon.messages", 1))) {
            turn.child("model.call").set("http.response.status_code", 200).close();
        }
        after.span(43, "inbound", true, null, Map.of()).close();
        after.flush();
        spans.addAll(second.getFinishedSpanItems());
        after.close();
        SpanData root = spans.stream()
                .filter(s -> s.getName().equals("inbound"))
                .findFirst()
                .orElseThrow();
        SpanData turn = spans.stream()
                .filter(s -> s.getName().equals("turn"))
                .findFirst()
                .orElseThrow();
        SpanData call = spans.stream()
                .filter(s -> s.getName().equals("model.call"))
                .findFirst()
                .orElseThrow();
        assertThat(root.getParentSpanContext().isValid()).isFalse();
        assertThat(turn.getTraceId()).isEqualTo(root.getTraceId());
        assertThat(turn.getParentSpanId()).isEqualTo(root.getSpanId());
        assertThat(call.getParentSpanId()).isEqualTo(turn.getSpanId());
        assertThat(spans.stream()
                        .filter(s -> s.getName().equals("inbound"))
                        .map(SpanData::getTraceId)
                        .distinct())
                .hasSize(2); // another message, another trace
        // Another home, another trace for the same message id.
        assertThat(new OtelTracing(InMemorySpanExporter.create(), "/srv/other").ids(42)[0])
                .isNotEqualTo(root.getTraceId());
    }

    @Test
    void aTracingBlockWithoutAUsableEndpointIsRefusedWithWhere() throws Exception {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, "tracing:\n  otlp_endpoint: 4318\n");
        assertThatThrownBy(() -> OtelTracing.load(file, home.toString()))
                .hasMessageContaining(file + ": tracing.otlp_endpoint: must be a collector's OTLP/HTTP traces URL");
        Files.writeString(file, "tracing:\n  endpoint: http://127.0.0.1:4318/v1/traces\n");
        assertThatThrownBy(() -> OtelTracing.load(file, home.toString()))
                .hasMessageContaining("tracing.endpoint: unknown field; allowed: otlp_endpoint");
        Files.writeString(file, "sandbox: {}\n");
        assertThat(OtelTracing.load(file, home.toString())).isSameAs(Tracing.OFF);
    }
}
