package dev.cordon.cli;

/**
 * The exit codes of {@code cordon}, for scripts. Listed in {@code cordon --help} and cli/README.md;
 * change all three together.
 */
final class Exit {
    static final int OK = 0;
    /** {@code send}: the agent's turn failed; its reply (the reason) went to stderr. */
    static final int REPLY_FAILED = 1;
    /** No model is configured: the message says what to set. */
    static final int NO_MODEL = 2;
    /** {@code send}: no reply within {@code --timeout}; {@code status}: the daemon is not running. */
    static final int TIMEOUT = 3;
    /** {@code status}: the daemon is not running. */
    static final int NOT_RUNNING = 3;
    /** The daemon could not be started or reached, or refused the request. */
    static final int UNREACHABLE = 4;
    /** {@code approvals}: there is no approval with that number. */
    static final int NO_SUCH_APPROVAL = 6;
    /** {@code approvals approve|deny}: it was decided before. */
    static final int ALREADY_DECIDED = 7;
    /** {@code approvals approve|deny}: nobody answered in time, so it was denied as expired. */
    static final int EXPIRED = 8;
    /** The command line is wrong. */
    static final int USAGE = 64;
    /** A bug in cordon itself (the stack trace is printed). */
    static final int SOFTWARE = 70;

    private Exit() {}
}
