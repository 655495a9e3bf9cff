package dev.cordon.core.access;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/** {@link Access} over the store and the audit log. */
final class AccessService implements Access {
    /** No 0/O, 1/I/L: a code read aloud or copied by hand survives. 31 symbols, 8 of them: ~40 bits. */
    static final String CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    static final int CODE_LENGTH = 8;
    static final String RULE_PAIRING = "pairing";

    private final Store store;
    private final AuditLog audit;
    private final Clock clock;
    private final RandomGenerator random;
    private final Consumer<SessionId> wakeSession;
    private final Consumer<ChatId> wakeDelivery;

    /**
     * Wrong pairing codes per chat, newest last. In memory: a restart forgets them, which the ten
     * minute lifetime of a code bounds (a code is dead before many restarts' worth of guesses).
     */
    private final Map<ChatId, Deque<Instant>> guesses = new ConcurrentHashMap<>();

    AccessService(
            Store store,
            AuditLog audit,
            Clock clock,
            RandomGenerator random,
            Consumer<SessionId> wakeSession,
            Consumer<ChatId> wakeDelivery) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.random = random;
        this.wakeSession = wakeSession;
        this.wakeDelivery = wakeDelivery;
    }

    // ---- questions

    @Override
    public Optional<Role> role(UserId user, AgentName agent) {
        if (user.equals(UserId.TERMINAL_OWNER)) {
            return Optional.of(Role.OWNER);
        }
        Optional<AgentId> agentId = store.agentByName(agent).map(Agent::id);
        return strongest(user, agentId.orElse(null), true);
    }

    /** The strongest grant of {@code user} that applies to {@code agent} (null: global grants only). */
    private Optional<Role> strongest(UserId user, AgentId agent, boolean includeScoped) {
        if (user.equals(UserId.TERMINAL_OWNER)) {
            return Optional.of(Role.OWNER);
        }
        Role best = null;
        for (RoleGrant g : store.roleGrants(user)) {
            boolean applies = g.agent() == null
                    || (includeScoped && agent != null && g.agent().equals(agent));
            if (applies && (best == null || g.role().ordinal() < best.ordinal())) {
                best = g.role();
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public boolean mayAdminister(UserId user, AgentName agent) {
        return requireAdmin(user, agent) instanceof Permission.Allowed;
    }

    @Override
    public boolean mayApprove(UserId approver, AgentName agent) {
        return mayAdminister(approver, agent);
    }

    @Override
    public boolean mayApprove(String approver, AgentName agent) {
        UserId user;
        try {
            user = UserId.parse(approver);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return mayAdminister(user, agent);
    }

    @Override
    public Permission requireAdmin(UserId user, AgentName agent) {
        if (agent == null) {
            Optional<Role> role = strongest(user, null, false);
            if (role.isPresent() && role.get() != Role.MEMBER) {
                return new Permission.Allowed();
            }
            return new Permission.Denied(user + " is not an owner or a global admin"
                    + role.map(r -> " (global role: " + r.label() + ")").orElse("")
                    + "; ask an owner, or run the command on the daemon's host (the terminal is the owner)");
        }
        Optional<Role> role = role(user, agent);
        if (role.isPresent() && role.get() != Role.MEMBER) {
            return new Permission.Allowed();
        }
        return new Permission.Denied(user + " is not an admin of agent " + agent
                + role.map(r -> " (role: " + r.label() + ")").orElse("")
                + "; ask an owner or an admin of " + agent + ", or run the command on the daemon's host");
    }

    private Optional<String> requireOwner(UserId user) {
        if (strongest(user, null, false).orElse(null) == Role.OWNER) {
            return Optional.empty();
        }
        return Optional.of(user + " is not an owner: only an owner can grant or revoke the owner role");
    }

    @Override
    public SenderPolicy senderPolicy(ChatId chat) {
        return store.senderPolicy(chat).orElse(DEFAULT_SENDER_POLICY);
    }

    // ---- the router's questions

    @Override
    public Screening screen(Chat chat, Agent agent, NewInbound message) {
        UserId sender = new UserId(message.channel(), message.senderId());
        // The platform redelivers a message whose ack was lost: the code that wired this chat must
        // not reach the agent the second time either. Only code-shaped text costs a lookup.
        if (looksLikeCode(message.text().strip().toUpperCase(Locale.ROOT))
                && store.isPairingMessage(chat.id(), message.platformMessageId())) {
            return new Screening.Drop(
                    RULE_PAIRING, "pairing: a redelivery of the pairing code that wired this chat; not passed on");
        }
        SenderPolicy policy = senderPolicy(chat.id());
        String rule = "sender_policy " + policy.label();
        Optional<Role> role = role(sender, agent.name());
        if (role.isPresent()) {
            return new Screening.Admit(rule, sender + " is " + article(role.get()) + " of agent " + agent.name());
        }
        return switch (policy) {
            case PUBLIC -> new Screening.Admit(rule, "the chat is public: anyone may talk to agent " + agent.name());
            case STRICT ->
                new Screening.Drop(
                        rule,
                        rule + ": " + sender + " has no role for agent " + agent.name()
                                + "; an admin can let them in with: cordon users grant " + sender + " member --agent "
                                + agent.name());
            case APPROVAL -> hold(chat, agent, message, sender, rule);
        };
    }

    private Screening hold(Chat chat, Agent agent, NewInbound message, UserId sender, String rule) {
        Store.Hold hold = store.holdInbound(chat.id(), agent.id(), message);
        return switch (hold) {
            case Store.Hold.HasRole h ->
                new Screening.Admit(rule, sender + " was given a role for agent " + agent.name() + " just now");
            case Store.Hold.Refused r ->
                new Screening.Drop(
                        rule,
                        rule + ": " + sender + " was refused for agent " + agent.name() + " by "
                                + r.request().decidedBy()
                                + " (request " + r.request().id().value() + "); an admin can still let them in with:"
                                + " cordon users grant " + sender + " member --agent " + agent.name());
            case Store.Hold.Held h -> {
                String reason = rule + ": " + sender + " has no role for agent " + agent.name()
                        + "; held as request " + h.request().id().value() + " until an admin runs cordon senders admit "
                        + h.request().id().value() + " (or refuse)";
                Map<String, Object> details = where(message);
                details.put("request", h.request().id().value());
                List<AuditEvent> events = new ArrayList<>();
                Instant now = clock.instant();
                if (h.newRequest()) {
                    events.add(AuditEvent.of(
                                    now, Actor.user(sender.toString()), AuditActions.ACCESS_REQUEST, Decision.INFO)
                            .withAgent(agent.name())
                            .withRule(rule)
                            .withReason(sender + " asks to talk to agent " + agent.name() + " in chat " + chat.channel()
                                    + ":" + chat.platformChatId())
                            .withDetails(details));
                }
                details.put("duplicate", h.duplicate());
                events.add(AuditEvent.of(now, Actor.user(sender.toString()), AuditActions.INBOUND_HELD, Decision.INFO)
                        .withAgent(agent.name())
                        .withRule(rule)
                        .withReason(reason)
                        .withDetails(details));
                audit.appendAll(events);
                yield new Screening.Held(h.request(), h.duplicate(), rule, reason);
            }
        };
    }

    private static String article(Role role) {
        return switch (role) {
            case OWNER -> "an owner";
            case ADMIN -> "an admin";
            case MEMBER -> "a member";
        };
    }

    private static Map<String, Object> where(NewInbound message) {
        Map<String, Object> details = new HashMap<>();
        details.put("channel", message.channel());
        details.put("chat", message.platformChatId());
        details.put("platform_message", message.platformMessageId());
        return details;
    }

    @Override
    public Claim claim(Chat chat, NewInbound message) {
        String code = message.text().strip().toUpperCase(Locale.ROOT);
        if (!looksLikeCode(code)) {
            return new Claim.NotACode();
        }
        UserId claimant = new UserId(message.channel(), message.senderId());
        Instant now = clock.instant();
        Deque<Instant> wrong = guesses.computeIfAbsent(chat.id(), c -> new ArrayDeque<>());
        synchronized (wrong) {
            while (!wrong.isEmpty() && !wrong.peekFirst().isAfter(now.minus(PAIRING_GUESS_WINDOW))) {
                wrong.removeFirst();
            }
            if (wrong.size() >= PAIRING_GUESSES) {
                return new Claim.Refused(
                        RULE_PAIRING,
                        "pairing: " + wrong.size() + " wrong codes from chat " + chat.channel() + ":"
                                + chat.platformChatId() + " in the last " + PAIRING_GUESS_WINDOW.toMinutes()
                                + " minutes; codes from it are ignored until "
                                + wrong.peekFirst().plus(PAIRING_GUESS_WINDOW)
                                + ". Ask an admin for a new code (cordon pair AGENT) and send it then");
            }
            Store.PairingClaim result =
                    store.claimPairingCode(hash(code), chat.id(), claimant, message.platformMessageId(), now);
            String refusal = switch (result) {
                case Store.PairingClaim.Claimed c -> null;
                case Store.PairingClaim.Unknown u -> "pairing: not a valid pairing code";
                case Store.PairingClaim.Used u -> "pairing: this code was already used (at " + u.usedAt() + ")";
                case Store.PairingClaim.Expired e -> "pairing: this code expired at " + e.expiredAt();
            };
            if (refusal != null) {
                wrong.addLast(now);
                return new Claim.Refused(
                        RULE_PAIRING,
                        refusal + "; ask an admin for a new one: cordon pair AGENT (valid "
                                + PAIRING_CODE_LIFETIME.toMinutes() + " minutes, once)");
            }
            wrong.clear();
            guesses.remove(chat.id(), wrong);
            return paired(chat, message, claimant, (Store.PairingClaim.Claimed) result);
        }
    }

    private Claim paired(Chat chat, NewInbound message, UserId claimant, Store.PairingClaim.Claimed claimed) {
        Agent agent = store.agent(claimed.agent()).orElseThrow();
        String chatName = chat.channel() + ":" + chat.platformChatId();
        String reply = "Paired: this chat now talks to agent " + agent.name() + ". You (" + claimant
                + ") are an admin of " + agent.name() + ". Sender policy: "
                + senderPolicy(chat.id()).label() + " (only people with a role for " + agent.name()
                + " are heard here; an admin can change it: cordon chats policy " + chatName + " approval|public).";
        Instant now = clock.instant();
        Map<String, Object> details = where(message);
        List<AuditEvent> events = new ArrayList<>();
        events.add(AuditEvent.of(now, Actor.user(claimant.toString()), AuditActions.PAIRING_CLAIM, Decision.ALLOW)
                .withAgent(agent.name())
                .withRule(RULE_PAIRING)
                .withReason("a valid pairing code wired chat " + chatName + " to agent " + agent.name())
                .withDetails(details));
        if (claimed.roleGranted()) {
            events.add(roleEvent(
                    AuditActions.ROLE_GRANT,
                    Actor.system("pairing"),
                    claimant,
                    Role.ADMIN,
                    agent.name(),
                    "the pairing code's claimant administers the agent it wired"));
        }
        audit.appendAll(events);
        Session session = store.ensureSession(agent.id(), chat.id(), "");
        store.completeTurn(
                session.id(),
                List.of(),
                List.of(),
                new Store.NewOutbound(
                        chat.id(),
                        null,
                        reply,
                        false,
                        "pairing-" + chat.id().value() + "-" + message.platformMessageId()));
        wakeDelivery.accept(chat.id());
        return new Claim.Paired(agent.name(), reply);
    }

    static boolean looksLikeCode(String text) {
        if (text.length() != CODE_LENGTH) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (CODE_ALPHABET.indexOf(text.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }

    static byte[] hash(String code) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(code.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    // ---- configuration

    @Override
    public Outcome grant(UserId by, UserId user, Role role, AgentName agent) {
        Optional<String> refused = mayChange(by, user, role, agent, "grant");
        if (refused.isPresent()) {
            return new Outcome.Rejected(refused.get());
        }
        AgentId agentId =
                agent == null ? null : store.agentByName(agent).orElseThrow().id();
        String scope = scope(role, agent);
        if (!store.grantRole(user, role, agentId, by.toString())) {
            return new Outcome.Done(user + " already is " + role.label() + " " + scope + "; nothing changed");
        }
        audit.append(roleEvent(AuditActions.ROLE_GRANT, Actor.user(by.toString()), user, role, agent, null));
        return new Outcome.Done("granted " + role.label() + " " + scope + " to " + user);
    }

    @Override
    public Outcome revoke(UserId by, UserId user, Role role, AgentName agent) {
        if (user.equals(UserId.TERMINAL_OWNER)) {
            return new Outcome.Rejected(UserId.TERMINAL_OWNER
                    + " is whoever can open the daemon's control socket; it is always an owner and cannot be revoked");
        }
        Optional<String> refused = mayChange(by, user, role, agent, "revoke");
        if (refused.isPresent()) {
            return new Outcome.Rejected(refused.get());
        }
        AgentId agentId =
                agent == null ? null : store.agentByName(agent).orElseThrow().id();
        String scope = scope(role, agent);
        if (!store.revokeRole(user, role, agentId)) {
            return new Outcome.Rejected(user + " has no " + role.label() + " role " + scope
                    + "; nothing changed (cordon users list shows every role)");
        }
        audit.append(roleEvent(AuditActions.ROLE_REVOKE, Actor.user(by.toString()), user, role, agent, null));
        return new Outcome.Done("revoked " + role.label() + " " + scope + " from " + user);
    }

    private static String scope(Role role, AgentName agent) {
        return agent == null ? "(global)" : "on agent " + agent;
    }

    /** Why {@code by} may not grant or revoke this role, if they may not. */
    private Optional<String> mayChange(UserId by, UserId user, Role role, AgentName agent, String verb) {
        if (role == Role.OWNER && agent != null) {
            return Optional.of("the owner role is global: " + verb + " it without --agent");
        }
        if (agent != null && store.agentByName(agent).isEmpty()) {
            return Optional.of("there is no agent named '" + agent + "'; agents: "
                    + store.agents().stream().map(a -> a.name().value()).toList());
        }
        if (role == Role.OWNER) {
            return requireOwner(by);
        }
        return switch (requireAdmin(by, agent)) {
            case Permission.Allowed a -> Optional.empty();
            case Permission.Denied d ->
                Optional.of("cannot " + verb + " " + role.label() + " " + scope(role, agent) + " to " + user + ": "
                        + d.reason());
        };
    }

    private AuditEvent roleEvent(String action, Actor actor, UserId user, Role role, AgentName agent, String reason) {
        Map<String, Object> details = new HashMap<>();
        details.put("user", user.toString());
        details.put("role", role.label());
        details.put("scope", agent == null ? "global" : "agent");
        return AuditEvent.of(clock.instant(), actor, action, Decision.INFO)
                .withAgent(agent)
                .withRule("role")
                .withReason(reason)
                .withDetails(details);
    }

    @Override
    public Outcome setSenderPolicy(UserId by, String chatName, SenderPolicy policy) {
        int colon = chatName.indexOf(':');
        Optional<Chat> chat = colon <= 0
                ? Optional.empty()
                : store.findChat(chatName.substring(0, colon), chatName.substring(colon + 1));
        if (chat.isEmpty()) {
            return new Outcome.Rejected("there is no chat '" + chatName
                    + "': name it CHANNEL:PLATFORM_CHAT_ID as cordon chats list shows it (a chat exists once a"
                    + " message came from it)");
        }
        Optional<AgentName> agent = store.wiring(chat.get().id())
                .flatMap(w -> store.agent(w.agentId()))
                .map(Agent::name);
        if (requireAdmin(by, agent.orElse(null)) instanceof Permission.Denied d) {
            return new Outcome.Rejected("cannot set the sender policy of " + chatName + ": " + d.reason());
        }
        SenderPolicy before = senderPolicy(chat.get().id());
        store.setSenderPolicy(chat.get().id(), policy, by.toString());
        audit.append(AuditEvent.of(clock.instant(), Actor.user(by.toString()), AuditActions.CHAT_POLICY, Decision.INFO)
                .withAgent(agent.orElse(null))
                .withRule("sender_policy " + policy.label())
                .withDetails(Map.of("chat", chatName, "before", before.label(), "after", policy.label())));
        return new Outcome.Done("chat " + chatName + ": sender policy " + before.label() + " -> " + policy.label());
    }

    @Override
    public Outcome admit(UserId by, SenderRequest.Id id) {
        Optional<SenderRequest> found = store.senderRequest(id);
        if (found.isEmpty()) {
            return new Outcome.Rejected(
                    "there is no sender request " + id.value() + "; cordon senders list shows them");
        }
        SenderRequest request = found.get();
        Agent agent = store.agent(request.agent()).orElseThrow();
        if (requireAdmin(by, agent.name()) instanceof Permission.Denied d) {
            return new Outcome.Rejected("cannot admit request " + id.value() + ": " + d.reason());
        }
        if (request.state() != SenderRequest.State.PENDING) {
            return new Outcome.Rejected("sender request " + id.value() + " was already "
                    + request.state().name().toLowerCase(Locale.ROOT) + " by " + request.decidedBy());
        }
        Session session = store.ensureSession(agent.id(), request.chat(), "");
        Store.Admitted admitted;
        try {
            admitted = store.admitSender(id, session.id(), by.toString());
        } catch (IllegalArgumentException raced) {
            // Another admin decided between our read and this write.
            return new Outcome.Rejected(raced.getMessage());
        }
        Chat chat = store.chat(request.chat()).orElseThrow();
        Instant now = clock.instant();
        String rule = "sender_policy " + SenderPolicy.APPROVAL.label();
        List<AuditEvent> events = new ArrayList<>();
        events.add(AuditEvent.of(now, Actor.user(by.toString()), AuditActions.ACCESS_ADMIT, Decision.ALLOW)
                .withAgent(agent.name())
                .withRule(rule)
                .withReason(by + " admitted " + request.sender() + " to agent " + agent.name())
                .withDetails(Map.of(
                        "request", id.value(),
                        "sender", request.sender().toString(),
                        "messages", admitted.delivered().size())));
        if (admitted.roleGranted()) {
            events.add(roleEvent(
                    AuditActions.ROLE_GRANT,
                    Actor.user(by.toString()),
                    request.sender(),
                    Role.MEMBER,
                    agent.name(),
                    "admitted as sender request " + id.value()));
        }
        for (Store.InboundStored stored : admitted.delivered()) {
            Map<String, Object> details = new HashMap<>();
            details.put("channel", chat.channel());
            details.put("chat", chat.platformChatId());
            details.put("inbound", stored.id().value());
            details.put("request", id.value());
            events.add(AuditEvent.of(
                            now,
                            Actor.user(request.sender().toString()),
                            stored.duplicate() ? AuditActions.INBOUND_DROPPED : AuditActions.INBOUND_ACCEPTED,
                            stored.duplicate() ? Decision.INFO : Decision.ALLOW)
                    .withAgent(agent.name())
                    .withSession(session.id())
                    .withRule(rule)
                    .withReason(
                            stored.duplicate()
                                    ? "a redelivery of a message already stored"
                                    : "held, then admitted by " + by + " (request " + id.value() + ")")
                    .withDetails(details));
        }
        audit.appendAll(events);
        wakeSession.accept(session.id());
        return new Outcome.Done("admitted " + request.sender() + " to agent " + agent.name() + " (now a member); "
                + admitted.delivered().size() + " held message(s) delivered in order");
    }

    @Override
    public Outcome refuse(UserId by, SenderRequest.Id id) {
        Optional<SenderRequest> found = store.senderRequest(id);
        if (found.isEmpty()) {
            return new Outcome.Rejected(
                    "there is no sender request " + id.value() + "; cordon senders list shows them");
        }
        SenderRequest request = found.get();
        Agent agent = store.agent(request.agent()).orElseThrow();
        if (requireAdmin(by, agent.name()) instanceof Permission.Denied d) {
            return new Outcome.Rejected("cannot refuse request " + id.value() + ": " + d.reason());
        }
        List<HeldMessage> dropped;
        try {
            dropped = store.refuseSender(id, by.toString());
        } catch (IllegalArgumentException raced) {
            return new Outcome.Rejected(raced.getMessage());
        }
        Chat chat = store.chat(request.chat()).orElseThrow();
        Instant now = clock.instant();
        String rule = "sender_policy " + SenderPolicy.APPROVAL.label();
        List<AuditEvent> events = new ArrayList<>();
        events.add(AuditEvent.of(now, Actor.user(by.toString()), AuditActions.ACCESS_REFUSE, Decision.DENY)
                .withAgent(agent.name())
                .withRule(rule)
                .withReason(by + " refused " + request.sender() + " for agent " + agent.name())
                .withDetails(Map.of(
                        "request", id.value(), "sender", request.sender().toString(), "messages", dropped.size())));
        for (HeldMessage m : dropped) {
            events.add(AuditEvent.of(
                            now, Actor.user(request.sender().toString()), AuditActions.INBOUND_DROPPED, Decision.DENY)
                    .withAgent(agent.name())
                    .withRule(rule)
                    .withReason(rule + ": " + request.sender() + " was refused for agent " + agent.name() + " by " + by
                            + " (request " + id.value() + ")")
                    .withDetails(Map.of(
                            "channel", chat.channel(),
                            "chat", chat.platformChatId(),
                            "platform_message", m.platformMessageId(),
                            "request", id.value())));
        }
        audit.appendAll(events);
        return new Outcome.Done("refused " + request.sender() + " for agent " + agent.name() + "; " + dropped.size()
                + " held message(s) dropped. Their later messages in this chat are dropped too; cordon users grant "
                + request.sender() + " member --agent " + agent.name() + " lets them in after all");
    }

    @Override
    public PairingCode pair(UserId by, AgentName agent) {
        Optional<Agent> found = store.agentByName(agent);
        if (found.isEmpty()) {
            return new Outcome.Rejected("there is no agent named '" + agent + "'; agents: "
                    + store.agents().stream().map(a -> a.name().value()).toList());
        }
        if (requireAdmin(by, agent) instanceof Permission.Denied d) {
            return new Outcome.Rejected("cannot issue a pairing code for agent " + agent + ": " + d.reason());
        }
        StringBuilder code = new StringBuilder(CODE_LENGTH);
        for (int i = 0; i < CODE_LENGTH; i++) {
            code.append(CODE_ALPHABET.charAt(random.nextInt(CODE_ALPHABET.length())));
        }
        Instant now = clock.instant();
        Instant expires = now.plus(PAIRING_CODE_LIFETIME);
        // Audited first: a code that exists is on record even if the write below then fails.
        audit.append(AuditEvent.of(now, Actor.user(by.toString()), AuditActions.PAIRING_CREATE, Decision.INFO)
                .withAgent(agent)
                .withRule(RULE_PAIRING)
                .withDetails(Map.of("expires_at", expires.toString())));
        store.addPairingCode(hash(code.toString()), found.get().id(), by.toString(), expires);
        return new PairingCode.Issued(agent, code.toString(), expires);
    }
}
