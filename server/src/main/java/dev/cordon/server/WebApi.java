package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.budget.Budget;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.session.SessionManager;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/**
 * The {@code /api/v1} endpoints (docs/dashboard.md, {@code resources/web/openapi.yaml}): a thin
 * translation of the control socket's operations ({@link AgentControl}, {@link ApprovalControl},
 * {@link SessionManager#kill}, the session listing, the audit log, the ledger) for a web user, with
 * the same role checks as every channel ({@link Access}: owner, admin, member; docs/access.md) and
 * the same audit entries, written by the operations themselves. Thread-safe.
 */
final class WebApi {
    /** One route: what {@link WebServer} registers and the OpenAPI test checks. */
    record Route(String method, String path, Handler handler) {}

    @FunctionalInterface
    interface Handler {
        void handle(Context ctx, WebAuth.Caller caller) throws Exception;
    }

    static final String PREFIX = "/api/v1";
    private static final int MAX_TEXT = 64 * 1024;
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    /** How many of a web chat's newest outbound messages are searched for files to list with its history. */
    private static final int SENT_FILES_SHOWN = 200;

    private final Path home;
    private final Map<String, String> env;
    private final Store store;
    private final AuditLog audit;
    private final Access access;
    private final AgentControl agents;
    private final ApprovalControl approvalControl;
    private final ApprovalService approvals;
    private final SessionManager sessions;
    private final Supplier<ControlEvent.SessionListing> sessionListing;
    private final WebChannel web;
    private final WebEvents events;
    private final Clock clock;
    private final WebRoles roles;
    private final WebAgentFiles files;
    /** Each agent's spending limits, from its policy in force. */
    private final Function<AgentName, Budget> budgets;

    WebApi(
            Path home,
            Map<String, String> env,
            Store store,
            AuditLog audit,
            Access access,
            AgentControl agents,
            ApprovalControl approvalControl,
            ApprovalService approvals,
            SessionManager sessions,
            Supplier<ControlEvent.SessionListing> sessionListing,
            WebChannel web,
            WebEvents events,
            Clock clock,
            WebRoles roles,
            WebAgentFiles files,
            Function<AgentName, Budget> budgets) {
        this.home = home;
        this.env = Map.copyOf(env);
        this.store = store;
        this.audit = audit;
        this.access = access;
        this.agents = agents;
        this.approvalControl = approvalControl;
        this.approvals = approvals;
        this.sessions = sessions;
        this.sessionListing = sessionListing;
        this.web = web;
        this.events = events;
        this.clock = clock;
        this.roles = roles;
        this.files = files;
        this.budgets = budgets;
    }

    List<Route> routes() {
        return List.of(
                new Route("GET", PREFIX + "/me", this::me),
                new Route("GET", PREFIX + "/agents", this::agentList),
                new Route("GET", PREFIX + "/agents/{agent}", this::agentShow),
                new Route("GET", PREFIX + "/agents/{agent}/messages", this::chatRead),
                new Route("POST", PREFIX + "/agents/{agent}/messages", this::chatSend),
                new Route("GET", PREFIX + "/sessions", this::sessionList),
                new Route("GET", PREFIX + "/sessions/{session}/transcript", this::sessionTranscript),
                new Route("POST", PREFIX + "/sessions/{session}/stop", this::sessionStop),
                new Route("GET", PREFIX + "/approvals", this::approvalList),
                new Route("GET", PREFIX + "/approvals/{approval}", this::approvalShow),
                new Route("POST", PREFIX + "/approvals/{approval}/decision", this::approvalDecide),
                new Route("GET", PREFIX + "/audit", this::auditRead),
                new Route("GET", PREFIX + "/audit/verify", this::auditVerify),
                new Route("GET", PREFIX + "/usage", this::usage),
                new Route("GET", PREFIX + "/events", this::stream));
    }

    boolean globalAdmin(UserId user) {
        return roles.globalAdmin(user);
    }

