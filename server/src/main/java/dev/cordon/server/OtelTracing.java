package dev.cordon.server;

import dev.cordon.core.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@link Tracing} on the OpenTelemetry SDK, exported over OTLP/HTTP ({@code tracing:} in
 * cordon.yaml; docs/dashboard.md). A message's trace id and its root span's id are derived from its
 * stored id and the home (SHA-256), so the turn that answers it, a retry after a crash and the
 * reply's delivery after a restart all land in the one trace, under the routing span, without
 * carrying a context through the store.
 */
final class OtelTracing implements Tracing {
    /** The ids the next span gets, set just around the start of a message's routing span. */
    private static final ThreadLocal<String[]> NEXT_IDS = new ThreadLocal<>();

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final byte[] salt;

    OtelTracing(SpanExporter exporter, String home) {
        this.salt = home.getBytes(StandardCharsets.UTF_8);
        IdGenerator random = IdGenerator.random();
        this.provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault()
                        .merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "cordon"))))
                .setIdGenerator(new IdGenerator() {
                    @Override
                    public String generateSpanId() {
                        String[] ids = NEXT_IDS.get();
                        return ids != null ? ids[1] : random.generateSpanId();
                    }

                    @Override
                    public String generateTraceId() {
                        String[] ids = NEXT_IDS.get();
                        return ids != null ? ids[0] : random.generateTraceId();
                    }
                })
                .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
                .build();
        this.tracer = provider.get("dev.cordon");
    }

    /** Exports to an OTLP/HTTP collector, e.g. {@code http://127.0.0.1:4318/v1/traces}. */
    static OtelTracing otlp(String endpoint, String home) {
        return new OtelTracing(
                OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build(), home);
    }

    /**
     * What the {@code tracing:} block of {@code file} asks for: {@link Tracing#OFF} without one;
     * with {@code otlp_endpoint}, spans exported there. Errors name the file and the field.
     */
    static Tracing load(Path file, String home) {
        URI endpoint = endpoint(file);
        return endpoint == null ? Tracing.OFF : otlp(endpoint.toString(), home);
    }

    /**
     * The collector {@code file}'s {@code tracing:} block names, or null without one; checks the
     * block without starting an exporter.
     *
     * @throws ConfigException naming the file and the field
     */
    static URI endpoint(Path file) {
        if (!Files.exists(file)) {
            return null;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            return null; // Config.load, which runs first, reports an unreadable file
        }
        JsonNode block = root == null ? null : root.get("tracing");
        if (block == null || block.isNull()) {
            return null;
        }
        if (!block.isObject()) {
            throw new ConfigException(file + ": tracing: must be a block with otlp_endpoint");
        }
        for (Iterator<String> names = block.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("otlp_endpoint")) {
                throw new ConfigException(file + ": tracing." + name + ": unknown field; allowed: otlp_endpoint");
            }
        }
        JsonNode endpoint = block.get("otlp_endpoint");
        URI uri;
        try {
            uri = endpoint == null || !endpoint.isString() ? null : new URI(endpoint.asString());
        } catch (URISyntaxException e) {
            uri = null;
        }
        if (uri == null
                || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                || uri.getHost() == null) {
            throw new ConfigException(file + ": tracing.otlp_endpoint: must be a collector's OTLP/HTTP traces URL,"
                    + " such as http://127.0.0.1:4318/v1/traces");
        }
        return uri;
    }

    /** The trace id (32 hex digits) and root span id (16) of inbound message {@code inbound}. */
    String[] ids(long inbound) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            byte[] h = sha.digest(("\ninbound " + inbound).getBytes(StandardCharsets.UTF_8));
            HexFormat hex = HexFormat.of();
            return new String[] {hex.formatHex(h, 0, 16), hex.formatHex(h, 16, 24)};
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Span span(long inbound, String name, boolean first, Instant start, Map<String, Object> attributes) {
        String[] ids = ids(inbound);
        var builder = tracer.spanBuilder(name).setAttribute("cordon.inbound", inbound);
        if (start != null) {
            builder.setStartTimestamp(start.toEpochMilli(), TimeUnit.MILLISECONDS);
        }
        attributes.forEach((k, v) -> put(builder::setAttribute, builder::setAttribute, k, v));
        if (first) {
            builder.setNoParent().setSpanKind(SpanKind.SERVER);
            NEXT_IDS.set(ids);
            try {
                return new OtelSpan(builder.startSpan());
            } finally {
                NEXT_IDS.remove();
            }
        }
        SpanContext root =
                SpanContext.createFromRemoteParent(ids[0], ids[1], TraceFlags.getSampled(), TraceState.getDefault());
        return new OtelSpan(builder.setParent(Context.root().with(io.opentelemetry.api.trace.Span.wrap(root)))
                .startSpan());
    }

    /** Exports what is waiting in the batch now. */
    void flush() {
        provider.forceFlush().join(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        provider.shutdown().join(10, TimeUnit.SECONDS);
    }

    private interface LongSetter {
        void set(String key, long value);
    }

    private interface StringSetter {
        void set(String key, String value);
    }

    private static void put(StringSetter strings, LongSetter longs, String key, Object value) {
        if (value instanceof Number n && !(value instanceof Double || value instanceof Float)) {
            longs.set(key, n.longValue());
        } else if (value != null) {
            strings.set(key, String.valueOf(value));
        }
    }

    private final class OtelSpan implements Span {
        private final io.opentelemetry.api.trace.Span span;

        OtelSpan(io.opentelemetry.api.trace.Span span) {
            this.span = span;
        }

        @Override
        public Span child(String name) {
            return new OtelSpan(tracer.spanBuilder(name)
                    .setParent(Context.root().with(span))
                    .startSpan());
        }

        @Override
        public Span set(String key, Object value) {
            put(span::setAttribute, span::setAttribute, key, value);
            return this;
        }

        @Override
        public Span failed(String why) {
            span.setStatus(StatusCode.ERROR, why == null ? "" : why.length() > 500 ? why.substring(0, 500) : why);
            return this;
        }

        @Override
        public void close() {
            span.end();
        }
    }
}
