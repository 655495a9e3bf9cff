package dev.cordon.server;

import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.router.exception.HttpResponseExceptionMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's HTTP server (docs/dashboard.md): Javalin on Jetty with virtual threads, serving the
 * {@link WebApi}, {@code /metrics}, the one-time login and the dashboard's static files. Every
 * request passes one gate, in this order: security headers; the {@code Host} must be this server's
 * (no DNS rebinding); no cross-origin request ({@code Origin} or {@code Sec-Fetch-Site} of another
 * site is refused, and no CORS header is ever sent); then, for the API, a caller (bearer token or
 * session cookie) and, for a cookie's mutating call, its CSRF token in {@code X-CSRF-Token}.
 */
final class WebServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);
    static final String COOKIE = "cordon_session";
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html",
            "/app.js", "app.js",
            "/style.css", "style.css",
            "/openapi.yaml", "openapi.yaml");
    /**
     * The largest request body a JSON route reads (a chat message is at most 64 Ki characters, so
     * at most 384 KiB of JSON even with every character escaped). File uploads stream past it,
     * with their own limit ({@code files.max_mb}).
     */
    static final long MAX_BODY = 1024 * 1024;

    /** How much more of a body over {@link #MAX_BODY} is read and dropped before the 413. */
    static final long MAX_DISCARD = 16 * 1024 * 1024;

    private static final Set<HandlerType> SAFE = Set.of(HandlerType.GET, HandlerType.HEAD);

    private final WebSettings settings;
    private final WebAuth auth;
    private final WebApi api;
    private final List<WebApi.Route> more;
    private final WebMetrics metrics;
    private final AuditLog audit;
    private Javalin app;

    /** {@code more}: the routes of the dashboard's other pages (WebAgentFiles, WebEgress, WebTasks). */
    WebServer(
            WebSettings settings,
            WebAuth auth,
            WebApi api,
            List<WebApi.Route> more,
            WebMetrics metrics,
            AuditLog audit) {
        this.settings = settings;
        this.auth = auth;
        this.api = api;
        this.more = List.copyOf(more);
        this.metrics = metrics;
        this.audit = audit;
    }

    /** The routes as registered, method and path: what the OpenAPI file must document. */
    List<String> registered() {
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .filter(e -> HandlerType.commonHttp().contains(e.endpoint.method))
                .map(e -> e.endpoint.method.name() + " " + e.endpoint.path)
                .toList();
    }

    void start() {
        app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            config.jetty.host = settings.host();
            config.jetty.port = settings.port();
            config.routes.before(this::gate);
            config.routes.exception(WebException.class, this::refused);
            config.routes.exception(
                    IllegalArgumentException.class, (e, ctx) -> WebApi.json(ctx, 400, Map.of("error", e.getMessage())));
            config.http.maxRequestSize = MAX_BODY;
            config.routes.exception(HttpResponseException.class, WebServer::answer);
            List<WebApi.Route> routes = new java.util.ArrayList<>(api.routes());
            routes.addAll(more);
            for (WebApi.Route route : routes) {
                config.routes.addHttpHandler(
                        HandlerType.findOrCreate(route.method()),
                        route.path(),
                        ctx -> route.handler().handle(ctx, caller(ctx)));
            }
            config.routes.post(WebApi.PREFIX + "/logout", this::logout);
            config.routes.get("/metrics", ctx -> {
                if (!(ctx.attribute("globalAdmin") instanceof Boolean b && b)) {
                    throw new WebException(403, "only owners and global admins may read /metrics");
                }
                ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
            });
            config.routes.get("/login", this::login);
            STATIC.forEach((path, file) -> config.routes.get(path, ctx -> resource(ctx, file)));
        });
        app.start();
        LOG.info("dashboard and HTTP API at {}", url());
    }

    String url() {
        return "http://" + (settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host()) + ":"
                + app.port();
    }

    int port() {
        return app.port();
    }

    private static WebAuth.Caller caller(Context ctx) {
        return ctx.attribute("caller");
    }

    private void gate(Context ctx) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Cache-Control", "no-store");
        String host = ctx.header("Host");
        // A file link is reached through the public URL (a proxy's Host); its MAC is its authority.
        boolean fileLink = ctx.path().startsWith(FileLinks.PREFIX) && SAFE.contains(ctx.method());
        if (!fileLink && (host == null || !allowedHosts().contains(host))) {
            throw new WebException(421, "this server answers to " + allowedHosts() + ", not to Host " + host);
        }
        String origin = ctx.header("Origin");
        if ((origin != null && !origin.equals("http://" + host))
                || "cross-site".equals(ctx.header("Sec-Fetch-Site"))
                || ctx.method().equals(HandlerType.OPTIONS)) {
            throw new WebException(403, "cross-origin requests are refused: use the dashboard at " + url());
        }
        boolean api = ctx.path().startsWith(WebApi.PREFIX + "/") || ctx.path().equals("/metrics");
        if (!api) {
            return;
        }
        WebAuth.Caller caller = authenticate(ctx)
                .orElseThrow(() -> new WebException(
                        401,
                        "log in: ./cordon dashboard prints a one-time link (or send Authorization: Bearer TOKEN)"));
        ctx.attribute("caller", caller);
        if (caller.csrf() != null
                && !SAFE.contains(ctx.method())
                && !WebAuth.same(caller.csrf(), ctx.header("X-CSRF-Token"))) {
            throw new WebException(
                    403,
                    "missing or wrong X-CSRF-Token: send the csrfToken of GET " + WebApi.PREFIX
                            + "/me with every change");
        }
        ctx.attribute("caller", caller);
        ctx.attribute("globalAdmin", api && isGlobalAdmin(caller.user()));
    }

    /**
     * Javalin's own answers (404, 405) as Javalin gives them, except a body over {@link #MAX_BODY}:
     * Javalin says only "Content Too Large"; this says which limit and where files go. The rest of
     * that body (up to {@link #MAX_DISCARD}) is read and dropped first, so that the client hears the
     * answer rather than the reset a close with unread bytes causes.
     */
    private static void answer(HttpResponseException e, Context ctx) {
        if (e.getStatus() != 413) {
            HttpResponseExceptionMapper.INSTANCE.handle(e, ctx);
            return;
        }
        try {
            HookServer.swallow(ctx.req().getInputStream(), MAX_DISCARD);
        } catch (IOException gone) {
            // the client stopped sending; it may still read the answer
        }
        WebApi.json(
                ctx,
                413,
                Map.of(
                        "error",
                        (ctx.contentLength() < 0
                                        ? "the request body is"
                                        : "the request body is " + ctx.contentLength() + " bytes,")
                                + " over the " + MAX_BODY + " bytes the API takes (files go to POST " + WebApi.PREFIX
                                + "/agents/{agent}/files)"));
    }

    /**
     * Answers a refusal; a logged-in user's refused change is audited ({@code web.denied}), so every
     * mutating call leaves an entry, done or not. Anonymous refusals are not: they would let anyone
     * fill the log.
     */
    private void refused(WebException e, Context ctx) {
        WebAuth.Caller caller = caller(ctx);
        if (caller != null && e.status() == 403 && !SAFE.contains(ctx.method())) {
            audit.append(AuditEvent.of(
                            Instant.now(),
                            AuditEvent.Actor.user(caller.user().toString()),
                            AuditActions.WEB_DENIED,
                            AuditEvent.Decision.DENY)
                    .withReason(AuditEvent.clip(e.getMessage()))
                    .withDetails(Map.of("method", ctx.method().name(), "path", ctx.path())));
        }
        WebApi.json(ctx, e.status(), Map.of("error", e.getMessage()));
    }

    private boolean isGlobalAdmin(UserId user) {
        return api.globalAdmin(user);
    }

    private Set<String> allowedHosts() {
        int port = app.port();
        return new java.util.TreeSet<>(
                List.of(settings.host() + ":" + port, "127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port));
    }

    private Optional<WebAuth.Caller> authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header != null) {
            // A wrong token is refused outright, never retried as a cookie.
            return header.startsWith("Bearer ")
                    ? auth.bearer(header.substring(7).strip())
                    : Optional.empty();
        }
        return auth.session(ctx.cookie(COOKIE));
    }

    private void login(Context ctx) {
        Optional<WebAuth.Login> login = auth.redeem(ctx.queryParam("code"));
        if (login.isEmpty()) {
            ctx.status(401)
                    .contentType("text/plain; charset=utf-8")
                    .result("This login link is unknown, used or expired. Run ./cordon dashboard for a new one.");
            return;
        }
        UserId user = login.get().caller().user();
        audit.append(AuditEvent.of(
                        Instant.now(),
                        AuditEvent.Actor.user(user.toString()),
                        AuditActions.WEB_LOGIN,
                        AuditEvent.Decision.ALLOW)
                .withReason("one-time login link"));
        ctx.header(
                "Set-Cookie",
                COOKIE + "=" + login.get().sessionId() + "; Path=/; HttpOnly; SameSite=Strict; Max-Age="
                        + WebAuth.SESSION_LIFETIME.toSeconds());
        ctx.redirect("/");
    }

    private void logout(Context ctx) {
        WebAuth.Caller caller = caller(ctx);
        auth.logout(ctx.cookie(COOKIE));
        audit.append(AuditEvent.of(
                Instant.now(),
                AuditEvent.Actor.user(caller.user().toString()),
                AuditActions.WEB_LOGOUT,
                AuditEvent.Decision.INFO));
        ctx.header("Set-Cookie", COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        WebApi.json(ctx, 200, Map.of("message", "logged out"));
    }

    private static void resource(Context ctx, String file) throws IOException {
        try (InputStream in = WebServer.class.getResourceAsStream("/web/" + file)) {
            if (in == null) {
                throw new WebException(404, "no " + file + " in this build");
            }
            String type = file.endsWith(".js")
                    ? "text/javascript"
                    : file.endsWith(".css") ? "text/css" : file.endsWith(".yaml") ? "application/yaml" : "text/html";
            ctx.contentType(type + "; charset=utf-8").result(in.readAllBytes());
        }
    }

    @Override
    public void close() {
        if (app != null) {
            app.stop();
        }
    }
}
