package dev.cordon.protocol.control;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/** What the daemon sends to a {@code cordon} command over the control socket. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ControlEvent.StatusReport.class, name = "status_report"),
    @JsonSubTypes.Type(value = ControlEvent.SessionListing.class, name = "session_listing"),
    @JsonSubTypes.Type(value = ControlEvent.AgentListing.class, name = "agent_listing"),
    @JsonSubTypes.Type(value = ControlEvent.Stopping.class, name = "stopping"),
    @JsonSubTypes.Type(value = ControlEvent.Attached.class, name = "attached"),
    @JsonSubTypes.Type(value = ControlEvent.Accepted.class, name = "accepted"),
    @JsonSubTypes.Type(value = ControlEvent.Delta.class, name = "delta"),
    @JsonSubTypes.Type(value = ControlEvent.Reset.class, name = "reset"),
    @JsonSubTypes.Type(value = ControlEvent.Reply.class, name = "reply"),
    @JsonSubTypes.Type(value = ControlEvent.Failure.class, name = "failure"),
    @JsonSubTypes.Type(value = ControlEvent.Notice.class, name = "notice"),
    @JsonSubTypes.Type(value = ControlEvent.ApprovalListing.class, name = "approval_listing"),
    @JsonSubTypes.Type(value = ControlEvent.ApprovalCard.class, name = "approval_card"),
    @JsonSubTypes.Type(value = ControlEvent.ApprovalRequested.class, name = "approval_requested"),
    @JsonSubTypes.Type(value = ControlEvent.ApprovalDecided.class, name = "approval_decided"),
    @JsonSubTypes.Type(value = ControlEvent.ApprovalProblem.class, name = "approval_problem"),
    @JsonSubTypes.Type(value = ControlEvent.UserList.class, name = "user_list"),
    @JsonSubTypes.Type(value = ControlEvent.ChatList.class, name = "chat_list"),
    @JsonSubTypes.Type(value = ControlEvent.SenderList.class, name = "sender_list"),
    @JsonSubTypes.Type(value = ControlEvent.PairingCode.class, name = "pairing_code"),
    @JsonSubTypes.Type(value = ControlEvent.Done.class, name = "done"),
    @JsonSubTypes.Type(value = ControlEvent.DashboardLink.class, name = "dashboard_link"),
    @JsonSubTypes.Type(value = ControlEvent.TaskListing.class, name = "task_listing"),
    @JsonSubTypes.Type(value = ControlEvent.TaskDetail.class, name = "task_detail")
})
public sealed interface ControlEvent {

    /**
     * The daemon's state. {@code modelProblem} is null when a model is configured, else the
     * explanation of what to set. {@code pendingMessages} counts the sessions that have messages
     * waiting for a turn. {@code sandboxes} lists the live ones with their resource use. {@code
     * files} and {@code fileBytes} are what the home's file vault holds now (-1: unreadable), {@code
     * fileKeepDays} how long a file stays once no message needs it, in days (0: for ever). {@code
     * dashboard} is the web dashboard's address, null when {@code http:} does not enable it.
     */
    record StatusReport(
            String version,
            long pid,
            String home,
            long uptimeMillis,
            String model,
            String modelProblem,
            String sandbox,
            List<String> agents,
            int liveSandboxes,
            int pendingMessages,
            int undeliveredReplies,
            List<LiveSandbox> sandboxes,
            long files,
            long fileBytes,
            int fileKeepDays,
            String dashboard)
            implements ControlEvent {
        public StatusReport {
            sandboxes = sandboxes == null ? List.of() : List.copyOf(sandboxes);
        }
    }

    /**
     * One live sandbox. A usage figure is -1 when the backend cannot tell.
     *
     * @param cpuMillis CPU time used so far, user plus system, by everything that ran in it
     * @param pidsLimitHits forks refused because it was at its process limit
     */
    record LiveSandbox(
            String agent,
            long session,
            String sandboxId,
            long memoryBytes,
            long memoryPeakBytes,
            long pids,
            long cpuMillis,
            long pidsLimitHits) {}

    /**
     * The sessions, for {@code cordon sessions list}, and this daemon's admission control's state.
     * With several replicas on PostgreSQL the sessions are every replica's and {@code replicas} lists
     * them; with one daemon it is empty.
     *
     * @param committedBytes memory limits of the live sandboxes, summed as admission counts them
     */
    record SessionListing(
            List<SessionRow> sessions,
            int live,
            int maxLive,
            long committedBytes,
            long maxMemoryBytes,
            List<ReplicaRow> replicas)
            implements ControlEvent {
        public SessionListing {
            sessions = List.copyOf(sessions);
            replicas = replicas == null ? List.of() : List.copyOf(replicas);
        }

        /** One daemon: no replicas to list. */
        public SessionListing(
                List<SessionRow> sessions, int live, int maxLive, long committedBytes, long maxMemoryBytes) {
            this(sessions, live, maxLive, committedBytes, maxMemoryBytes, List.of());
        }
    }

    /**
     * One daemon replica on the shared PostgreSQL.
     *
     * @param self whether it is the daemon that answered
     * @param heartbeatAgeMillis how long ago its last heartbeat was stored (above 5 s: it is dead, and a
     *     survivor is about to take it over)
     * @param channels the channel connections it holds
     * @param sessions how many sessions it holds (runs)
     */
    record ReplicaRow(
            String name,
            boolean self,
            long startedAtMillis,
            long heartbeatAgeMillis,
            List<String> channels,
            int sessions) {
        public ReplicaRow {
            channels = List.copyOf(channels);
        }
    }

    /** Every agent, by name. */
    record AgentListing(List<AgentRow> agents) implements ControlEvent {
        public AgentListing {
            agents = List.copyOf(agents);
        }
    }

    /**
     * One agent.
     *
     * @param folder its folder on the host ({@code AGENTS.md}, {@code policy.yaml}, {@code workspace/})
     * @param policy "defaults" without a policy file, "valid", or why the file is invalid
     * @param memoryBytes the size of its {@code workspace/MEMORY.md}, -1 without one
     */
    record AgentRow(String name, String folder, int liveSessions, int sessions, String policy, long memoryBytes) {}

    /**
     * One session. Usage figures are -1 when not live or unknown.
     *
     * @param state {@code busy} (live, in a turn), {@code idle} (live, between turns), {@code
     *     queued} (waiting for a sandbox slot), {@code hibernated}, or {@code live} (running on
     *     another replica, whose usage this daemon cannot see)
     * @param replica the replica that runs it (several replicas only), else null
     * @param heartbeatAgeMillis how long ago that replica's last heartbeat was stored, -1 without one
     */
    record SessionRow(
            long session,
            String agent,
            String chat,
            String state,
            String sandboxId,
            long memoryBytes,
            long pids,
            long cpuMillis,
            String replica,
            long heartbeatAgeMillis) {}

    record Stopping() implements ControlEvent {}

    /**
     * The dashboard's address and a one-time login link for {@code user} (valid a few minutes).
     * {@code token} is a new API token (sent as {@code Authorization: Bearer}), present only when one
     * was just created: only its hash is kept, so it is shown this once.
     */
    record DashboardLink(String url, String loginUrl, String user, String token) implements ControlEvent {}

    /** The attach succeeded; {@code pendingReplies} of them follow as {@link Reply} if replay was asked. */
    record Attached(String agent, int pendingReplies) implements ControlEvent {}

    /** The message with this client id is stored (durable) as inbound {@code inboundId}. */
    record Accepted(String clientMessageId, long inboundId) implements ControlEvent {}

    /** Live assistant text for the attached agent, not yet final. */
    record Delta(String agent, String text) implements ControlEvent {}

    /** The model stream restarted: text shown since the last reply or reset is void. */
    record Reset(String agent, String reason) implements ControlEvent {}

    /**
     * A final reply. {@code inReplyTo} is the inbound id it answers (0 if none); {@code failed}
     * marks a turn that failed, with {@code text} saying why. Acknowledge with {@code ReplyAck}.
     */
    record Reply(long outboundId, String agent, long inReplyTo, String text, boolean failed) implements ControlEvent {}

    /** A request failed; {@code message} says what and what to do. */
    record Failure(String message) implements ControlEvent {}

    /**
     * Something the owner of {@code agent} should know that is not a reply (a budget warning, an
     * exhausted budget), pushed to the terminals attached to that agent.
     */
    record Notice(String agent, String message) implements ControlEvent {}

    /** The approvals asked for, oldest first. */
    record ApprovalListing(List<ApprovalView> approvals) implements ControlEvent {
        public ApprovalListing {
            approvals = approvals == null ? List.of() : List.copyOf(approvals);
        }
    }

    /** One approval in full: the answer to {@code ApprovalShow}. */
    record ApprovalCard(ApprovalView approval) implements ControlEvent {}

    /**
     * A new approval request of the attached agent, pushed to every terminal attached to its chat:
     * show it as a card with the commands to answer it.
     */
    record ApprovalRequested(ApprovalView approval) implements ControlEvent {}

    /**
     * An approval was decided: the answer to {@code ApprovalApprove} / {@code ApprovalDeny}, and pushed
     * to the terminals attached to the agent's chat. {@code message} says what happened in words.
     */
    record ApprovalDecided(ApprovalView approval, String message) implements ControlEvent {}

    /**
     * An approval request could not be done. {@code problem}: {@code unknown} (no such id), {@code
     * already_decided}, {@code expired}, {@code not_approver}, or {@code invalid} (a bad argument);
     * {@code message} says what and what to do.
     */
    record ApprovalProblem(long id, String problem, String message) implements ControlEvent {}

    /** The answers to {@link ControlRequest.AccessRequest}s (docs/access.md). */
    sealed interface AccessAnswer extends ControlEvent {}

    /** Every role grant. {@code agent} null: global; {@code grantedBy} "built-in" for terminal:owner. */
    record UserList(List<UserRow> users) implements AccessAnswer {
        public UserList {
            users = users == null ? List.of() : List.copyOf(users);
        }
    }

    record UserRow(String user, String role, String agent, String grantedBy, long grantedAtMillis) {}

    /** Every chat. {@code agent} null: not wired. */
    record ChatList(List<ChatRow> chats) implements AccessAnswer {
        public ChatList {
            chats = chats == null ? List.of() : List.copyOf(chats);
        }
    }

    record ChatRow(String chat, String agent, String senderPolicy) {}

    /** Every sender request, oldest first. */
    record SenderList(List<SenderRow> senders) implements AccessAnswer {
        public SenderList {
            senders = senders == null ? List.of() : List.copyOf(senders);
        }
    }

    /**
     * @param state pending, admitted or refused
     * @param held messages held now (pending requests only)
     * @param decidedBy null while pending
     */
    record SenderRow(
            long id,
            String sender,
            String chat,
            String agent,
            String state,
            int held,
            long createdAtMillis,
            String decidedBy) {}

    /** A one-time code: sent as a message from an unwired chat, it wires that chat to {@code agent}. */
    record PairingCode(String agent, String code, long expiresAtMillis) implements AccessAnswer {}

    /** A change was made (and audited); {@code message} says what. */
    record Done(String message) implements AccessAnswer {}

    /** Scheduled tasks, oldest first. */
    record TaskListing(List<TaskRow> tasks) implements ControlEvent {
        public TaskListing {
            tasks = tasks == null ? List.of() : List.copyOf(tasks);
        }
    }

    /**
     * One task and its newest runs (newest first); {@code message} says what a change did, or null.
     */
    record TaskDetail(TaskRow task, List<TaskRunRow> runs, String message) implements ControlEvent {
        public TaskDetail {
            runs = runs == null ? List.of() : List.copyOf(runs);
        }
    }

    /**
     * @param schedule kind and text: {@code cron 0 9 * * 1-5}
     * @param destination {@code channel:platformChatId}
     * @param state {@code active}, {@code done} or {@code cancelled}
     * @param nextRunMillis -1 when none
     * @param createdBy {@code user:terminal:owner} or {@code agent:NAME}
     */
    record TaskRow(
            long id,
            String agent,
            String prompt,
            String schedule,
            String zone,
            String destination,
            String sessionMode,
            String catchUp,
            boolean paused,
            String state,
            long nextRunMillis,
            String createdBy,
            long createdAtMillis) {}

    /**
     * @param status queued, running, ok, failed or skipped
     * @param startedAtMillis -1 before its turn started; {@code durationMillis} -1 before it ended
     * @param error the failed turn's message, or null
     * @param skipped runs this row stands for without running them
     */
    record TaskRunRow(
            long id,
            long dueMillis,
            String status,
            long firedAtMillis,
            long startedAtMillis,
            long durationMillis,
            String error,
            int skipped,
            boolean manual) {}
}
