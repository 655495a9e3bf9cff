package dev.cordon.store;

import static java.util.Objects.requireNonNull;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.InboundState;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Domain.Wiring;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.HeldMessage;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.RoleGrant;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.approval.Approval;
import dev.cordon.core.approval.ApprovalId;
import dev.cordon.core.audit.AuditStorage;
import dev.cordon.core.budget.Ledger;
import dev.cordon.core.store.Replicas;
import dev.cordon.core.store.Store;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.core.task.Tasks;
import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Wire;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.PreparedBatch;
import tools.jackson.core.type.TypeReference;

/**
 * {@link Store} over SQL that SQLite and PostgreSQL share; where they differ, {@link Dialect} says
 * how. Each method is one transaction of a {@link Database}: writes behave as if serialized and are
 * durable on return, reads see the last commit.
 *
 * <p>Beyond the port's contract: a call that names a row that does not exist (an unknown agent,
 * chat, session, inbound or outbound id) throws {@link IllegalArgumentException} and changes
 * nothing; calls after {@link #close()} throw {@link IllegalStateException}.
 */
final class JdbcStore implements Store {
    private static final String AGENT_COLUMNS = "id, name, created_at";
    private static final String CHAT_COLUMNS = "id, channel, platform_chat_id";
    private static final String SESSION_COLUMNS = "id, agent_id, chat_id, thread_key, created_at";
    private static final String INBOUND_COLUMNS =
            "id, session_id, chat_id, platform_message_id, sender_id, text, state, received_at";
    private static final String OUTBOUND_COLUMNS = "id, chat_id, session_id, in_reply_to, text, failed,"
            + " idempotency_key, created_at, delivered_at, platform_message_id, options";

    private static final String APPROVAL_COLUMNS = "a.id, a.agent_id, g.name AS agent_name, a.session_id, a.chat_id,"
            + " a.kind, a.subject, a.summary, a.payload, a.requested_at, a.expires_at, a.status, a.decided_by,"
            + " a.decided_at, a.reason, a.scope, a.max_uses, a.uses, a.grant_expires_at";
    private static final String APPROVALS_FROM = " FROM approvals a JOIN agents g ON g.id = a.agent_id";

    private static final TypeReference<Map<String, String>> PAYLOAD = new TypeReference<>() {};

    private static final RowMapper<Approval> APPROVAL = (rs, ctx) -> {
        String scope = rs.getString("scope");
        return new Approval(
                new ApprovalId(rs.getLong("id")),
                new AgentId(rs.getLong("agent_id")),
                new AgentName(rs.getString("agent_name")),
                new SessionId(rs.getLong("session_id")),
                new ChatId(rs.getLong("chat_id")),
                rs.getString("kind"),
                rs.getString("subject"),
                rs.getString("summary"),
                Wire.mapper().readValue(rs.getString("payload"), PAYLOAD),
                instant(rs, "requested_at"),
                instant(rs, "expires_at"),
                Approval.Status.valueOf(rs.getString("status").toUpperCase(Locale.ROOT)),
                rs.getString("decided_by"),
                instant(rs, "decided_at"),
                rs.getString("reason"),
                scope == null ? null : Approval.Scope.valueOf(scope.toUpperCase(Locale.ROOT)),
                rs.getInt("max_uses"),
                rs.getInt("uses"),
                instant(rs, "grant_expires_at"));
    };

    // The hot queries, named so a test can check their plans. The partial indexes they rely on are
    // used only when the query repeats the index's WHERE literally ('PENDING', not a parameter).

    static String claimPending(Dialect d) {
        return """
                UPDATE inbound SET state = 'CLAIMED', claimed_at = :now, claimed_by = :replica
                WHERE id IN (SELECT id FROM inbound
                             WHERE session_id = :session AND state = 'PENDING'
                             ORDER BY id LIMIT :max%s)
                RETURNING\s""".formatted(d.skipLocked()) + INBOUND_COLUMNS;
    }

    static final String CLAIM_INBOUND = "UPDATE inbound SET state = 'CLAIMED', claimed_at = :now, claimed_by = :replica"
            + " WHERE id = :id AND state = 'PENDING' RETURNING " + INBOUND_COLUMNS;

    static final String SESSIONS_WITH_PENDING =
            "SELECT DISTINCT session_id FROM inbound WHERE state = 'PENDING' ORDER BY session_id";

    static final String RELEASE_CLAIMS = """
            UPDATE inbound SET state = 'PENDING', claimed_at = NULL, claimed_by = NULL
            WHERE state = 'CLAIMED' AND (claimed_by = :replica OR claimed_by IS NULL)""";

    static String undelivered(Dialect d) {
        return "SELECT " + OUTBOUND_COLUMNS + " FROM " + d.from("outbound", "outbound_undelivered")
                + " WHERE delivered_at IS NULL AND given_up_at IS NULL ORDER BY id";
    }

    static String undeliveredByChat(Dialect d) {
        return "SELECT " + OUTBOUND_COLUMNS + " FROM " + d.from("outbound", "outbound_undelivered")
                + " WHERE chat_id = :chat AND delivered_at IS NULL AND given_up_at IS NULL ORDER BY id";
    }

    static String pendingApprovals(Dialect d) {
        return "SELECT " + APPROVAL_COLUMNS + " FROM " + d.from("approvals a", "approvals_pending")
                + " JOIN agents g ON g.id = a.agent_id WHERE a.status = 'pending' ORDER BY a.id";
    }

    static String usableGrant(Dialect d) {
        return """
                SELECT id FROM %s
                WHERE status = 'granted' AND agent_id = :agent AND kind = :kind AND subject = :subject
                  AND (scope = 'always' OR session_id = :session)
                  AND (max_uses IS NULL OR uses < max_uses)
                  AND (grant_expires_at IS NULL OR grant_expires_at > :now)
                ORDER BY id LIMIT 1""".formatted(d.from("approvals", "approvals_granted"));
    }

    private static final RowMapper<Agent> AGENT = (rs, ctx) ->
            new Agent(new AgentId(rs.getLong("id")), new AgentName(rs.getString("name")), instant(rs, "created_at"));

    private static final RowMapper<Chat> CHAT = (rs, ctx) ->
            new Chat(new ChatId(rs.getLong("id")), rs.getString("channel"), rs.getString("platform_chat_id"));

    private static final RowMapper<Session> SESSION = (rs, ctx) -> new Session(
            new SessionId(rs.getLong("id")),
            new AgentId(rs.getLong("agent_id")),
            new ChatId(rs.getLong("chat_id")),
            rs.getString("thread_key"),
            instant(rs, "created_at"));

    private static final RowMapper<Inbound> INBOUND = (rs, ctx) -> new Inbound(
            new InboundId(rs.getLong("id")),
            new SessionId(rs.getLong("session_id")),
            new ChatId(rs.getLong("chat_id")),
            rs.getString("platform_message_id"),
            rs.getString("sender_id"),
            rs.getString("text"),
            InboundState.valueOf(rs.getString("state")),
            instant(rs, "received_at"));

