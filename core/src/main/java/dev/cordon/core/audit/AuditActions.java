package dev.cordon.core.audit;

/**
 * The action names Cordon logs, so callers do not spell them by hand. The set is open: a new kind
 * of event gets a new constant here and a line in {@code docs/audit.md}.
 */
public final class AuditActions {
    public static final String INBOUND_ACCEPTED = "inbound.accepted";
    public static final String INBOUND_DROPPED = "inbound.dropped";
    /**
     * A file a person sent did not reach the host (rule {@code files.max_mb} when too large; reason:
     * what the agent reads; details: inbound, name, media_type, size). Its message was stored.
     */
    public static final String INBOUND_FILE_MISSED = "inbound.file_missed";

    public static final String ROUTING = "routing.decision";
    public static final String SANDBOX_START = "sandbox.start";
    public static final String SANDBOX_STOP = "sandbox.stop";
    public static final String SANDBOX_KILL = "sandbox.kill";
    public static final String HOST_RPC = "host.rpc";
    public static final String EGRESS_ALLOW = "egress.allow";
    public static final String EGRESS_DENY = "egress.deny";
    public static final String MODEL_CALL = "model.call";
    /** A model call took an agent's spending across its budget's warning share (rule: the limit). */
    public static final String BUDGET_WARNING = "budget.warning";
    /** The first model call of a period that a budget refused (rule: the limit); later ones are model.call denies. */
    public static final String BUDGET_EXHAUSTED = "budget.exhausted";

    public static final String APPROVAL_REQUEST = "approval.request";
    /** A counted answer (actor: the approver; allow = granted, deny = denied). */
    public static final String APPROVAL_ANSWER = "approval.answer";
    /** An answer from someone who may not approve for the agent: ignored. */
    public static final String APPROVAL_IGNORED = "approval.ignored";
    /** Nobody answered a request in time: denied. */
    public static final String APPROVAL_EXPIRE = "approval.expire";
    /** An existing grant decided a request without asking (one use counted). */
    public static final String APPROVAL_USE = "approval.use";
    /** A runner's approval request was malformed and refused without asking anyone. */
    public static final String APPROVAL_INVALID = "approval.invalid";

    public static final String POLICY_CHANGE = "policy.change";
    public static final String CONFIG_CHANGE = "config.change";
    public static final String DELIVERY = "delivery";
    /** A browser logged in to the dashboard with a one-time link (actor: the web user). */
    public static final String WEB_LOGIN = "web.login";
    /** A browser session ended by its user. */
    public static final String WEB_LOGOUT = "web.logout";
    /** A logged-in web user's change was refused (role, CSRF): what, and why. */
    public static final String WEB_DENIED = "web.denied";
    /** A dashboard login link or API token was issued (actor: who asked; details: for whom, never the secret). */
    public static final String WEB_CREDENTIAL = "web.credential";
    /** A web user edited an agent's AGENTS.md or memory (details: file, bytes, sha256, previous_sha256). */
    public static final String AGENT_EDIT = "agent.edit";
    /** A web user proposed an egress rule from a denied request: an egress.connect approval (details: host, port, from, approval). */
    public static final String EGRESS_PROPOSE = "egress.propose";
    /** The daemon started or stopped serving (actor: system {@code daemon}). */
    public static final String DAEMON_START = "daemon.start";

    public static final String DAEMON_STOP = "daemon.stop";
    /** A turn ended: its token usage (the runner's count), whether it failed. */
    public static final String TURN_END = "turn.end";
    /** A turn's sandbox died or hung under it: the turn starts over in a fresh one (details: attempt). */
    public static final String TURN_RETRY = "turn.retry";
    /** A resource limit stopped something inside a sandbox (details: which limit, how often). */
    public static final String LIMIT_HIT = "limit.hit";

    /** A message from a sender without a role was held under a sender request (sender policy approval). */
    public static final String INBOUND_HELD = "inbound.held";
    /** A sender without a role asked to talk to an agent: a new sender request (its first held message). */
    public static final String ACCESS_REQUEST = "access.request";
    /** An admin admitted a held sender; their held messages follow as inbound.accepted. */
    public static final String ACCESS_ADMIT = "access.admit";
    /** An admin refused a held sender; their held messages follow as inbound.dropped. */
    public static final String ACCESS_REFUSE = "access.refuse";
    /** A role was granted (details: user, role, scope). */
    public static final String ROLE_GRANT = "role.grant";

    public static final String ROLE_REVOKE = "role.revoke";
    /** A chat's sender policy changed (details: chat, before, after). */
    public static final String CHAT_POLICY = "chat.policy";
    /** A pairing code was issued (never the code itself; details: expires_at). */
    public static final String PAIRING_CREATE = "pairing.create";
    /** A pairing code was used: its chat is wired to the code's agent. */
    public static final String PAIRING_CLAIM = "pairing.claim";
    /** A session's older turns were summarized (details: turn, messages_summarized, tokens_before/after). */
    public static final String SESSION_COMPACT = "session.compact";
    /** A chat's {@code /new} started its session's conversation anew (details: turn, messages_before). */
    public static final String SESSION_RESET = "session.reset";
    /** The owner created an agent (details: folder). */
    public static final String AGENT_CREATE = "agent.create";
    /**
     * The owner deleted an agent (details: archive, sessions, transcripts, unwired_chats,
     * closed_messages, cancelled_tasks, stopped_sandboxes, shares_removed).
     */
    public static final String AGENT_DELETE = "agent.delete";
    /** A scheduled task was created (details: task, schedule, zone, destination, session_mode, catch_up). */
    public static final String TASK_CREATE = "task.create";
    /** A task's run was put in its session (details: task, run, inbound, due, late_ms, manual). */
    public static final String TASK_RUN = "task.run";
    /** Runs that fell due while the daemon was down were skipped by the catch-up policy (details: count). */
    public static final String TASK_SKIP = "task.skip";
    /** A task was paused. */
    public static final String TASK_PAUSE = "task.pause";
    /** A task was resumed (details: next_run). */
    public static final String TASK_RESUME = "task.resume";
    /** A task was cancelled. */
    public static final String TASK_CANCEL = "task.cancel";
    /** A request to create, list or change a task was refused (an agent's tool policy, another agent's task). */
    public static final String TASK_DENY = "task.deny";

    /** An agent's send_message was stored for delivery (details: to, channel, chat, outbound, hops). */
    public static final String MESSAGE_SEND = "message.send";
    /** An agent's send_message was refused (rule: destinations, messages.max_hops, messages.per_turn). */
    public static final String MESSAGE_DENY = "message.deny";
    /**
     * An agent's send_file was stored for delivery (details: to, channel, chat, outbound, name, size,
     * sha256, media_type, path; redacted: the secret kinds the data-loss guard replaced). A refused
     * one is {@link #MESSAGE_DENY} with rule {@code files}.
     */
    public static final String FILE_SEND = "file.send";
    /** The host handed one agent's message (or reply) to another agent's session (details: from, to, hops). */
    public static final String AGENT_MESSAGE = "agent.message";
    /** An agent's ask_user question was put in the outbox (details: options). */
    public static final String USER_QUESTION = "user.question";
    /** A person answered an ask_user question (details: inbound, option), or nobody did in time (deny). */
    public static final String USER_ANSWER = "user.answer";
    /** An admin let one agent read another's workspace folder (details: owner, folder, reader). */
    public static final String SHARE_GRANT = "share.grant";
    /** An admin took a shared folder back; it is gone from the reader's next sandbox. */
    public static final String SHARE_REVOKE = "share.revoke";

    private AuditActions() {}
}
