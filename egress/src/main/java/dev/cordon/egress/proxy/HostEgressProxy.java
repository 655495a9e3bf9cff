package dev.cordon.egress.proxy;

import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.session.EgressGateway;
import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.StreamMux;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/** See {@link EgressProxy}. Stateless between connections; thread-safe. */
final class HostEgressProxy implements EgressProxy {
    private static final Logger LOG = LoggerFactory.getLogger(HostEgressProxy.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    /** Hop-by-hop fields (RFC 9110 §7.6.1) and the ones the proxy writes itself. */
    private static final Set<String> NOT_FORWARDED = Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "proxy-authorization",
            "proxy-authenticate",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "content-length",
            "host",
            "expect");

    private final AuditLog audit;
    private final Resolver resolver;
    private final AddressGuard guard;
    private final Vault vault;
    private final SecretScanner scanner;
    private final SSLSocketFactory tls;
    private final EgressApprovals approvals;
    private final Clock clock;

    HostEgressProxy(
            AuditLog audit,
            Resolver resolver,
            AddressGuard guard,
            Vault vault,
            SecretScanner scanner,
            SSLSocketFactory tls,
            EgressApprovals approvals,
            Clock clock) {
        this.audit = audit;
        this.resolver = resolver;
        this.guard = guard;
        this.vault = vault;
        this.scanner = scanner;
        this.tls = tls;
        this.approvals = approvals;
        this.clock = clock;
    }

    @Override
    public void serve(EgressGateway.Connection client, Caller caller) {
        try (client) {
            InputStream in = new BufferedInputStream(client.in(), Bodies.BUFFER);
            OutputStream out = client.out();
            try {
                Optional<HttpHead> head = HttpHead.read(in);
                if (head.isPresent()) {
                    handle(head.get(), in, out, client, caller);
                }
            } catch (ProxyException e) {
                respond(out, e.status(), error("bad_request", e.getMessage(), caller, null, null));
            }
            // A clean end of the answer before the close: over a relayed stream a close alone reads
            // as an abort.
            client.shutdownOutput();
        } catch (IOException e) {
            LOG.debug("egress connection of {} ended: {}", caller.agent(), e.toString());
        } catch (RuntimeException e) {
            // A host-side fault (an unreadable vault, a full audit disk): nothing left, and the
            // client's connection is closed without an answer rather than half of one.
            LOG.warn("egress connection of {} failed on the host: {}", caller.agent(), e.toString());
        }
    }

