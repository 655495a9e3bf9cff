package dev.cordon.server;

import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.HookRequest;
import dev.cordon.core.channel.HookResponse;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener for signed webhooks: {@code GET|POST /hooks/CHANNEL[/NAME]} is handed, whole, to
 * the {@link HookChannel} of that name, which verifies it and answers. Nothing else is served.
 *
 * <p>Why its own listener and not a route of the dashboard's {@link WebServer}: webhooks must be
 * reachable by GitHub, Meta or a CI system, usually through a public reverse proxy or tunnel, while
 * the dashboard is the owner's keys and stays on loopback; one listener would put both behind the
 * same exposure. The dashboard's gate (its own {@code Host} only, no cross-site request, cookie and
 * CSRF) is meant for browsers and would refuse a proxied platform; here the only credential is
 * each request's signature, checked by its channel. Separate, the webhook port can face the
 * internet while the dashboard cannot be reached from it at all.
 *
 * <p>A body longer than {@link HookSettings#maxBodyBytes} is refused with 413 after reading at
 * most that many bytes plus one: a caller cannot make the daemon buffer more, signed or not. Up to
 * another MiB of such a body is read and discarded so the caller sees the 413 instead of a reset
 * connection; a body declared larger than that gets the answer and a closed connection.
 */
final class HookServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HookServer.class);
    /** How much of a too-large body is read and thrown away so the 413 reaches the caller. */
    private static final long SWALLOW_BYTES = 1L << 20;

    private final HookSettings settings;
    private final Map<String, HookChannel> channels;
    private Javalin app;

    HookServer(HookSettings settings, List<HookChannel> channels) {
        this.settings = settings;
        this.channels = channels.stream().collect(Collectors.toUnmodifiableMap(HookChannel::name, Function.identity()));
    }

    void start() {
        app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            config.jetty.host = settings.host();
            config.jetty.port = settings.port();
            // Checked here with a clear answer; Jetty's own limit only as a backstop.
            config.http.maxRequestSize = settings.maxBodyBytes() + 1L;
            for (String path : List.of("/hooks/{channel}", "/hooks/{channel}/{name}")) {
                config.routes.get(path, this::handle);
                config.routes.post(path, this::handle);
            }
        });
        app.start();
        LOG.info("webhooks at {}/hooks/ for {}", url(), channels.keySet());
    }

    String url() {
        return "http://" + (settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host()) + ":"
                + app.port();
    }

    int port() {
        return app.port();
    }

    private void handle(Context ctx) throws IOException {
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Content-Type-Options", "nosniff");
        HookChannel channel = channels.get(ctx.pathParam("channel"));
        if (channel == null) {
            answer(
                    ctx,
                    HookResponse.error(
                            404, "no webhook channel '" + ctx.pathParam("channel") + "' is configured here"));
            return;
        }
        long declared = ctx.req().getContentLengthLong();
        if (declared > settings.maxBodyBytes()) {
            if (declared <= settings.maxBodyBytes() + SWALLOW_BYTES) {
                swallow(ctx.req().getInputStream(), declared);
            }
            answer(ctx, tooLarge());
            return;
        }
        byte[] body;
        try (InputStream in = ctx.req().getInputStream()) {
            body = in.readNBytes(settings.maxBodyBytes() + 1);
        }
        if (body.length > settings.maxBodyBytes()) {
            swallow(ctx.req().getInputStream(), SWALLOW_BYTES);
            answer(ctx, tooLarge());
            return;
        }
        Map<String, List<String>> headers = new HashMap<>();
        for (String name : Collections.list(ctx.req().getHeaderNames())) {
            headers.put(name, Collections.list(ctx.req().getHeaders(name)));
        }
        Map<String, String> query = new HashMap<>();
        ctx.queryParamMap().forEach((k, v) -> {
            if (!v.isEmpty()) {
                query.put(k, v.getFirst());
            }
        });
        String name = ctx.pathParamMap().get("name");
        answer(
                ctx,
                channel.receive(
                        new HookRequest(ctx.method().name(), name == null ? "" : "/" + name, headers, query, body)));
    }

    /**
     * Reads and discards up to {@code limit} more bytes of a refused body. Answering while the
     * caller is still sending makes Jetty close a socket with unread bytes in it, which the kernel
     * turns into a reset that can reach the caller before the 413 does; swallowing a bounded rest
     * lets the answer arrive. Nothing is kept, so a listener's memory bound holds.
     */
    static void swallow(InputStream body, long limit) throws IOException {
        byte[] sink = new byte[8192];
        long left = limit;
        for (int n; left > 0 && (n = body.read(sink, 0, (int) Math.min(sink.length, left))) >= 0; ) {
            left -= n;
        }
    }

    private HookResponse tooLarge() {
        return HookResponse.error(
                413,
                "the body is larger than this listener takes (" + settings.maxBodyBytes() / 1024
                        + " KiB: hooks.max_body_kb)");
    }

    private static void answer(Context ctx, HookResponse response) {
        ctx.status(response.status()).contentType(response.contentType()).result(response.body());
    }

    @Override
    public void close() {
        if (app != null) {
            app.stop();
        }
    }
}
