package dev.cordon.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * What the fake platforms with a WebSocket share ({@link FakeSlack}, {@link FakeDiscord}): a Jetty
 * server on a free loopback port with WebSocket endpoints and a JSON API over HTTP. The fake says
 * what to answer and what to do with each connection's events; this class does the plumbing.
 * Thread-safe as Jetty is; the callbacks run on Jetty's threads.
 */
final class JettyFake implements AutoCloseable {
    /** What a fake does with the events of its WebSocket connections. */
    interface Sockets {
        /** A connection opened, with its URL's query (null if none). */
        void opened(Session session, String query);

        void received(Session session, String text);

        /** The connection closed or failed (a client that cuts it is what tests do on purpose). */
        void closed(Session session);
    }

    /** An HTTP answer: status, JSON body, extra headers. */
    record Answer(int status, String body, Map<String, String> headers) {}

    /** Answers one HTTP request under the API's prefix. */
    @FunctionalInterface
    interface Api {
        /**
         * @param path the path after the API's prefix, with {@code ?query} if there is one
         * @param authorization the {@code Authorization} header, or null
         * @param contentType the {@code Content-Type} header, or null
         * @param body UTF-8 text; a {@code multipart/} body is ISO-8859-1 text instead, one character
         *     per byte, so its files arrive unchanged ({@code body.getBytes(ISO_8859_1)})
         */
        Answer handle(String method, String path, String authorization, String contentType, String body);
    }

    private final String name;
    private final Server server;

    /**
     * Starts the server.
     *
     * @param name names the fake in errors, e.g. {@code Slack}
     * @param apiPrefix requests under it go to {@code api}; others get 404
     * @param socketPaths the paths where WebSocket connections are accepted
     */
    JettyFake(String name, String apiPrefix, Api api, Sockets sockets, String... socketPaths) throws Exception {
        this.name = name;
        server = new Server(new InetSocketAddress("127.0.0.1", 0));
        WebSocketUpgradeHandler upgrade = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(1024 * 1024);
            // Jetty's default closes a connection silent for 30 s (1001); the platforms do not:
            // Discord's heartbeats come every 41 s, and spotting a dead link is the client's job.
            container.setIdleTimeout(java.time.Duration.ofMinutes(10));
            for (String path : socketPaths) {
                container.addMapping(
                        path,
                        (request, response, callback) ->
                                new Link(sockets, request.getHttpURI().getQuery()));
            }
        });
        upgrade.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws IOException {
                String path = Request.getPathInContext(request);
                if (!path.startsWith(apiPrefix)) {
                    response.setStatus(404);
                    callback.succeeded();
                    return true;
                }
                String query = request.getHttpURI().getQuery();
                Answer answer = api.handle(
                        request.getMethod(),
                        path.substring(apiPrefix.length()) + (query == null ? "" : "?" + query),
                        request.getHeaders().get(HttpHeader.AUTHORIZATION),
                        request.getHeaders().get(HttpHeader.CONTENT_TYPE),
                        Content.Source.asString(
                                request,
                                String.valueOf(request.getHeaders().get(HttpHeader.CONTENT_TYPE))
                                                .startsWith("multipart/")
                                        ? StandardCharsets.ISO_8859_1
                                        : StandardCharsets.UTF_8));
                response.setStatus(answer.status());
                answer.headers().forEach((k, v) -> response.getHeaders().put(k, v));
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
                Content.Sink.write(response, true, answer.body(), callback);
                return true;
            }
        });
        server.setHandler(upgrade);
        server.start();
    }

    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** One WebSocket connection. Public only because Jetty calls it through method handles. */
    public static final class Link extends Session.Listener.AbstractAutoDemanding {
        private final Sockets sockets;
        private final String query;

        Link(Sockets sockets, String query) {
            this.sockets = sockets;
            this.query = query;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            super.onWebSocketOpen(session);
            sockets.opened(session, query);
        }

        @Override
        public void onWebSocketText(String text) {
            sockets.received(getSession(), text);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            sockets.closed(getSession());
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            sockets.closed(getSession());
        }
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new UncheckedIOException(new IOException("cannot stop the fake " + name, e));
        }
    }
}