    private void handle(HttpHead head, InputStream in, OutputStream out, EgressGateway.Connection client, Caller caller)
            throws IOException, ProxyException {
        boolean tunnel = head.method().equals("CONNECT");
        Target target = tunnel ? Target.authority(head.target()) : Target.absolute(head.target());
        EgressRules.Request request = new EgressRules.Request(
                target.host(), target.port(), tunnel ? null : head.method(), tunnel ? null : target.path());
        HttpHead.Framing framing = tunnel ? new HttpHead.Framing.None() : head.framing();
        // A client that sent "Expect: 100-continue" holds its body back until told to send it; any
        // other is sending it now, and a refusal reads it first (Bodies.discard) so it is heard.
        boolean waits = !tunnel && expectsContinue(head);
        HttpHead.Framing coming = waits ? new HttpHead.Framing.None() : framing;

        EgressRules.Verdict verdict = caller.rules().decide(request);
        EgressRules rules = caller.rules();
        if (!verdict.allowed() && verdict.rule() == null) {
            // No rule covers it (an explicit deny is never put to a person): ask, or use a grant.
            switch (approvals.ask(caller, target.host(), target.port())) {
                case EgressApprovals.Asked.Granted g -> {
                    // A person's grant acts as a rule for this one host and port; naming an address
                    // literal, it also lets that address through the address guard.
                    EgressRule approved = new EgressRule(
                            "approval #" + g.approval(), target.host(), target.port(), Set.of(), List.of());
                    rules = new EgressRules(append(rules.allow(), approved), rules.deny());
                    verdict = new EgressRules.Verdict(true, approved, g.reason());
                }
                case EgressApprovals.Asked.Waiting w -> {
                    EgressRules.Verdict asked = new EgressRules.Verdict(
                            false,
                            null,
                            verdict.reason() + "; approval #" + w.approval() + " asks an operator to allow "
                                    + target.host() + ":" + target.port() + " (cordon approvals approve "
                                    + w.approval() + " --scope once|session|always), then retry");
                    denyUnread(in, coming, out, caller, request, asked);
                    return;
                }
                case EgressApprovals.Asked.Unavailable u -> {}
            }
        }
        if (!verdict.allowed()) {
            denyUnread(in, coming, out, caller, request, verdict);
            return;
        }
        Inspection.Prepared prepared = null;
        byte[] body = new byte[0];
        if (!tunnel) {
            if (waits && !(framing instanceof HttpHead.Framing.None)) {
                if (framing instanceof HttpHead.Framing.Length l && l.bytes() > Bodies.MAX_BODY) {
                    throw Bodies.tooLarge(); // before the client sends any of it
                }
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            body = Bodies.read(in, framing);
            switch (Inspection.inspect(head, target, body, caller.secrets(), vault, scanner, caller.dlp())) {
                case Inspection.Refused r -> {
                    deny(out, caller, request, new EgressRules.Verdict(false, null, r.reason()), null, r.rule());
                    return;
                }
                case Inspection.Prepared p -> {
                    prepared = p;
                    body = p.body();
                }
            }
        }
        List<String> secrets = prepared == null ? List.of() : prepared.secrets();
        Optional<InetAddress> pinned = Optional.empty();
        EgressRules.Verdict addressVerdict = verdict;
        List<InetAddress> addresses;
        try {
            addresses = resolve(target.host());
        } catch (UnknownHostException e) {
            record(caller, request, Decision.DENY, null, target.host() + " does not resolve", null, List.of())
                    .await();
            respond(out, 502, error("unresolvable", target.host() + " does not resolve", caller, request, null));
            return;
        }
        for (InetAddress a : addresses) {
            EgressRules.Verdict v = rules.decideAddress(a, target.port(), guard.special(a));
            if (v.allowed()) {
                pinned = Optional.of(a);
                addressVerdict = v.rule() == null ? verdict : v;
                break;
            }
            if (pinned.isEmpty() && addressVerdict == verdict) {
                addressVerdict = v;
            }
        }
        if (pinned.isEmpty()) {
            deny(out, caller, request, addressVerdict, addresses.getFirst());
            return;
        }
        InetAddress address = pinned.get();
        String why = addressVerdict.reason();
        if (prepared != null && !prepared.redacted().isEmpty()) {
            why = (why == null ? "" : why + "; ") + "the data-loss guard redacted "
                    + String.join(", ", prepared.redacted()) + " (dlp.requests: redact)";
        }
        // Invariant 6: the allow is on record before a byte leaves. The commit (an fsync) and the
        // TCP connect overlap, since a handshake carries nothing of the request; the first byte
        // written upstream, a TLS hello included, waits for the entry to be durable. If it cannot
        // be written, await() throws and the connection closes having sent nothing.
        AuditLog.Pending allowed =
                record(caller, request, Decision.ALLOW, addressVerdict.ruleLabel(), why, address, secrets);
        // A request carrying a real secret never travels in clear: it goes to the origin over TLS
        // (port 443 for a request written to port 80), with the certificate checked for the name.
        int port = secrets.isEmpty() || target.port() != 80 ? target.port() : 443;
        Socket plain = new Socket();
        try (plain) {
            Socket upstream;
            try {
                IOException unreachable = connect(plain, address, port);
                allowed.await();
                if (unreachable != null) {
                    throw unreachable;
                }
                upstream = secrets.isEmpty() ? plain : tls(plain, target.host(), port);
            } catch (IOException e) {
                respond(
                        out,
                        502,
                        error(
                                "unreachable",
                                target.host() + ":" + port + " (" + address.getHostAddress() + ") cannot be reached: "
                                        + e.getMessage(),
                                caller,
                                request,
                                null));
                return;
            }
            if (tunnel) {
                out.write("HTTP/1.1 200 Connection Established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                pipe(in, out, client, upstream);
            } else {
                try {
                    forward(head.method(), prepared, target, body, out, upstream);
                } catch (Unanswered e) {
                    LOG.debug("{}:{} closed without answering {}", target.host(), port, caller.agent(), e);
                    respond(
                            out,
                            502,
                            error(
                                    "unanswered",
                                    target.host() + ":" + port + " closed the connection without answering ("
                                            + e.getMessage() + ")",
                                    caller,
                                    request,
                                    null));
                }
            }
        }
    }

    /** Connects {@code plain}; returns why it failed rather than throwing, so the caller awaits the audit first. */
    private static IOException connect(Socket plain, InetAddress address, int port) {
        try {
            // Bytes are passed on as they come from the client: no Nagle delay on top of its own.
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(address, port), CONNECT_TIMEOUT_MILLIS);
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    private static List<EgressRule> append(List<EgressRule> rules, EgressRule one) {
        List<EgressRule> all = new java.util.ArrayList<>(rules);
        all.add(one);
        return all;
    }

    private List<InetAddress> resolve(String host) throws UnknownHostException {
        Optional<InetAddress> literal = Cidr.literal(EgressRule.unbracket(host));
        if (literal.isPresent()) {
            return List.of(literal.get());
        }
        List<InetAddress> all = resolver.resolve(host);
        if (all.isEmpty()) {
            throw new UnknownHostException(host);
        }
        return all;
    }

    /** Sends the request on with framing and headers the proxy wrote, then relays the answer until the origin closes. */
    private static void forward(
            String method, Inspection.Prepared prepared, Target target, byte[] body, OutputStream out, Socket upstream)
            throws IOException, Unanswered {
        HttpHead asSent = new HttpHead(method, "", "HTTP/1.1", prepared.headers());
        Set<String> named = connectionOptions(asSent);
        OutputStream up = new BufferedOutputStream(upstream.getOutputStream(), Bodies.BUFFER);
        StringBuilder h = new StringBuilder(512);
        h.append(method)
                .append(' ')
                .append(target.path())
                .append(prepared.query() == null ? "" : "?" + prepared.query())
                .append(" HTTP/1.1\r\n");
        h.append("Host: ").append(target.hostHeader()).append("\r\n");
        for (HttpHead.Header header : prepared.headers()) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!NOT_FORWARDED.contains(name) && !named.contains(name)) {
                h.append(header.name()).append(": ").append(header.value()).append("\r\n");
            }
        }
        if (body.length > 0
                || !asSent.all("Content-Length").isEmpty()
                || !asSent.all("Transfer-Encoding").isEmpty()) {
            h.append("Content-Length: ").append(body.length).append("\r\n");
        }
        h.append("Connection: close\r\n\r\n");
        IOException unsent = null;
        try {
            up.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            up.write(body);
            up.flush();
        } catch (IOException e) {
            // An origin may answer before it has the body (a 413 to an upload it will not take)
            // and close: its answer is still read below and passed on.
            unsent = e;
        }
        // Buffered: the head is parsed a byte at a time, which unbuffered would be a system call each.
        InputStream down = new BufferedInputStream(upstream.getInputStream(), Bodies.BUFFER);
        ByteArrayOutputStream first = new ByteArrayOutputStream(512);
        try {
            ClosingResponse.head(down, first);
        } catch (IOException e) {
            throw new Unanswered(unsent == null ? e.getMessage() : "sending: " + unsent.getMessage(), e);
        }
        if (first.size() == 0) {
            throw new Unanswered(unsent == null ? "no response" : "sending: " + unsent.getMessage(), unsent);
        }
        // The head leaves together with the part of the body that is already here: over the relay
        // that is one frame and one wake-up of the runner and of the client instead of two. A body
        // still on its way (a slow origin, a stream of events) does not hold the head back.
        int ready = Math.min(down.available(), StreamMux.CHUNK - first.size());
        if (ready > 0) {
            first.write(down.readNBytes(ready));
        }
        out.write(first.toByteArray());
        out.flush();
        StreamMux.copy(down, out);
        out.flush();
    }

    /** The origin closed before a byte of its answer came: the client gets a 502, not an empty reply. */
    private static final class Unanswered extends Exception {
        Unanswered(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Socket tls(Socket plain, String host, int port) throws IOException {
        SSLSocket socket = (SSLSocket) tls.createSocket(plain, host, port, true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setServerNames(List.of(new SNIHostName(host)));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    private static boolean expectsContinue(HttpHead head) {
        return head.all("Expect").stream().anyMatch(v -> v.strip().equalsIgnoreCase("100-continue"));
    }

    private static Set<String> connectionOptions(HttpHead head) {
        return head.all("Connection").stream()
                .flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .map(s -> s.strip().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** Copies both ways until both sides have finished; a side's end is passed on as a half close. */
    private static void pipe(InputStream in, OutputStream out, EgressGateway.Connection client, Socket upstream)
            throws IOException {
        Thread up = Thread.ofVirtual().name("egress-up").start(() -> {
            try {
                StreamMux.copy(in, upstream.getOutputStream());
                upstream.shutdownOutput();
            } catch (IOException e) {
                closeQuietly(upstream);
            }
        });
        try {
            StreamMux.copy(upstream.getInputStream(), out);
            out.flush();
            client.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(upstream);
        }
        try {
            up.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Denies a request whose body the client is still sending ({@code unread}): the decision is on
     * record first (a client that never finishes its body cannot keep it out of the log), then the
     * body is read and dropped ({@link Bodies#discard}) so that the client hears the answer.
     */
    private void denyUnread(
            InputStream in,
            HttpHead.Framing unread,
            OutputStream out,
            Caller caller,
            EgressRules.Request request,
            EgressRules.Verdict verdict)
            throws IOException {
        record(caller, request, Decision.DENY, verdict.ruleLabel(), verdict.reason(), null, List.of())
                .await();
        Bodies.discard(in, unread);
        respond(out, 403, error("egress_denied", verdict.reason(), caller, request, verdict.ruleLabel()));
    }

    private void deny(
            OutputStream out,
            Caller caller,
            EgressRules.Request request,
            EgressRules.Verdict verdict,
            InetAddress address)
            throws IOException {
        deny(out, caller, request, verdict, address, verdict.ruleLabel());
    }

    private void deny(
            OutputStream out,
            Caller caller,
            EgressRules.Request request,
            EgressRules.Verdict verdict,
            InetAddress address,
            String rule)
            throws IOException {
        record(caller, request, Decision.DENY, rule, verdict.reason(), address, List.of())
                .await();
        respond(out, 403, error("egress_denied", verdict.reason(), caller, request, rule));
    }

    /** Queues the decision's audit entry; the caller awaits it before the decision takes effect. */
    private AuditLog.Pending record(
            Caller caller,
            EgressRules.Request request,
            Decision decision,
            String rule,
            String reason,
            InetAddress address,
            List<String> secrets) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("host", request.host());
        details.put("port", request.port());
        details.put("method", request.method() == null ? "CONNECT" : request.method());
        if (request.path() != null) {
            details.put("path", AuditEvent.clip(request.path()));
        }
        if (address != null) {
            details.put("address", address.getHostAddress());
        }
        if (!secrets.isEmpty()) {
            details.put("secrets", String.join(",", secrets));
        }
        return audit.appendLater(AuditEvent.of(
                        clock.instant(),
                        AuditEvent.Actor.agent(caller.agent()),
                        decision == Decision.ALLOW ? AuditActions.EGRESS_ALLOW : AuditActions.EGRESS_DENY,
                        decision)
                .withAgent(caller.agent())
                .withSession(caller.session())
                .withRule(rule)
                .withReason(reason == null ? null : AuditEvent.clip(reason))
                .withDetails(details));
    }

    private static Map<String, Object> error(
            String code, String reason, Caller caller, EgressRules.Request request, String rule) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("agent", caller.agent().value());
        if (request != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("host", request.host());
            r.put("port", request.port());
            r.put("method", request.method() == null ? "CONNECT" : request.method());
            if (request.path() != null) {
                r.put("path", request.path());
            }
            body.put("request", r);
        }
        body.put("rule", rule);
        body.put("reason", reason);
        if (code.equals("egress_denied")) {
            body.put(
                    "how_to_allow",
                    "an operator can add an egress.allow rule for this host to agents/"
                            + caller.agent().value()
                            + "/policy.yaml (docs/egress.md); deny rules win over allow rules");
        }
        return body;
    }

    private static void respond(OutputStream out, int status, Map<String, Object> body) throws IOException {
        byte[] json = (JSON.writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reasonPhrase(status) + "\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + json.length + "\r\n"
                + "X-Cordon-Egress: " + (status == 403 ? "denied" : "error") + "\r\n"
                + "Connection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.flush();
    }

    private static String reasonPhrase(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            default -> "Error";
        };
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing
        }
    }
}