    static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(WebJson.write(body));
    }

    // ---- handlers

    private void me(Context ctx, WebAuth.Caller caller) {
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("user", caller.user().toString());
        me.put("globalAdmin", globalAdmin(caller.user()));
        me.put("csrfToken", caller.csrf());
        Map<String, String> byAgent = new LinkedHashMap<>();
        for (Agent a : store.agents()) {
            access.role(caller.user(), a.name())
                    .ifPresent(r -> byAgent.put(a.name().value(), r.label()));
        }
        me.put("roles", byAgent);
        json(ctx, 200, me);
    }

    private void agentList(Context ctx, WebAuth.Caller caller) {
        ControlEvent.AgentListing all = agents.list(sessions.live().stream()
                .map(SessionManager.LiveSession::session)
                .toList());
        json(
                ctx,
                200,
                Map.of(
                        "agents",
                        all.agents().stream()
                                .filter(a -> access.role(caller.user(), new AgentName(a.name()))
                                        .isPresent())
                                .toList()));
    }

    private void agentShow(Context ctx, WebAuth.Caller caller) throws IOException {
        Agent agent = roles.agent(ctx, caller.user());
        ControlEvent.AgentRow row =
                agents
                        .list(sessions.live().stream()
                                .map(SessionManager.LiveSession::session)
                                .toList())
                        .agents()
                        .stream()
                        .filter(a -> a.name().equals(agent.name().value()))
                        .findFirst()
                        .orElseThrow(() -> new WebException(404, "agent " + agent.name() + " has no folder"));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("agent", row);
        body.put("role", access.role(caller.user(), agent.name()).orElseThrow().label());
        // Members read the instructions and memory (the agent would tell them anyway); the policy and
        // sessions are for its admins, and so is editing (docs/dashboard.md).
        boolean admin = access.mayAdminister(caller.user(), agent.name());
        body.put("policyExplain", admin ? explain(agent.name()) : null);
        Map<String, Boolean> editable = new LinkedHashMap<>();
        for (WebAgentFiles.Kind kind : WebAgentFiles.Kind.values()) {
            WebAgentFiles.Shown shown = files.read(agent.name(), kind);
            body.put(kind.field, shown.text());
            editable.put(kind.field, admin && shown.editable());
        }
        body.put("editable", editable);
        body.put(
                "sessions",
                admin
                        ? sessionListing.get().sessions().stream()
                                .filter(r -> r.agent().equals(agent.name().value()))
                                .toList()
                        : List.of());
        json(ctx, 200, body);
    }

    private String explain(AgentName name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        PolicyCommand.run(home, env, List.of("explain", name.value()), print, print);
        return out.toString(StandardCharsets.UTF_8);
    }

    private void chatSend(Context ctx, WebAuth.Caller caller) {
        Agent agent = roles.agent(ctx, caller.user());
        JsonNode body = WebJson.object(ctx.body());
        String text = WebJson.text(body, "text", "");
        List<String> uploads = uploads(body);
        if ((text.isBlank() && uploads.isEmpty()) || text.length() > MAX_TEXT) {
            throw new WebException(
                    400,
                    "field 'text' must be a non-blank message of at most " + MAX_TEXT
                            + " characters (it may be empty when 'files' names uploads)");
        }
        String clientId = WebJson.text(body, "clientMessageId", null);
        if (clientId == null || !clientId.matches("[A-Za-z0-9_.:-]{1,128}")) {
            throw new WebException(
                    400,
                    "field 'clientMessageId' must be 1-128 of A-Za-z0-9_.:- (unique per message; a retry reuses it)");
        }
        Chat chat = store.ensureChat(WebChannel.NAME, WebChannel.chatId(agent.name(), caller.user()));
        store.wire(chat.id(), agent.id());
        InboundResult result = web.say(caller.user(), agent.name(), clientId, text, uploads);
        switch (result) {
            case InboundResult.Accepted a ->
                json(ctx, 202, Map.of("inboundId", a.inboundId(), "duplicate", a.duplicate()));
            case InboundResult.Dropped d -> throw new WebException(403, "message not accepted: " + d.reason());
            case InboundResult.Held h -> json(ctx, 202, Map.of("held", h.reason()));
            case InboundResult.Answered a -> json(ctx, 200, Map.of("answer", a.reply()));
        }
    }

    /** The upload ids of a message's {@code files} field (POST .../files answered each); none if absent. */
    private static List<String> uploads(JsonNode body) {
        JsonNode files = body.get("files");
        if (files == null || files.isNull()) {
            return List.of();
        }
        if (!files.isArray() || files.size() > WebChatFiles.MAX_WAITING) {
            throw new WebException(
                    400, "field 'files' must be a list of at most " + WebChatFiles.MAX_WAITING + " upload ids");
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode id : files) {
            if (!id.isString() || !id.asString().matches("[0-9a-f]{32}")) {
                throw new WebException(400, "field 'files' must hold the upload ids that POST .../files answered");
            }
            ids.add(id.asString());
        }
        return ids;
    }

    private void chatRead(Context ctx, WebAuth.Caller caller) {
        Agent agent = roles.agent(ctx, caller.user());
        String platformChatId = WebChannel.chatId(agent.name(), caller.user());
        // Reading must not create the chat: find it, if the user ever wrote.
        List<Map<String, Object>> messages = new ArrayList<>();
        long through = 0;
        List<Map<String, Object>> files = List.of();
        Optional<Chat> found = store.findChat(WebChannel.NAME, platformChatId);
        if (found.isPresent()) {
            Chat chat = found.get();
            Store.ChatHistory history = store.chatHistory(chat.id());
            history.transcript().forEach(m -> messages.add(message(m)));
            // Messages a turn is still working on (waiting for an approval, say) are shown too.
            for (Inbound waiting : history.unfinished()) {
                messages.add(Map.of("role", "user", "text", waiting.text(), "tools", List.of()));
            }
            through = history.lastOutbound();
            files = sentFiles(chat, through);
        }
        // The page drops live replies up to `through`: the history already holds them.
        json(ctx, 200, Map.of("agent", agent.name().value(), "messages", messages, "through", through, "files", files));
    }

    /** The newest files the agent sent in a web chat (up to {@code through}), oldest first, as links. */
    private List<Map<String, Object>> sentFiles(Chat chat, long through) {
        List<Map<String, Object>> files = new ArrayList<>();
        for (Outbound o : store.recentOutbound(chat.id(), SENT_FILES_SHOWN)) {
            if (o.id().value() <= through) {
                store.outboundFile(o.id())
                        .ifPresent(f -> files.add(Map.of(
                                "outbound", o.id().value(),
                                "name", f.name(),
                                "size", f.size(),
                                "mediaType", f.mediaType(),
                                "url", WebChatFiles.link(o.id().value()))));
            }
        }
        return files;
    }

    /**
     * A transcript message as the dashboard shows it: role, text, tool calls and results. A
     * compaction's summary and a {@code /new}'s fresh start (an empty summary) say what they are.
     */
    static Map<String, Object> message(ChatMessage m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", m.role().name().toLowerCase(Locale.ROOT));
        String text = m.text();
        List<Map<String, Object>> tools = new ArrayList<>();
        for (Part p : m.parts()) {
            switch (p) {
                case Part.ToolUse u ->
                    tools.add(Map.of("tool", u.name(), "input", u.input().toString()));
                case Part.ToolResult r -> tools.add(Map.of("result", r.content(), "isError", r.isError()));
                case Part.Text t -> {}
                case Part.Summary s ->
                    text = s.text().isEmpty()
                            ? "(a new conversation starts here: the agent sees nothing above)"
                            : "(the agent's summary of the conversation above, which it sees in its place) " + s.text();
            }
        }
        out.put("text", text);
        out.put("tools", tools);
        return out;
    }

    private void sessionList(Context ctx, WebAuth.Caller caller) {
        ControlEvent.SessionListing all = sessionListing.get();
        json(
                ctx,
                200,
                Map.of(
                        "sessions",
                        all.sessions().stream()
                                .filter(r -> access.mayAdminister(caller.user(), new AgentName(r.agent())))
                                .toList(),
                        // The replicas (several daemons on PostgreSQL) concern every agent: global admins only.
                        "replicas",
                        globalAdmin(caller.user()) ? all.replicas() : List.of()));
    }

    private Session session(Context ctx, UserId user) {
        long id = WebRoles.number(ctx, "session");
        Session session =
                store.session(new SessionId(id)).orElseThrow(() -> new WebException(404, "there is no session " + id));
        AgentName agent = store.agent(session.agentId()).orElseThrow().name();
        roles.requireAdmin(user, agent);
        return session;
    }

    private void sessionTranscript(Context ctx, WebAuth.Caller caller) {
        Session session = session(ctx, caller.user());
        json(
                ctx,
                200,
                Map.of(
                        "session",
                        session.id().value(),
                        "messages",
                        store.transcript(session.id()).stream()
                                .map(WebApi::message)
                                .toList()));
    }

    private void sessionStop(Context ctx, WebAuth.Caller caller) {
        Session session = session(ctx, caller.user());
        if (sessions.kill(session.id(), caller.user().toString())) {
            json(
                    ctx,
                    200,
                    Map.of(
                            "message",
                            "Stopped the sandbox of session " + session.id().value()
                                    + "; a turn in progress fails, and its next message starts a fresh one."));
        } else {
            throw new WebException(409, "session " + session.id().value() + " has no live sandbox");
        }
    }

    private void approvalList(Context ctx, WebAuth.Caller caller) {
        json(
                ctx,
                200,
                Map.of(
                        "approvals",
                        approvals.pending().stream()
                                .filter(a -> access.mayApprove(caller.user(), a.agentName()))
                                .map(approvalControl::view)
                                .toList()));
    }

    private Approval approval(Context ctx, UserId user) {
        long id = WebRoles.number(ctx, "approval");
        Approval a = approvals
                .find(new ApprovalId(id))
                .orElseThrow(() -> new WebException(404, "there is no approval #" + id));
        if (!access.mayApprove(user, a.agentName())) {
            throw new WebException(
                    403,
                    user + " may not see or answer approvals of agent " + a.agentName()
                            + ": only its owners and admins may (docs/access.md)");
        }
        return a;
    }

    private void approvalShow(Context ctx, WebAuth.Caller caller) {
        json(ctx, 200, approvalControl.view(approval(ctx, caller.user())));
    }

    private void approvalDecide(Context ctx, WebAuth.Caller caller) {
        Approval a = approval(ctx, caller.user());
        JsonNode body = WebJson.object(ctx.body());
        String decision = WebJson.text(body, "decision", null);
        String reason = WebJson.text(body, "reason", null);
        ControlEvent answer;
        if ("deny".equals(decision)) {
            answer = approvalControl.deny(new ControlRequest.ApprovalDeny(a.id().value(), reason), caller.user());
        } else if (decision != null && Set.of("once", "session", "always").contains(decision)) {
            answer = approvalControl.approve(
                    new ControlRequest.ApprovalApprove(a.id().value(), decision, 0, 0, reason), caller.user());
        } else {
            throw new WebException(400, "field 'decision' must be once, session, always or deny");
        }
        switch (answer) {
            case ControlEvent.ApprovalDecided d -> json(ctx, 200, d);
            case ControlEvent.ApprovalProblem p ->
                json(ctx, p.problem().equals("not_approver") ? 403 : p.problem().equals("invalid") ? 400 : 409, p);
            default -> throw new IllegalStateException("unexpected answer " + answer);
        }
    }

    private void auditRead(Context ctx, WebAuth.Caller caller) {
        long after = WebRoles.query(ctx, "after", 0, 0, Integer.MAX_VALUE);
        int limit = WebRoles.query(ctx, "limit", 100, 1, 1_000);
        String action = ctx.queryParam("action");
        String agent = ctx.queryParam("agent");
        String decision = ctx.queryParam("decision");
        boolean all = globalAdmin(caller.user());
        if (!all && agent == null) {
            throw new WebException(
                    403,
                    caller.user() + " may read the audit entries of agents it administers only:"
                            + " add ?agent=NAME (owners and global admins see everything)");
        }
        if (agent != null) {
            roles.requireAdmin(caller.user(), new AgentName(agent));
        }
        long head = AuditScan.head(audit);
        List<Map<String, Object>> newest = AuditScan.newest(
                        audit,
                        head,
                        after,
                        e -> (action == null || e.event().action().startsWith(action))
                                && (agent == null
                                        || (e.event().agent() != null
                                                && e.event().agent().value().equals(agent)))
                                && (decision == null
                                        || e.event().decision().label().equals(decision)),
                        limit)
                .stream()
                .map(WebJson::entry)
                .toList();
        json(ctx, 200, Map.of("entries", newest, "next", head));
    }

    private void auditVerify(Context ctx, WebAuth.Caller caller) {
        if (!globalAdmin(caller.user())) {
            throw new WebException(
                    403, caller.user() + " may not verify the audit chain: owners and global admins may");
        }
        var result = audit.verify();
        json(ctx, 200, Map.of("ok", result.ok(), "summary", result.summary()));
    }

    private void usage(Context ctx, WebAuth.Caller caller) {
        int days = WebRoles.query(ctx, "days", 7, 1, 366);
        String only = ctx.queryParam("agent");
        if (only != null) {
            roles.requireAdmin(caller.user(), new AgentName(only));
        }
        LocalDate from = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).minusDays(days - 1L);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Ledger.Total t : store.ledger().totals(from, Ledger.Grouping.AGENT)) {
            AgentName agent;
            try {
                agent = new AgentName(t.key());
            } catch (IllegalArgumentException e) {
                continue;
            }
            if ((only == null || only.equals(t.key())) && access.mayAdminister(caller.user(), agent)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("day", t.day().toString());
                row.put("agent", t.key());
                row.put("calls", t.calls());
                row.put("inputTokens", t.usage().inputTokens());
                row.put("outputTokens", t.usage().outputTokens());
                row.put("costUsd", t.costMicros() / 1_000_000.0);
                row.put("unpricedCalls", t.unpriced());
                long daily = budgets.apply(agent).dailyMicros();
                row.put("dailyBudgetUsd", daily == 0 ? null : daily / 1_000_000.0);
                rows.add(row);
            }
        }
        json(ctx, 200, Map.of("days", days, "usage", rows));
    }

    /**
     * Server-Sent Events on the request's own virtual thread until the client goes away: the
     * heartbeat comment is how a gone client is noticed.
     */
    private void stream(Context ctx, WebAuth.Caller caller) throws IOException, InterruptedException {
        ctx.res().setStatus(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("UTF-8");
        ctx.res().setHeader("Cache-Control", "no-store");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        OutputStream out = ctx.res().getOutputStream();
        try (WebEvents.Subscription sub = events.subscribe(caller.user())) {
            write(out, ": connected\n\n");
            while (!sub.dropped()) {
                WebEvents.Event e = sub.next(HEARTBEAT);
                write(
                        out,
                        e == null
                                ? ": keep-alive\n\n"
                                : "event: " + e.type() + "\ndata: " + WebJson.write(e.data()) + "\n\n");
            }
        } catch (IOException gone) {
            // the client closed the stream
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
