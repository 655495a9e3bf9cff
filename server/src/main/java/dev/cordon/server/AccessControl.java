package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.RoleGrant;
import dev.cordon.core.access.SenderPolicy;
import dev.cordon.core.access.SenderRequest;
import dev.cordon.core.access.UserId;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Serves the control socket's user, role, chat, sender and pairing requests ({@code cordon users|
 * chats|senders|pair}). The socket's user is {@link UserId#TERMINAL_OWNER}; every change still goes
 * through {@link Access}, which checks and audits it, so a later caller that is not the owner (a
 * chat command, the web) gets the same checks.
 */
final class AccessControl {
    private final Access access;
    private final Store store;

    AccessControl(Access access, Store store) {
        this.access = access;
        this.store = store;
    }

    /** Answers one request with one event; bad input is a {@link ControlEvent.Failure} saying what. */
    ControlEvent handle(ControlRequest.AccessRequest request) {
        UserId by = UserId.TERMINAL_OWNER;
        try {
            return switch (request) {
                case ControlRequest.UsersList l -> users();
                case ControlRequest.UsersGrant g ->
                    outcome(access.grant(by, UserId.parse(g.user()), Role.ofLabel(g.role()), agent(g.agent())));
                case ControlRequest.UsersRevoke r ->
                    outcome(access.revoke(by, UserId.parse(r.user()), Role.ofLabel(r.role()), agent(r.agent())));
                case ControlRequest.ChatsList l -> chats();
                case ControlRequest.ChatsPolicy p ->
                    outcome(access.setSenderPolicy(by, p.chat(), SenderPolicy.ofLabel(p.policy())));
                case ControlRequest.SendersList l -> senders();
                case ControlRequest.SendersAdmit a -> outcome(access.admit(by, new SenderRequest.Id(a.request())));
                case ControlRequest.SendersRefuse r -> outcome(access.refuse(by, new SenderRequest.Id(r.request())));
                case ControlRequest.Pair p ->
                    switch (access.pair(by, new AgentName(p.agent()))) {
                        case Access.PairingCode.Issued issued ->
                            new ControlEvent.PairingCode(
                                    issued.agent().value(),
                                    issued.code(),
                                    issued.expiresAt().toEpochMilli());
                        case Access.Outcome.Rejected rejected -> new ControlEvent.Failure(rejected.reason());
                    };
            };
        } catch (IllegalArgumentException badInput) {
            // UserId.parse, Role.ofLabel, SenderPolicy.ofLabel and AgentName say what is wrong.
            return new ControlEvent.Failure(badInput.getMessage());
        }
    }

    private static AgentName agent(String name) {
        return name == null ? null : new AgentName(name);
    }

    private static ControlEvent outcome(Access.Outcome outcome) {
        return switch (outcome) {
            case Access.Outcome.Done done -> new ControlEvent.Done(done.message());
            case Access.Outcome.Rejected rejected -> new ControlEvent.Failure(rejected.reason());
        };
    }

    private ControlEvent.UserList users() {
        List<ControlEvent.UserRow> rows = new ArrayList<>();
        rows.add(new ControlEvent.UserRow(UserId.TERMINAL_OWNER.toString(), Role.OWNER.label(), null, "built-in", 0));
        for (RoleGrant g : store.roleGrants()) {
            rows.add(new ControlEvent.UserRow(
                    g.user().toString(),
                    g.role().label(),
                    g.agent() == null ? null : agentName(g.agent()),
                    g.grantedBy(),
                    g.grantedAt().toEpochMilli()));
        }
        return new ControlEvent.UserList(rows);
    }

    private ControlEvent.ChatList chats() {
        List<ControlEvent.ChatRow> rows = new ArrayList<>();
        for (Chat chat : store.chats()) {
            String agent =
                    store.wiring(chat.id()).map(w -> agentName(w.agentId())).orElse(null);
            rows.add(new ControlEvent.ChatRow(
                    chat.channel() + ":" + chat.platformChatId(),
                    agent,
                    access.senderPolicy(chat.id()).label()));
        }
        return new ControlEvent.ChatList(rows);
    }

    private ControlEvent.SenderList senders() {
        List<ControlEvent.SenderRow> rows = new ArrayList<>();
        for (SenderRequest r : store.senderRequests()) {
            String chat = store.chat(r.chat())
                    .map(c -> c.channel() + ":" + c.platformChatId())
                    .orElse("?");
            rows.add(new ControlEvent.SenderRow(
                    r.id().value(),
                    r.sender().toString(),
                    chat,
                    agentName(r.agent()),
                    r.state().name().toLowerCase(Locale.ROOT),
                    r.held(),
                    r.createdAt().toEpochMilli(),
                    r.decidedBy()));
        }
        return new ControlEvent.SenderList(rows);
    }

    private String agentName(dev.cordon.core.Ids.AgentId id) {
        return store.agent(id).map(Agent::name).map(AgentName::value).orElse("?");
    }
}