    private static final RowMapper<Outbound> OUTBOUND = (rs, ctx) -> {
        long inReplyTo = rs.getLong("in_reply_to");
        InboundId replyTo = rs.wasNull() ? null : new InboundId(inReplyTo);
        return new Outbound(
                new OutboundId(rs.getLong("id")),
                new ChatId(rs.getLong("chat_id")),
                new SessionId(rs.getLong("session_id")),
                replyTo,
                rs.getString("text"),
                rs.getBoolean("failed"),
                rs.getString("idempotency_key"),
                instant(rs, "created_at"),
                instant(rs, "delivered_at"),
                rs.getString("platform_message_id"),
                options(rs.getString("options")));
    };

    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};

    /** A message's options as stored: a JSON array of strings, NULL for none (migration V8). */
    private static List<String> options(String json) {
        return json == null ? List.of() : Wire.mapper().readValue(json, STRINGS);
    }

    private final Database db;
    private final Clock clock;
    private final String claimPending;
    private final String undelivered;
    private final String undeliveredByChat;
    private final String pendingApprovals;
    private final String usableGrant;
    private final JdbcAuditStorage audit;
    private final JdbcLedger ledger;
    private final JdbcTasks tasks;
    private final JdbcReplicas replicas;

    /** @param replica the replica this store claims for (docs/store.md, "Several replicas") */
    JdbcStore(Database db, Clock clock, String replica) {
        this.db = db;
        this.clock = clock;
        Dialect d = db.dialect();
        this.claimPending = claimPending(d);
        this.undelivered = undelivered(d);
        this.undeliveredByChat = undeliveredByChat(d);
        this.pendingApprovals = pendingApprovals(d);
        this.usableGrant = usableGrant(d);
        this.audit = new JdbcAuditStorage(db);
        this.ledger = new JdbcLedger(db);
        this.tasks = new JdbcTasks(db, clock);
        this.replicas = new JdbcReplicas(db, clock, replica);
    }

    /** For {@link StoreCopy}. */
    Database database() {
        return db;
    }

    @Override
    public AuditStorage audit() {
        return audit;
    }

    @Override
    public Ledger ledger() {
        return ledger;
    }

    @Override
    public Tasks tasks() {
        return tasks;
    }

    @Override
    public Replicas replicas() {
        return replicas;
    }

    // ---- agents, chats, wirings, sessions

    @Override
    public Agent ensureAgent(AgentName name) {
        requireNonNull(name, "name");
        return db.withWriteTransaction("ensureAgent", h -> {
            h.createUpdate("INSERT INTO agents (name, created_at) VALUES (:name, :now)"
                            + " ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING")
                    .bind("name", name.value())
                    .bind("now", now())
                    .execute();
            return h.createQuery("SELECT " + AGENT_COLUMNS + " FROM agents WHERE name = :name AND deleted_at IS NULL")
                    .bind("name", name.value())
                    .map(AGENT)
                    .one();
        });
    }

    @Override
    public Optional<Agent> agent(AgentId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "agent",
                h -> h.createQuery("SELECT " + AGENT_COLUMNS + " FROM agents WHERE id = :id")
                        .bind("id", id.value())
                        .map(AGENT)
                        .findOne());
    }

    @Override
    public Optional<Agent> agentByName(AgentName name) {
        requireNonNull(name, "name");
        return db.withReadTransaction(
                "agentByName",
                h -> h.createQuery("SELECT " + AGENT_COLUMNS + " FROM agents WHERE name = :name AND deleted_at IS NULL")
                        .bind("name", name.value())
                        .map(AGENT)
                        .findOne());
    }

    @Override
    public List<Agent> agents() {
        return db.withReadTransaction(
                "agents",
                h -> h.createQuery("SELECT " + AGENT_COLUMNS + " FROM agents WHERE deleted_at IS NULL ORDER BY id")
                        .map(AGENT)
                        .list());
    }

    @Override
    public Optional<AgentDeleted> deleteAgent(AgentId id) {
        requireNonNull(id, "id");
        return db.withWriteTransaction("deleteAgent", h -> {
            long now = now();
            int marked = h.createUpdate("UPDATE agents SET deleted_at = :now WHERE id = :id AND deleted_at IS NULL")
                    .bind("now", now)
                    .bind("id", id.value())
                    .execute();
            if (marked == 0) {
                return Optional.<AgentDeleted>empty();
            }
            int unwired = h.createUpdate("DELETE FROM wirings WHERE agent_id = :id")
                    .bind("id", id.value())
                    .execute();
            // Kept, never answered: a sweep must not wake a session whose agent is gone.
            int closed = h.createUpdate("UPDATE inbound SET state = 'DONE', done_at = :now"
                            + " WHERE state <> 'DONE' AND session_id IN (SELECT id FROM sessions WHERE agent_id = :id)")
                    .bind("now", now)
                    .bind("id", id.value())
                    .execute();
            int cancelled = h.createUpdate("UPDATE tasks SET state = 'CANCELLED', next_run_at = NULL"
                            + " WHERE agent_id = :id AND state = 'ACTIVE'")
                    .bind("id", id.value())
                    .execute();
            return Optional.of(new AgentDeleted(unwired, closed, cancelled));
        });
    }

    @Override
    public Chat ensureChat(String channel, String platformChatId) {
        requireNonNull(channel, "channel");
        requireNonNull(platformChatId, "platformChatId");
        return db.withWriteTransaction("ensureChat", h -> {
            h.createUpdate("""
                            INSERT INTO chats (channel, platform_chat_id, created_at) VALUES (:channel, :chat, :now)
                            ON CONFLICT (channel, platform_chat_id) DO NOTHING""")
                    .bind("channel", channel)
                    .bind("chat", platformChatId)
                    .bind("now", now())
                    .execute();
            return h.createQuery("SELECT " + CHAT_COLUMNS
                            + " FROM chats WHERE channel = :channel AND platform_chat_id = :chat")
                    .bind("channel", channel)
                    .bind("chat", platformChatId)
                    .map(CHAT)
                    .one();
        });
    }

    @Override
    public Optional<Chat> chat(ChatId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "chat",
                h -> h.createQuery("SELECT " + CHAT_COLUMNS + " FROM chats WHERE id = :id")
                        .bind("id", id.value())
                        .map(CHAT)
                        .findOne());
    }

    @Override
    public Optional<Chat> findChat(String channel, String platformChatId) {
        requireNonNull(channel, "channel");
        requireNonNull(platformChatId, "platformChatId");
        return db.withReadTransaction(
                "findChat",
                h -> h.createQuery("SELECT " + CHAT_COLUMNS
                                + " FROM chats WHERE channel = :channel AND platform_chat_id = :chat")
                        .bind("channel", channel)
                        .bind("chat", platformChatId)
                        .map(CHAT)
                        .findOne());
    }

    @Override
    public void wire(ChatId chat, AgentId agent) {
        requireNonNull(chat, "chat");
        requireNonNull(agent, "agent");
        db.withWriteTransaction(
                "wire",
                h -> h.createUpdate("""
                                INSERT INTO wirings (chat_id, agent_id, updated_at) VALUES (:chat, :agent, :now)
                                ON CONFLICT (chat_id) DO UPDATE SET agent_id = excluded.agent_id,
                                                                    updated_at = excluded.updated_at""")
                        .bind("chat", chat.value())
                        .bind("agent", agent.value())
                        .bind("now", now())
                        .execute());
    }

    @Override
    public Optional<Wiring> wiring(ChatId chat) {
        requireNonNull(chat, "chat");
        return db.withReadTransaction(
                "wiring",
                h -> h.createQuery("SELECT chat_id, agent_id FROM wirings WHERE chat_id = :chat")
                        .bind("chat", chat.value())
                        .map((rs, ctx) ->
                                new Wiring(new ChatId(rs.getLong("chat_id")), new AgentId(rs.getLong("agent_id"))))
                        .findOne());
    }

    @Override
    public Session ensureSession(AgentId agent, ChatId chat, String threadKey) {
        requireNonNull(agent, "agent");
        requireNonNull(chat, "chat");
        requireNonNull(threadKey, "threadKey");
        return db.withWriteTransaction("ensureSession", h -> {
            h.createUpdate("""
                            INSERT INTO sessions (agent_id, chat_id, thread_key, created_at)
                            VALUES (:agent, :chat, :thread, :now)
                            ON CONFLICT (agent_id, chat_id, thread_key) DO NOTHING""")
                    .bind("agent", agent.value())
                    .bind("chat", chat.value())
                    .bind("thread", threadKey)
                    .bind("now", now())
                    .execute();
            return h.createQuery("SELECT " + SESSION_COLUMNS
                            + " FROM sessions WHERE agent_id = :agent AND chat_id = :chat AND thread_key = :thread")
                    .bind("agent", agent.value())
                    .bind("chat", chat.value())
                    .bind("thread", threadKey)
                    .map(SESSION)
                    .one();
        });
    }

    @Override
    public Optional<Session> session(SessionId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "session",
                h -> h.createQuery("SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id = :id")
                        .bind("id", id.value())
                        .map(SESSION)
                        .findOne());
    }

    @Override
    public List<Session> sessions() {
        return db.withReadTransaction(
                "sessions",
                h -> h.createQuery("SELECT " + SESSION_COLUMNS + " FROM sessions ORDER BY id")
                        .map(SESSION)
                        .list());
    }

    // ---- inbox

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code chat} is not the chat the message names (its
     *     channel and platform chat id), or the chat or session does not exist
     */
    @Override
    public InboundStored storeInbound(SessionId session, ChatId chat, NewInbound message) {
        return storeInbound(session, chat, message, List.of());
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException as {@link #storeInbound(SessionId, ChatId, NewInbound)} does
     */
    @Override
    public InboundStored storeInbound(SessionId session, ChatId chat, NewInbound message, List<ReceivedFile> files) {
        requireNonNull(session, "session");
        requireNonNull(chat, "chat");
        requireNonNull(message, "message");
        requireNonNull(files, "files");
        return db.withWriteTransaction("storeInbound", h -> {
            // The dedup key uses the message's channel: a chat id from elsewhere would file the
            // message under the wrong chat and let it dodge dedup.
            Chat stored = h.createQuery("SELECT " + CHAT_COLUMNS + " FROM chats WHERE id = :id")
                    .bind("id", chat.value())
                    .map(CHAT)
                    .findOne()
                    .orElseThrow(() -> new IllegalArgumentException("storeInbound: no chat " + chat.value()));
            if (!stored.channel().equals(message.channel())
                    || !stored.platformChatId().equals(message.platformChatId())) {
                throw new IllegalArgumentException("storeInbound: chat " + chat.value() + " is "
                        + stored.channel() + ":" + stored.platformChatId() + ", but the message is from "
                        + message.channel() + ":" + message.platformChatId());
            }
            Optional<Long> inserted = h.createQuery("""
                            INSERT INTO inbound (session_id, chat_id, channel, platform_message_id, sender_id, text,
                                                 state, received_at)
                            VALUES (:session, :chat, :channel, :message, :sender, :text, 'PENDING', :now)
                            ON CONFLICT (chat_id, platform_message_id) DO NOTHING
                            RETURNING id""")
                    .bind("session", session.value())
                    .bind("chat", chat.value())
                    .bind("channel", message.channel())
                    .bind("message", message.platformMessageId())
                    .bind("sender", message.senderId())
                    .bind("text", message.text())
                    .bind("now", now())
                    .mapTo(Long.class)
                    .findOne();
            if (inserted.isPresent()) {
                insertFiles(h, inserted.get(), files);
                return new InboundStored(new InboundId(inserted.get()), false);
            }
            long existing = h.createQuery(
                            "SELECT id FROM inbound WHERE chat_id = :chat AND platform_message_id = :message")
                    .bind("chat", chat.value())
                    .bind("message", message.platformMessageId())
                    .mapTo(Long.class)
                    .one();
            return new InboundStored(new InboundId(existing), true);
        });
    }

    private static void insertFiles(Handle h, long inbound, List<ReceivedFile> files) {
        if (files.isEmpty()) {
            return;
        }
        PreparedBatch batch = h.prepareBatch("""
                INSERT INTO inbound_files (inbound_id, position, name, media_type, size, sha256, problem)
                VALUES (:inbound, :position, :name, :mediaType, :size, :sha256, :problem)""");
        for (int i = 0; i < files.size(); i++) {
            ReceivedFile f = files.get(i);
            batch.bind("inbound", inbound)
                    .bind("position", i)
                    .bind("name", f.name())
                    .bind("mediaType", f.mediaType())
                    .bind("size", f.size())
                    .bind("sha256", f.sha256())
                    .bind("problem", f.problem())
                    .add();
        }
        batch.execute();
    }

    @Override
    public boolean hasInbound(ChatId chat, String platformMessageId) {
        requireNonNull(chat, "chat");
        requireNonNull(platformMessageId, "platformMessageId");
        return db.withReadTransaction(
                "hasInbound",
                h -> h.createQuery("SELECT id FROM inbound WHERE chat_id = :chat AND platform_message_id = :message")
                        .bind("chat", chat.value())
                        .bind("message", platformMessageId)
                        .mapTo(Long.class)
                        .findOne()
                        .isPresent());
    }

    @Override
    public Map<InboundId, List<ReceivedFile>> inboundFiles(List<InboundId> messages) {
        requireNonNull(messages, "messages");
        if (messages.isEmpty()) {
            return Map.of();
        }
        List<Map.Entry<InboundId, ReceivedFile>> rows = db.withReadTransaction(
                "inboundFiles",
                h -> h.createQuery("""
                                SELECT inbound_id, name, media_type, size, sha256, problem FROM inbound_files
                                WHERE inbound_id IN (<ids>) ORDER BY inbound_id, position""")
                        .bindList("ids", messages.stream().map(InboundId::value).toList())
                        .map((rs, ctx) -> Map.entry(
                                new InboundId(rs.getLong("inbound_id")),
                                new ReceivedFile(
                                        rs.getString("name"),
                                        rs.getString("media_type"),
                                        rs.getLong("size"),
                                        rs.getString("sha256"),
                                        rs.getString("problem"))))
                        .list());
        Map<InboundId, List<ReceivedFile>> files = new TreeMap<>(Comparator.comparingLong(InboundId::value));
        rows.forEach(
                e -> files.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue()));
        return files;
    }

    @Override
    public Optional<Inbound> inbound(InboundId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "inbound",
                h -> h.createQuery("SELECT " + INBOUND_COLUMNS + " FROM inbound WHERE id = :id")
                        .bind("id", id.value())
                        .map(INBOUND)
                        .findOne());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Concurrent callers, even for the same session and in other processes, never receive the
     * same message: the select and the update are one statement inside one serialized write
     * transaction, and on PostgreSQL the select locks the rows it picks and skips rows another
     * claimer holds ({@code FOR UPDATE SKIP LOCKED}).
     *
     * @throws IllegalArgumentException if {@code max} is negative
     */
    @Override
    public List<Inbound> claimPending(SessionId session, int max) {
        requireNonNull(session, "session");
        if (max < 0) {
            throw new IllegalArgumentException("claimPending: max must be >= 0, was " + max);
        }
        if (max == 0) {
            return List.of();
        }
        List<Inbound> claimed = db.withWriteTransaction(
                "claimPending",
                h -> h.createQuery(claimPending)
                        .bind("now", now())
                        .bind("replica", replicas.self())
                        .bind("session", session.value())
                        .bind("max", max)
                        .map(INBOUND)
                        .list());
        // RETURNING yields rows in no promised order.
        return claimed.stream()
                .sorted(Comparator.comparingLong(i -> i.id().value()))
                .toList();
    }

    @Override
    public Optional<Inbound> claimInbound(InboundId id) {
        requireNonNull(id, "id");
        return db.withWriteTransaction(
                "claimInbound",
                h -> h.createQuery(CLAIM_INBOUND)
                        .bind("now", now())
                        .bind("replica", replicas.self())
                        .bind("id", id.value())
                        .map(INBOUND)
                        .findOne());
    }

    @Override
    public Optional<Inbound> turnMessage(SessionId session) {
        requireNonNull(session, "session");
        return db.withReadTransaction(
                "turnMessage",
                h -> h.createQuery("SELECT " + INBOUND_COLUMNS
                                + " FROM inbound WHERE session_id = :session AND state = 'CLAIMED'"
                                + " ORDER BY id DESC LIMIT 1")
                        .bind("session", session.value())
                        .map(INBOUND)
                        .findOne());
    }

    @Override
    public List<SessionId> sessionsWithPending() {
        return db.withReadTransaction(
                "sessionsWithPending",
                h -> h.createQuery(SESSIONS_WITH_PENDING)
                        .map((rs, ctx) -> new SessionId(rs.getLong("session_id")))
                        .list());
    }

    @Override
    public int releaseClaims() {
        return db.withWriteTransaction(
                "releaseClaims",
                h -> h.createUpdate(RELEASE_CLAIMS)
                        .bind("replica", replicas.self())
                        .execute());
    }

    // ---- transcript

    @Override
    public void appendTranscript(SessionId session, List<ChatMessage> messages) {
        requireNonNull(session, "session");
        // Encode before taking the write lock: no reason to hold it while Jackson works.
        List<String> json = encode(messages);
        if (json.isEmpty()) {
            return;
        }
        db.withWriteTransaction("appendTranscript", h -> appendTranscript(h, session, json));
    }

    private static List<String> encode(List<ChatMessage> messages) {
        return messages.stream().map(m -> Wire.mapper().writeValueAsString(m)).toList();
    }

    private int[] appendTranscript(Handle h, SessionId session, List<String> json) {
        if (json.isEmpty()) {
            return new int[0];
        }
        long next = h.createQuery("SELECT COALESCE(MAX(seq) + 1, 0) FROM transcript WHERE session_id = :session")
                .bind("session", session.value())
                .mapTo(Long.class)
                .one();
        PreparedBatch batch = h.prepareBatch("""
                INSERT INTO transcript (session_id, seq, message, created_at)
                VALUES (:session, :seq, :message, :now)""");
        long now = now();
        for (String message : json) {
            batch.bind("session", session.value())
                    .bind("seq", next++)
                    .bind("message", message)
                    .bind("now", now)
                    .add();
        }
        return batch.execute();
    }

    @Override
    public List<ChatMessage> transcript(SessionId session) {
        requireNonNull(session, "session");
        return db.withReadTransaction(
                "transcript",
                h -> h.createQuery("SELECT message FROM transcript WHERE session_id = :session ORDER BY seq")
                        .bind("session", session.value())
                        .map((rs, ctx) -> Wire.mapper().readValue(rs.getString("message"), ChatMessage.class))
                        .list());
    }

    @Override
    public ChatHistory chatHistory(ChatId chat) {
        requireNonNull(chat, "chat");
        return db.withReadTransaction("chatHistory", h -> {
            List<ChatMessage> transcript = h.createQuery(
                            "SELECT t.message FROM transcript t JOIN sessions s ON s.id = t.session_id"
                                    + " WHERE s.chat_id = :chat ORDER BY s.id, t.seq")
                    .bind("chat", chat.value())
                    .map((rs, ctx) -> Wire.mapper().readValue(rs.getString("message"), ChatMessage.class))
                    .list();
            List<Inbound> unfinished = h.createQuery("SELECT " + INBOUND_COLUMNS
                            + " FROM inbound WHERE chat_id = :chat AND state <> 'DONE' ORDER BY id")
                    .bind("chat", chat.value())
                    .map(INBOUND)
                    .list();
            long last = h.createQuery("SELECT COALESCE(MAX(id), 0) FROM outbound WHERE chat_id = :chat")
                    .bind("chat", chat.value())
                    .mapTo(Long.class)
                    .one();
            return new ChatHistory(transcript, unfinished, last);
        });
    }

    // ---- outbox

    /**
     * {@inheritDoc}
     *
     * <p>A handled message that is already DONE stays DONE (its done time unchanged).
     *
     * @throws IllegalArgumentException if a handled message is not a message of {@code session}, or
     *     the reply names a chat or inbound message that does not exist; nothing changes then
     */
    @Override
    public Optional<OutboundId> completeTurn(
            SessionId session, List<InboundId> handled, List<ChatMessage> transcript, NewOutbound reply) {
        requireNonNull(session, "session");
        List<InboundId> done = List.copyOf(handled);
        List<String> json = encode(transcript);
        if (reply != null) {
            requireNonNull(reply.chat(), "reply.chat");
            requireNonNull(reply.text(), "reply.text");
            requireNonNull(reply.idempotencyKey(), "reply.idempotencyKey");
        }
        return db.withWriteTransaction("completeTurn", h -> completeTurn(h, session, done, json, reply));
    }

    private Optional<OutboundId> completeTurn(
            Handle h, SessionId session, List<InboundId> done, List<String> json, NewOutbound reply) {
        if (reply != null) {
            Optional<Long> existing = h.createQuery("SELECT id FROM outbound WHERE idempotency_key = :key")
                    .bind("key", reply.idempotencyKey())
                    .mapTo(Long.class)
                    .findOne();
            if (existing.isPresent()) {
                // This turn was completed before (a redelivered completion): store nothing twice.
                return Optional.of(new OutboundId(existing.get()));
            }
        }
        long now = now();
        appendTranscript(h, session, json);
        for (InboundId id : done) {
            int updated = h.createUpdate("""
                                UPDATE inbound SET state = 'DONE', done_at = COALESCE(done_at, :now)
                                WHERE id = :id AND session_id = :session""")
                    .bind("now", now)
                    .bind("id", id.value())
                    .bind("session", session.value())
                    .execute();
            if (updated == 0) {
                throw new IllegalArgumentException(
                        "completeTurn: inbound " + id.value() + " is not a message of session " + session.value());
            }
        }
        if (reply == null) {
            return Optional.<OutboundId>empty();
        }
        Optional<Long> inserted = h.createQuery("""
                            INSERT INTO outbound (chat_id, session_id, in_reply_to, text, failed, idempotency_key,
                                                  created_at, options)
                            VALUES (:chat, :session, :inReplyTo, :text, :failed, :key, :now, :options)
                            ON CONFLICT (idempotency_key) DO NOTHING
                            RETURNING id""")
                .bind("chat", reply.chat().value())
                .bind("session", session.value())
                .bind(
                        "inReplyTo",
                        reply.inReplyTo() == null ? null : reply.inReplyTo().value())
                .bind("text", reply.text())
                .bind("failed", reply.failed() ? 1 : 0)
                .bind("key", reply.idempotencyKey())
                .bind("now", now)
                .bind(
                        "options",
                        reply.options().isEmpty() ? null : Wire.mapper().writeValueAsString(reply.options()))
                .mapTo(Long.class)
                .findOne();
        long id = inserted.orElseGet(() -> h.createQuery("SELECT id FROM outbound WHERE idempotency_key = :key")
                .bind("key", reply.idempotencyKey())
                .mapTo(Long.class)
                .one());
        return Optional.of(new OutboundId(id));
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the message names a chat or inbound message that does not
     *     exist; nothing changes then
     */
    @Override
    public OutboundId storeFileMessage(SessionId session, NewOutbound message, OutboundFile file) {
        requireNonNull(file, "file");
        requireNonNull(message, "message");
        requireNonNull(message.chat(), "message.chat");
        requireNonNull(message.text(), "message.text");
        requireNonNull(message.idempotencyKey(), "message.idempotencyKey");
        return db.withWriteTransaction("storeFileMessage", h -> {
            OutboundId id =
                    completeTurn(h, session, List.of(), List.of(), message).orElseThrow();
            h.createUpdate("""
                            INSERT INTO outbound_files (outbound_id, name, media_type, size, sha256)
                            VALUES (:id, :name, :mediaType, :size, :sha256)
                            ON CONFLICT (outbound_id) DO NOTHING""")
                    .bind("id", id.value())
                    .bind("name", file.name())
                    .bind("mediaType", file.mediaType())
                    .bind("size", file.size())
                    .bind("sha256", file.sha256())
                    .execute();
            return id;
        });
    }

    @Override
    public Optional<OutboundFile> outboundFile(OutboundId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "outboundFile",
                h -> h.createQuery("SELECT name, media_type, size, sha256 FROM outbound_files WHERE outbound_id = :id")
                        .bind("id", id.value())
                        .map((rs, ctx) -> new OutboundFile(
                                rs.getString("name"),
                                rs.getString("media_type"),
                                rs.getLong("size"),
                                rs.getString("sha256")))
                        .findOne());
    }

    @Override
    public Set<String> filesInUse(Instant since) {
        requireNonNull(since, "since");
        return db.withReadTransaction(
                "filesInUse",
                h -> h.createQuery("""
                                SELECT f.sha256 FROM outbound_files f JOIN outbound o ON o.id = f.outbound_id
                                 WHERE (o.delivered_at IS NULL AND o.given_up_at IS NULL)
                                    OR o.created_at >= :since OR o.delivered_at >= :since OR o.given_up_at >= :since
                                UNION
                                SELECT f.sha256 FROM inbound_files f JOIN inbound i ON i.id = f.inbound_id
                                 WHERE f.sha256 IS NOT NULL
                                   AND (i.state <> 'DONE' OR i.received_at >= :since OR i.done_at >= :since)""")
                        .bind("since", since.toEpochMilli())
                        .mapTo(String.class)
                        .set());
    }

    @Override
    public List<Outbound> undelivered() {
        return db.withReadTransaction(
                "undelivered", h -> h.createQuery(undelivered).map(OUTBOUND).list());
    }

    @Override
    public List<Outbound> undelivered(ChatId chat) {
        requireNonNull(chat, "chat");
        return db.withReadTransaction(
                "undelivered",
                h -> h.createQuery(undeliveredByChat)
                        .bind("chat", chat.value())
                        .map(OUTBOUND)
                        .list());
    }

    @Override
    public Optional<Outbound> outbound(OutboundId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "outbound",
                h -> h.createQuery("SELECT " + OUTBOUND_COLUMNS + " FROM outbound WHERE id = :id")
                        .bind("id", id.value())
                        .map(OUTBOUND)
                        .findOne());
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code platformMessageId} may be null for platforms that give none.
     *
     * @throws IllegalArgumentException if there is no outbound message {@code id}
     */
    @Override
    public void markDelivered(OutboundId id, String platformMessageId) {
        requireNonNull(id, "id");
        db.withWriteTransaction("markDelivered", h -> {
            int updated = h.createUpdate("""
                            UPDATE outbound SET delivered_at = :now, platform_message_id = :platformId
                            WHERE id = :id AND delivered_at IS NULL""")
                    .bind("now", now())
                    .bind("platformId", platformMessageId)
                    .bind("id", id.value())
                    .execute();
            if (updated == 0
                    && h.createQuery("SELECT 1 FROM outbound WHERE id = :id")
                            .bind("id", id.value())
                            .mapTo(Integer.class)
                            .findOne()
                            .isEmpty()) {
                throw new IllegalArgumentException("markDelivered: no outbound " + id.value());
            }
            return updated;
        });
    }

    @Override
    public boolean giveUp(OutboundId id, String reason) {
        requireNonNull(id, "id");
        requireNonNull(reason, "reason");
        int updated = db.withWriteTransaction(
                "giveUp",
                h -> h.createUpdate("UPDATE outbound SET given_up_at = :now, given_up_reason = :reason"
                                + " WHERE id = :id AND delivered_at IS NULL AND given_up_at IS NULL")
                        .bind("now", now())
                        .bind("reason", reason)
                        .bind("id", id.value())
                        .execute());
        return updated == 1;
    }

    /** @throws IllegalArgumentException if {@code max} is negative */
    @Override
    public List<Outbound> recentOutbound(ChatId chat, int max) {
        requireNonNull(chat, "chat");
        if (max < 0) {
            throw new IllegalArgumentException("recentOutbound: max must be >= 0, was " + max);
        }
        return db.withReadTransaction(
                "recentOutbound",
                h -> h.createQuery(
                                "SELECT * FROM (SELECT "
                                        + OUTBOUND_COLUMNS
                                        + " FROM outbound WHERE chat_id = :chat ORDER BY id DESC LIMIT :max) recent ORDER BY id")
                        .bind("chat", chat.value())
                        .bind("max", max)
                        .map(OUTBOUND)
                        .list());
    }

    // ---- access (docs/access.md)

    private static final String GRANT_COLUMNS = "user_id, role, agent_id, granted_by, granted_at";

    private static final String REQUEST_COLUMNS = "r.id, r.chat_id, r.agent_id, r.sender_id, r.state, r.created_at,"
            + " r.decided_by, r.decided_at, c.channel,"
            + " (SELECT COUNT(*) FROM held_inbound h WHERE h.request_id = r.id) AS held";

    private static final String REQUEST_FROM = " FROM sender_requests r JOIN chats c ON c.id = r.chat_id";

    private static final RowMapper<RoleGrant> GRANT = (rs, ctx) -> {
        long agent = rs.getLong("agent_id");
        AgentId scope = rs.wasNull() ? null : new AgentId(agent);
        return new RoleGrant(
                UserId.parse(rs.getString("user_id")),
                Role.ofLabel(rs.getString("role")),
                scope,
                rs.getString("granted_by"),
                instant(rs, "granted_at"));
    };

    private static final RowMapper<SenderRequest> REQUEST = (rs, ctx) -> new SenderRequest(
            new SenderRequest.Id(rs.getLong("id")),
            new ChatId(rs.getLong("chat_id")),
            new AgentId(rs.getLong("agent_id")),
            new UserId(rs.getString("channel"), rs.getString("sender_id")),
            SenderRequest.State.valueOf(rs.getString("state")),
            rs.getInt("held"),
            instant(rs, "created_at"),
            rs.getString("decided_by"),
            instant(rs, "decided_at"));

    private static final RowMapper<HeldMessage> HELD = (rs, ctx) -> new HeldMessage(
            rs.getLong("id"),
            new SenderRequest.Id(rs.getLong("request_id")),
            rs.getString("platform_message_id"),
            rs.getString("text"),
            instant(rs, "received_at"));

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also if {@code grantedBy} is blank
     */
    @Override
    public boolean grantRole(UserId user, Role role, AgentId agent, String grantedBy) {
        requireNonNull(user, "user");
        requireNonNull(role, "role");
        requireNonNull(grantedBy, "grantedBy");
        if (role == Role.OWNER && agent != null) {
            throw new IllegalArgumentException("grantRole: an owner is global, it cannot be scoped to an agent");
        }
        if (grantedBy.isBlank()) {
            throw new IllegalArgumentException("grantRole: grantedBy is blank");
        }
        return db.withWriteTransaction("grantRole", h -> insertGrant(h, user, role, agent, grantedBy));
    }

    private boolean insertGrant(Handle h, UserId user, Role role, AgentId agent, String grantedBy) {
        if (agent != null && !exists(h, "agents", agent.value())) {
            throw new IllegalArgumentException("grantRole: no agent " + agent.value());
        }
        return h.createUpdate("""
                        INSERT INTO role_grants (user_id, role, agent_id, granted_by, granted_at)
                        VALUES (:user, :role, :agent, :by, :now)
                        ON CONFLICT DO NOTHING""")
                        .bind("user", user.toString())
                        .bind("role", role.label())
                        .bind("agent", agent == null ? null : agent.value())
                        .bind("by", grantedBy)
                        .bind("now", now())
                        .execute()
                == 1;
    }

    private static boolean exists(Handle h, String table, long id) {
        return h.createQuery("SELECT 1 FROM " + table + " WHERE id = :id")
                .bind("id", id)
                .mapTo(Integer.class)
                .findOne()
                .isPresent();
    }

    @Override
    public boolean revokeRole(UserId user, Role role, AgentId agent) {
        requireNonNull(user, "user");
        requireNonNull(role, "role");
        return db.withWriteTransaction(
                "revokeRole",
                h -> h.createUpdate("""
                                        DELETE FROM role_grants
                                        WHERE user_id = :user AND role = :role AND COALESCE(agent_id, 0) = :agent""")
                                .bind("user", user.toString())
                                .bind("role", role.label())
                                .bind("agent", agent == null ? 0 : agent.value())
                                .execute()
                        > 0);
    }

    @Override
    public List<RoleGrant> roleGrants() {
        return db.withReadTransaction(
                "roleGrants",
                h -> h.createQuery("SELECT " + GRANT_COLUMNS + " FROM role_grants ORDER BY id")
                        .map(GRANT)
                        .list());
    }

    @Override
    public List<RoleGrant> roleGrants(UserId user) {
        requireNonNull(user, "user");
        return db.withReadTransaction(
                "roleGrants",
                h -> h.createQuery("SELECT " + GRANT_COLUMNS + " FROM role_grants WHERE user_id = :user ORDER BY id")
                        .bind("user", user.toString())
                        .map(GRANT)
                        .list());
    }

    @Override
    public List<Chat> chats() {
        return db.withReadTransaction(
                "chats",
                h -> h.createQuery("SELECT " + CHAT_COLUMNS + " FROM chats ORDER BY id")
                        .map(CHAT)
                        .list());
    }

    @Override
    public Optional<SenderPolicy> senderPolicy(ChatId chat) {
        requireNonNull(chat, "chat");
        return db.withReadTransaction(
                "senderPolicy",
                h -> h.createQuery("SELECT sender_policy FROM chat_policies WHERE chat_id = :chat")
                        .bind("chat", chat.value())
                        .mapTo(String.class)
                        .findOne()
                        .map(SenderPolicy::ofLabel));
    }

    @Override
    public void setSenderPolicy(ChatId chat, SenderPolicy policy, String setBy) {
        requireNonNull(chat, "chat");
        requireNonNull(policy, "policy");
        requireNonNull(setBy, "setBy");
        db.withWriteTransaction("setSenderPolicy", h -> {
            if (!exists(h, "chats", chat.value())) {
                throw new IllegalArgumentException("setSenderPolicy: no chat " + chat.value());
            }
            return h.createUpdate("""
                            INSERT INTO chat_policies (chat_id, sender_policy, updated_by, updated_at)
                            VALUES (:chat, :policy, :by, :now)
                            ON CONFLICT (chat_id) DO UPDATE SET sender_policy = excluded.sender_policy,
                                                                updated_by = excluded.updated_by,
                                                                updated_at = excluded.updated_at""")
                    .bind("chat", chat.value())
                    .bind("policy", policy.label())
                    .bind("by", setBy)
                    .bind("now", now())
                    .execute();
        });
    }

    @Override
    public Hold holdInbound(ChatId chat, AgentId agent, NewInbound message) {
        requireNonNull(chat, "chat");
        requireNonNull(agent, "agent");
        requireNonNull(message, "message");
        UserId sender = new UserId(message.channel(), message.senderId());
        return db.withWriteTransaction("holdInbound", h -> {
            Chat stored = h.createQuery("SELECT " + CHAT_COLUMNS + " FROM chats WHERE id = :id")
                    .bind("id", chat.value())
                    .map(CHAT)
                    .findOne()
                    .orElseThrow(() -> new IllegalArgumentException("holdInbound: no chat " + chat.value()));
            if (!stored.channel().equals(message.channel())
                    || !stored.platformChatId().equals(message.platformChatId())) {
                throw new IllegalArgumentException("holdInbound: chat " + chat.value() + " is " + stored.channel()
                        + ":" + stored.platformChatId() + ", but the message is from " + message.channel() + ":"
                        + message.platformChatId());
            }
            // Checked here, in the writer's transaction, so that a grant (an admit) that lands
            // between the router's role check and this hold never strands a message.
            boolean hasRole = h.createQuery("""
                            SELECT 1 FROM role_grants
                            WHERE user_id = :user AND (agent_id IS NULL OR agent_id = :agent) LIMIT 1""")
                    .bind("user", sender.toString())
                    .bind("agent", agent.value())
                    .mapTo(Integer.class)
                    .findOne()
                    .isPresent();
            if (hasRole) {
                return new Hold.HasRole();
            }
            // The sender's latest request decides: refused stays refused; pending collects this
            // message; admitted (whose role was revoked since) or none opens a new one.
            Optional<SenderRequest> latest = h.createQuery("SELECT " + REQUEST_COLUMNS + REQUEST_FROM
                            + " WHERE r.chat_id = :chat AND r.sender_id = :sender ORDER BY r.id DESC LIMIT 1")
                    .bind("chat", chat.value())
                    .bind("sender", message.senderId())
                    .map(REQUEST)
                    .findOne()
                    .filter(r -> r.state() != SenderRequest.State.ADMITTED);
            if (latest.isPresent() && latest.get().state() == SenderRequest.State.REFUSED) {
                return new Hold.Refused(latest.get());
            }
            boolean newRequest = latest.isEmpty();
            long requestId = latest.map(r -> r.id().value())
                    .orElseGet(() -> h.createQuery("""
                            INSERT INTO sender_requests (chat_id, agent_id, sender_id, state, created_at)
                            VALUES (:chat, :agent, :sender, 'PENDING', :now)
                            RETURNING id""")
                            .bind("chat", chat.value())
                            .bind("agent", agent.value())
                            .bind("sender", message.senderId())
                            .bind("now", now())
                            .mapTo(Long.class)
                            .one());
            int inserted = h.createUpdate("""
                            INSERT INTO held_inbound (request_id, chat_id, platform_message_id, sender_id, text,
                                                      received_at)
                            VALUES (:request, :chat, :message, :sender, :text, :now)
                            ON CONFLICT (chat_id, platform_message_id) DO NOTHING""")
                    .bind("request", requestId)
                    .bind("chat", chat.value())
                    .bind("message", message.platformMessageId())
                    .bind("sender", message.senderId())
                    .bind("text", message.text())
                    .bind("now", now())
                    .execute();
            return new Hold.Held(request(h, requestId), newRequest, inserted == 0);
        });
    }

    private static SenderRequest request(Handle h, long id) {
        return h.createQuery("SELECT " + REQUEST_COLUMNS + REQUEST_FROM + " WHERE r.id = :id")
                .bind("id", id)
                .map(REQUEST)
                .one();
    }

    @Override
    public Optional<SenderRequest> senderRequest(SenderRequest.Id id) {
        requireNonNull(id, "id");
        return db.withReadTransaction(
                "senderRequest",
                h -> h.createQuery("SELECT " + REQUEST_COLUMNS + REQUEST_FROM + " WHERE r.id = :id")
                        .bind("id", id.value())
                        .map(REQUEST)
                        .findOne());
    }

    @Override
    public List<SenderRequest> senderRequests() {
        return db.withReadTransaction(
                "senderRequests",
                h -> h.createQuery("SELECT " + REQUEST_COLUMNS + REQUEST_FROM + " ORDER BY r.id")
                        .map(REQUEST)
                        .list());
    }

    @Override
    public List<HeldMessage> heldMessages(SenderRequest.Id id) {
        requireNonNull(id, "id");
        return db.withReadTransaction("heldMessages", h -> held(h, id));
    }

    private static List<HeldMessage> held(Handle h, SenderRequest.Id id) {
        return h.createQuery("SELECT id, request_id, platform_message_id, text, received_at FROM held_inbound"
                        + " WHERE request_id = :request ORDER BY id")
                .bind("request", id.value())
                .map(HELD)
                .list();
    }

    private static SenderRequest pending(Handle h, SenderRequest.Id id, String operation) {
        SenderRequest request = h.createQuery("SELECT " + REQUEST_COLUMNS + REQUEST_FROM + " WHERE r.id = :id")
                .bind("id", id.value())
                .map(REQUEST)
                .findOne()
                .orElseThrow(() -> new IllegalArgumentException(operation + ": no sender request " + id.value()));
        if (request.state() != SenderRequest.State.PENDING) {
            throw new IllegalArgumentException(operation + ": sender request " + id.value() + " was already "
                    + request.state().name().toLowerCase(java.util.Locale.ROOT) + " by " + request.decidedBy());
        }
        return request;
    }

    @Override
    public Admitted admitSender(SenderRequest.Id id, SessionId session, String decidedBy) {
        requireNonNull(id, "id");
        requireNonNull(session, "session");
        requireNonNull(decidedBy, "decidedBy");
        return db.withWriteTransaction("admitSender", h -> {
            SenderRequest request = pending(h, id, "admitSender");
            Session target = h.createQuery("SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id = :id")
                    .bind("id", session.value())
                    .map(SESSION)
                    .findOne()
                    .orElseThrow(() -> new IllegalArgumentException("admitSender: no session " + session.value()));
            if (!target.agentId().equals(request.agent()) || !target.chatId().equals(request.chat())) {
                throw new IllegalArgumentException("admitSender: session " + session.value()
                        + " is not the session of sender request " + id.value() + "'s agent and chat");
            }
            long now = now();
            List<InboundStored> delivered = new ArrayList<>();
            for (HeldMessage m : held(h, id)) {
                Optional<Long> inserted = h.createQuery("""
                                INSERT INTO inbound (session_id, chat_id, channel, platform_message_id, sender_id,
                                                     text, state, received_at)
                                VALUES (:session, :chat, :channel, :message, :sender, :text, 'PENDING', :received)
                                ON CONFLICT (chat_id, platform_message_id) DO NOTHING
                                RETURNING id""")
                        .bind("session", session.value())
                        .bind("chat", request.chat().value())
                        .bind("channel", request.sender().channel())
                        .bind("message", m.platformMessageId())
                        .bind("sender", request.sender().platformUserId())
                        .bind("text", m.text())
                        .bind("received", m.receivedAt().toEpochMilli())
                        .mapTo(Long.class)
                        .findOne();
                if (inserted.isPresent()) {
                    delivered.add(new InboundStored(new InboundId(inserted.get()), false));
                } else {
                    long existing = h.createQuery(
                                    "SELECT id FROM inbound WHERE chat_id = :chat AND platform_message_id = :message")
                            .bind("chat", request.chat().value())
                            .bind("message", m.platformMessageId())
                            .mapTo(Long.class)
                            .one();
                    delivered.add(new InboundStored(new InboundId(existing), true));
                }
            }
            h.createUpdate("DELETE FROM held_inbound WHERE request_id = :request")
                    .bind("request", id.value())
                    .execute();
            h.createUpdate("UPDATE sender_requests SET state = 'ADMITTED', decided_by = :by, decided_at = :now"
                            + " WHERE id = :id")
                    .bind("by", decidedBy)
                    .bind("now", now)
                    .bind("id", id.value())
                    .execute();
            boolean granted = insertGrant(h, request.sender(), Role.MEMBER, request.agent(), decidedBy);
            return new Admitted(request(h, id.value()), List.copyOf(delivered), granted);
        });
    }

    @Override
    public List<HeldMessage> refuseSender(SenderRequest.Id id, String decidedBy) {
        requireNonNull(id, "id");
        requireNonNull(decidedBy, "decidedBy");
        return db.withWriteTransaction("refuseSender", h -> {
            pending(h, id, "refuseSender");
            List<HeldMessage> dropped = held(h, id);
            h.createUpdate("DELETE FROM held_inbound WHERE request_id = :request")
                    .bind("request", id.value())
                    .execute();
            h.createUpdate("UPDATE sender_requests SET state = 'REFUSED', decided_by = :by, decided_at = :now"
                            + " WHERE id = :id")
                    .bind("by", decidedBy)
                    .bind("now", now())
                    .bind("id", id.value())
                    .execute();
            return dropped;
        });
    }

    @Override
    public void addPairingCode(byte[] codeHash, AgentId agent, String createdBy, Instant expiresAt) {
        requireNonNull(codeHash, "codeHash");
        requireNonNull(agent, "agent");
        requireNonNull(createdBy, "createdBy");
        requireNonNull(expiresAt, "expiresAt");
        if (codeHash.length != 32) {
            throw new IllegalArgumentException("addPairingCode: the hash must be 32 bytes, was " + codeHash.length);
        }
        byte[] hash = codeHash.clone();
        db.withWriteTransaction("addPairingCode", h -> {
            if (!exists(h, "agents", agent.value())) {
                throw new IllegalArgumentException("addPairingCode: no agent " + agent.value());
            }
            int inserted = h.createUpdate("""
                            INSERT INTO pairing_codes (code_hash, agent_id, created_by, created_at, expires_at)
                            VALUES (:hash, :agent, :by, :now, :expires)
                            ON CONFLICT (code_hash) DO NOTHING""")
                    .bind("hash", hash)
                    .bind("agent", agent.value())
                    .bind("by", createdBy)
                    .bind("now", now())
                    .bind("expires", expiresAt.toEpochMilli())
                    .execute();
            if (inserted == 0) {
                throw new IllegalArgumentException("addPairingCode: a code with this hash exists");
            }
            return inserted;
        });
    }

    @Override
    public PairingClaim claimPairingCode(
            byte[] codeHash, ChatId chat, UserId claimant, String platformMessageId, Instant now) {
        requireNonNull(codeHash, "codeHash");
        requireNonNull(chat, "chat");
        requireNonNull(claimant, "claimant");
        requireNonNull(platformMessageId, "platformMessageId");
        requireNonNull(now, "now");
        byte[] hash = codeHash.clone();
        return db.withWriteTransaction("claimPairingCode", h -> {
            if (!exists(h, "chats", chat.value())) {
                throw new IllegalArgumentException("claimPairingCode: no chat " + chat.value());
            }
            Optional<PairingRow> found = h.createQuery(
                            "SELECT id, agent_id, expires_at, used_at FROM pairing_codes WHERE code_hash = :hash")
                    .bind("hash", hash)
                    .map((rs, ctx) -> new PairingRow(
                            rs.getLong("id"),
                            new AgentId(rs.getLong("agent_id")),
                            instant(rs, "expires_at"),
                            instant(rs, "used_at")))
                    .findOne();
            if (found.isEmpty()) {
                return new PairingClaim.Unknown();
            }
            PairingRow row = found.get();
            if (row.usedAt() != null) {
                return new PairingClaim.Used(row.usedAt());
            }
            if (!now.isBefore(row.expiresAt())) {
                return new PairingClaim.Expired(row.expiresAt());
            }
            h.createUpdate("UPDATE pairing_codes SET used_at = :now, used_by = :user, used_chat_id = :chat,"
                            + " used_message = :message WHERE id = :id")
                    .bind("now", now.toEpochMilli())
                    .bind("user", claimant.toString())
                    .bind("chat", chat.value())
                    .bind("message", platformMessageId)
                    .bind("id", row.id())
                    .execute();
            h.createUpdate("""
                            INSERT INTO wirings (chat_id, agent_id, updated_at) VALUES (:chat, :agent, :now)
                            ON CONFLICT (chat_id) DO UPDATE SET agent_id = excluded.agent_id,
                                                                updated_at = excluded.updated_at""")
                    .bind("chat", chat.value())
                    .bind("agent", row.agent().value())
                    .bind("now", now())
                    .execute();
            boolean granted = insertGrant(h, claimant, Role.ADMIN, row.agent(), "pairing");
            return new PairingClaim.Claimed(row.agent(), granted);
        });
    }

    static final String IS_PAIRING_MESSAGE = "SELECT 1 FROM pairing_codes"
            + " WHERE used_chat_id = :chat AND used_message = :message AND used_at IS NOT NULL";

    @Override
    public boolean isPairingMessage(ChatId chat, String platformMessageId) {
        requireNonNull(chat, "chat");
        requireNonNull(platformMessageId, "platformMessageId");
        return db.withReadTransaction(
                "isPairingMessage",
                h -> h.createQuery(IS_PAIRING_MESSAGE)
                        .bind("chat", chat.value())
                        .bind("message", platformMessageId)
                        .mapTo(Integer.class)
                        .findOne()
                        .isPresent());
    }

    private record PairingRow(long id, AgentId agent, Instant expiresAt, Instant usedAt) {}

    // ---- approvals

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the session does not exist or is not a session of the
     *     agent, or the chat does not exist; nothing is stored then
     */
    @Override
    public Approval storeApproval(NewApproval request) {
        requireNonNull(request, "request");
        requireNonNull(request.agent(), "request.agent");
        requireNonNull(request.session(), "request.session");
        requireNonNull(request.chat(), "request.chat");
        requireNonNull(request.kind(), "request.kind");
        requireNonNull(request.subject(), "request.subject");
        requireNonNull(request.summary(), "request.summary");
        requireNonNull(request.requestedAt(), "request.requestedAt");
        requireNonNull(request.expiresAt(), "request.expiresAt");
        String payload = Wire.mapper().writeValueAsString(new TreeMap<>(request.payload()));
        return db.withWriteTransaction("storeApproval", h -> {
            long owner = h.createQuery("SELECT agent_id FROM sessions WHERE id = :session")
                    .bind("session", request.session().value())
                    .mapTo(Long.class)
                    .findOne()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "storeApproval: no session " + request.session().value()));
            if (owner != request.agent().value()) {
                throw new IllegalArgumentException(
                        "storeApproval: session " + request.session().value() + " belongs to agent " + owner + ", not "
                                + request.agent().value());
            }
            long id = h.createQuery("""
                            INSERT INTO approvals (agent_id, session_id, chat_id, kind, subject, summary, payload,
                                                   requested_at, expires_at, status)
                            VALUES (:agent, :session, :chat, :kind, :subject, :summary, :payload,
                                    :requested, :expires, 'pending')
                            RETURNING id""")
                    .bind("agent", request.agent().value())
                    .bind("session", request.session().value())
                    .bind("chat", request.chat().value())
                    .bind("kind", request.kind())
                    .bind("subject", request.subject())
                    .bind("summary", request.summary())
                    .bind("payload", payload)
                    .bind("requested", request.requestedAt().toEpochMilli())
                    .bind("expires", request.expiresAt().toEpochMilli())
                    .mapTo(Long.class)
                    .one();
            return approval(h, new ApprovalId(id)).orElseThrow();
        });
    }

    private static Optional<Approval> approval(Handle h, ApprovalId id) {
        return h.createQuery("SELECT " + APPROVAL_COLUMNS + APPROVALS_FROM + " WHERE a.id = :id")
                .bind("id", id.value())
                .map(APPROVAL)
                .findOne();
    }

    @Override
    public Optional<Approval> approval(ApprovalId id) {
        requireNonNull(id, "id");
        return db.withReadTransaction("approval", h -> approval(h, id));
    }

    @Override
    public List<Approval> pendingApprovals() {
        return db.withReadTransaction(
                "pendingApprovals",
                h -> h.createQuery(pendingApprovals).map(APPROVAL).list());
    }

    /** @throws IllegalArgumentException if {@code max} is negative */
    @Override
    public List<Approval> recentApprovals(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("recentApprovals: max must be >= 0, was " + max);
        }
        return db.withReadTransaction(
                "recentApprovals",
                h -> h.createQuery("SELECT * FROM (SELECT " + APPROVAL_COLUMNS + APPROVALS_FROM
                                + " ORDER BY a.id DESC LIMIT :max) recent ORDER BY id")
                        .bind("max", max)
                        .map(APPROVAL)
                        .list());
    }

    @Override
    public Optional<Approval> pendingApproval(SessionId session, String kind, String subject) {
        requireNonNull(session, "session");
        requireNonNull(kind, "kind");
        requireNonNull(subject, "subject");
        return db.withReadTransaction(
                "pendingApproval",
                h -> h.createQuery("SELECT " + APPROVAL_COLUMNS
                                + " FROM " + db.dialect().from("approvals a", "approvals_pending")
                                + " JOIN agents g ON g.id = a.agent_id"
                                + " WHERE a.status = 'pending' AND a.session_id = :session AND a.kind = :kind"
                                + " AND a.subject = :subject ORDER BY a.id LIMIT 1")
                        .bind("session", session.value())
                        .bind("kind", kind)
                        .bind("subject", subject)
                        .map(APPROVAL)
                        .findOne());
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the decision is PENDING, names a scope without granting (or
     *     grants without one), or has negative uses; nothing changes then
     */
    @Override
    public Optional<Approval> decideApproval(ApprovalId id, ApprovalDecision decision) {
        requireNonNull(id, "id");
        requireNonNull(decision, "decision");
        requireNonNull(decision.status(), "decision.status");
        requireNonNull(decision.decidedAt(), "decision.decidedAt");
        if (decision.status() == Approval.Status.PENDING) {
            throw new IllegalArgumentException("decideApproval: a decision cannot be PENDING");
        }
        if ((decision.status() == Approval.Status.GRANTED) != (decision.scope() != null)) {
            throw new IllegalArgumentException("decideApproval: a scope is given exactly when granting, got "
                    + decision.status() + " with scope " + decision.scope());
        }
        if (decision.uses() < 0 || decision.maxUses() < 0) {
            throw new IllegalArgumentException("decideApproval: uses and maxUses must be >= 0");
        }
        return db.withWriteTransaction("decideApproval", h -> {
            int updated = h.createUpdate("""
                            UPDATE approvals SET status = :status, decided_by = :by, decided_at = :at, reason = :reason,
                                                 scope = :scope, max_uses = :maxUses, uses = :uses,
                                                 grant_expires_at = :grantExpires
                            WHERE id = :id AND status = 'pending'""")
                    .bind("status", decision.status().name().toLowerCase(Locale.ROOT))
                    .bind("by", decision.decidedBy())
                    .bind("at", decision.decidedAt().toEpochMilli())
                    .bind("reason", decision.reason())
                    .bind(
                            "scope",
                            decision.scope() == null
                                    ? null
                                    : decision.scope().name().toLowerCase(Locale.ROOT))
                    .bind("maxUses", decision.maxUses() == 0 ? null : decision.maxUses())
                    .bind("uses", decision.uses())
                    .bind(
                            "grantExpires",
                            decision.grantExpiresAt() == null
                                    ? null
                                    : decision.grantExpiresAt().toEpochMilli())
                    .bind("id", id.value())
                    .execute();
            return updated == 0 ? Optional.<Approval>empty() : approval(h, id);
        });
    }

    @Override
    public Optional<Approval> useGrant(AgentId agent, SessionId session, String kind, String subject, Instant now) {
        requireNonNull(agent, "agent");
        requireNonNull(session, "session");
        requireNonNull(kind, "kind");
        requireNonNull(subject, "subject");
        requireNonNull(now, "now");
        return db.withWriteTransaction("useGrant", h -> {
            // Select and count in one serialized transaction (SQLite's one writer; PostgreSQL's
            // SERIALIZABLE, whose loser runs again): two requests never both take a grant's last use.
            Optional<Long> grant = h.createQuery(usableGrant)
                    .bind("agent", agent.value())
                    .bind("kind", kind)
                    .bind("subject", subject)
                    .bind("session", session.value())
                    .bind("now", now.toEpochMilli())
                    .mapTo(Long.class)
                    .findOne();
            if (grant.isEmpty()) {
                return Optional.<Approval>empty();
            }
            h.createUpdate("UPDATE approvals SET uses = uses + 1 WHERE id = :id")
                    .bind("id", grant.get())
                    .execute();
            return approval(h, new ApprovalId(grant.get()));
        });
    }

    /** Waits for running calls to finish, then releases the file. Idempotent. */
    @Override
    public void close() {
        db.close();
    }

    private long now() {
        return clock.millis();
    }

    /** A nullable epoch-milliseconds column as an instant. */
    static Instant instant(ResultSet rs, String column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
    }
}
