package dev.cordon.protocol.control;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.Objects;

/**
 * What the {@code cordon} command asks the daemon over the control socket ({@code
 * $CORDON_HOME/run/control.sock}, mode 0600: whoever can open it is the owner).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ControlRequest.Status.class, name = "status"),
    @JsonSubTypes.Type(value = ControlRequest.Stop.class, name = "stop"),
    @JsonSubTypes.Type(value = ControlRequest.Attach.class, name = "attach"),
    @JsonSubTypes.Type(value = ControlRequest.Say.class, name = "say"),
    @JsonSubTypes.Type(value = ControlRequest.ReplyAck.class, name = "reply_ack"),
    @JsonSubTypes.Type(value = ControlRequest.ApprovalList.class, name = "approval_list"),
    @JsonSubTypes.Type(value = ControlRequest.ApprovalShow.class, name = "approval_show"),
    @JsonSubTypes.Type(value = ControlRequest.ApprovalApprove.class, name = "approval_approve"),
    @JsonSubTypes.Type(value = ControlRequest.ApprovalDeny.class, name = "approval_deny"),
    @JsonSubTypes.Type(value = ControlRequest.UsersList.class, name = "users_list"),
    @JsonSubTypes.Type(value = ControlRequest.UsersGrant.class, name = "users_grant"),
    @JsonSubTypes.Type(value = ControlRequest.UsersRevoke.class, name = "users_revoke"),
    @JsonSubTypes.Type(value = ControlRequest.ChatsList.class, name = "chats_list"),
    @JsonSubTypes.Type(value = ControlRequest.ChatsPolicy.class, name = "chats_policy"),
    @JsonSubTypes.Type(value = ControlRequest.SendersList.class, name = "senders_list"),
    @JsonSubTypes.Type(value = ControlRequest.SendersAdmit.class, name = "senders_admit"),
    @JsonSubTypes.Type(value = ControlRequest.SendersRefuse.class, name = "senders_refuse"),
    @JsonSubTypes.Type(value = ControlRequest.Pair.class, name = "pair"),
    @JsonSubTypes.Type(value = ControlRequest.SessionsList.class, name = "sessions_list"),
    @JsonSubTypes.Type(value = ControlRequest.SessionsKill.class, name = "sessions_kill"),
    @JsonSubTypes.Type(value = ControlRequest.AgentsList.class, name = "agents_list"),
    @JsonSubTypes.Type(value = ControlRequest.AgentsCreate.class, name = "agents_create"),
    @JsonSubTypes.Type(value = ControlRequest.AgentsShare.class, name = "agents_share"),
    @JsonSubTypes.Type(value = ControlRequest.AgentsDelete.class, name = "agents_delete"),
    @JsonSubTypes.Type(value = ControlRequest.Dashboard.class, name = "dashboard"),
    @JsonSubTypes.Type(value = ControlRequest.TasksList.class, name = "tasks_list"),
    @JsonSubTypes.Type(value = ControlRequest.TasksShow.class, name = "tasks_show"),
    @JsonSubTypes.Type(value = ControlRequest.TasksChange.class, name = "tasks_change"),
    @JsonSubTypes.Type(value = ControlRequest.TasksCreate.class, name = "tasks_create")
})
public sealed interface ControlRequest {

    /**
     * Answered with {@link ControlEvent.StatusReport}.
     *
     * @param brief only whether the daemon runs and with which model (what every CLI command checks
     *     first): the figures that cost a listing (files kept, each sandbox's use, queued messages and
     *     replies) come back empty or -1
     */
    record Status(boolean brief) implements ControlRequest {
        /** The full report, as {@code cordon status} shows it. */
        public Status() {
            this(false);
        }
    }

    /**
     * Answered with {@link ControlEvent.SessionListing}: live and queued sessions, and the {@code
     * hibernated} most recent hibernated ones.
     */
    record SessionsList(int hibernated) implements ControlRequest {}

    /** Stops a session's sandbox now; answered with {@link ControlEvent.Done} or {@link ControlEvent.Failure}. */
    record SessionsKill(long session) implements ControlRequest {}

    /** Answered with {@link ControlEvent.AgentListing}: every agent with its folder and sessions. */
    record AgentsList() implements ControlRequest {}

    /**
     * Creates an agent: its folder, workspace and {@code AGENTS.md} ({@code instructions}, or a
     * starting text when null). Answered with {@link ControlEvent.Done} or {@link ControlEvent.Failure}.
     */
    record AgentsCreate(String name, String instructions) implements ControlRequest {}

    /**
     * Lends {@code reader} the folder {@code folder} of {@code owner}'s workspace, read-only from its
     * next sandbox start; with {@code revoke}, takes it back (from the reader's next sandbox start).
     * Answered with {@link ControlEvent.Done} or {@link ControlEvent.Failure}.
     */
    record AgentsShare(String owner, String folder, String reader, boolean revoke) implements ControlRequest {}

    /**
     * Deletes agent {@code name}, keeping an archive; refused while it has a live sandbox unless
     * {@code force} (which stops it). The CLI asks for confirmation before it sends this. Answered
     * with {@link ControlEvent.Done} (naming the archive) or {@link ControlEvent.Failure}.
     */
    record AgentsDelete(String name, boolean force) implements ControlRequest {}

    /**
     * A one-time login link to the dashboard for {@code user} ({@code web:NAME}; null for the owner,
     * {@code web:owner}). With {@code newToken}, also a new API token for that user, shown once.
     * Answered with {@link ControlEvent.DashboardLink} or {@link ControlEvent.Failure}.
     */
    record Dashboard(String user, boolean newToken) implements ControlRequest {}

    /** Answered with {@link ControlEvent.Stopping}; the daemon then drains and exits. */
    record Stop() implements ControlRequest {}

    /**
     * Join the terminal chat of {@code agent}: from now on this connection receives its live text
     * and replies. With {@code replayPending}, replies that arrived while no terminal was attached are
     * sent right away (an interactive chat wants them; a one-shot {@code send} does not).
     */
    record Attach(String agent, boolean replayPending) implements ControlRequest {
        public Attach {
            Objects.requireNonNull(agent, "agent");
        }
    }

    /**
     * A message typed by the owner. {@code clientMessageId} is unique per message; sending it again
     * (after a reconnect) does not store it twice. Answered with {@link ControlEvent.Accepted} once
     * stored.
     */
    record Say(String agent, String clientMessageId, String text) implements ControlRequest {
        public Say {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(clientMessageId, "clientMessageId");
            Objects.requireNonNull(text, "text");
        }
    }

    /** The terminal showed reply {@code outboundId}: the daemon may mark it delivered. */
    record ReplyAck(long outboundId) implements ControlRequest {}

    /**
     * Approvals: the pending ones, or with {@code all} the history (newest 200). Answered with {@link
     * ControlEvent.ApprovalListing}.
     */
    record ApprovalList(boolean all) implements ControlRequest {}

    /** One approval in full. Answered with {@link ControlEvent.ApprovalCard} or {@link ControlEvent.ApprovalProblem}. */
    record ApprovalShow(long id) implements ControlRequest {}

    /**
     * Grant pending approval {@code id} as the owner.
     *
     * @param scope {@code once}, {@code session} or {@code always}
     * @param maxUses 0 = no limit (once is always 1)
     * @param validForSeconds how long the grant keeps matching; 0 = until used up
     * @param reason optional
     */
    record ApprovalApprove(long id, String scope, int maxUses, long validForSeconds, String reason)
            implements ControlRequest {
        public ApprovalApprove {
            Objects.requireNonNull(scope, "scope");
        }
    }

    /** Deny pending approval {@code id} as the owner; {@code reason} (optional) is passed to the agent. */
    record ApprovalDeny(long id, String reason) implements ControlRequest {}

    /**
     * Users, roles, chats, senders and pairing (docs/access.md). Each is answered with one event: a
     * list, {@link ControlEvent.Done}, {@link ControlEvent.PairingCode}, or {@link
     * ControlEvent.Failure} saying what was refused and why. Changes are admin-only; the control
     * socket's user is {@code terminal:owner}.
     */
    sealed interface AccessRequest extends ControlRequest {}

    /** Answered with {@link ControlEvent.UserList}. */
    record UsersList() implements AccessRequest {}

    /** {@code agent} null grants globally. {@code user} is {@code channel:platformUserId}. */
    record UsersGrant(String user, String role, String agent) implements AccessRequest {
        public UsersGrant {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(role, "role");
        }
    }

    /** {@code agent} null revokes the global grant. */
    record UsersRevoke(String user, String role, String agent) implements AccessRequest {
        public UsersRevoke {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(role, "role");
        }
    }

    /** Answered with {@link ControlEvent.ChatList}. */
    record ChatsList() implements AccessRequest {}

    /** {@code chat} is {@code channel:platformChatId}; {@code policy} strict, approval or public. */
    record ChatsPolicy(String chat, String policy) implements AccessRequest {
        public ChatsPolicy {
            Objects.requireNonNull(chat, "chat");
            Objects.requireNonNull(policy, "policy");
        }
    }

    /** Answered with {@link ControlEvent.SenderList}. */
    record SendersList() implements AccessRequest {}

    record SendersAdmit(long request) implements AccessRequest {}

    record SendersRefuse(long request) implements AccessRequest {}

    /** Answered with {@link ControlEvent.PairingCode}. */
    record Pair(String agent) implements AccessRequest {
        public Pair {
            Objects.requireNonNull(agent, "agent");
        }
    }

    /**
     * Scheduled tasks (docs/tasks.md), as the owner ({@code terminal:owner}). Each is answered with
     * one event: {@link ControlEvent.TaskListing}, {@link ControlEvent.TaskDetail} (the task after a
     * change), or {@link ControlEvent.Failure} saying what is wrong.
     */
    sealed interface TaskRequest extends ControlRequest {}

    /** Every task, or only {@code agent}'s when not null. */
    record TasksList(String agent) implements TaskRequest {}

    /** One task with its newest {@code runs} history rows. */
    record TasksShow(long id, int runs) implements TaskRequest {}

    record TasksChange(long id, TaskChange change) implements TaskRequest {
        public TasksChange {
            Objects.requireNonNull(change, "change");
        }
    }

    /** What {@link TasksChange} does: {@code RUN_NOW} runs once now and changes no schedule. */
    enum TaskChange {
        PAUSE,
        RESUME,
        CANCEL,
        RUN_NOW
    }

    /**
     * Creates a task for {@code agent}.
     *
     * @param kind {@code at}, {@code every} or {@code cron}; {@code schedule} its text (docs/tasks.md)
     * @param zone an IANA zone id; null: UTC
     * @param chat the destination, {@code channel:platformChatId}; null: the agent's terminal chat
     * @param sessionMode {@code isolated} or {@code origin} (the destination chat's own session); null: isolated
     * @param catchUp {@code skip}, {@code once} or {@code all}; null: once
     */
    record TasksCreate(
            String agent,
            String kind,
            String schedule,
            String zone,
            String prompt,
            String chat,
            String sessionMode,
            String catchUp)
            implements TaskRequest {
        public TasksCreate {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(schedule, "schedule");
            Objects.requireNonNull(prompt, "prompt");
        }
    }
}
