package dev.cordon.sandbox.mounts;

import java.util.Locale;
import java.util.Objects;

/**
 * A mount allowlist entry or a mount request was refused. The message names the path, the reason,
 * the {@link Rule} (as {@code (rule: credentials)}) and what to do instead, and is meant to be shown
 * to the operator as is.
 */
public final class MountException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Which rule refused; the lower-case {@link #label()} appears in every message. */
    public enum Rule {
        /** An allowlist entry is malformed: not absolute, missing, not a directory, listed twice, nested. */
        ENTRY,
        /** An allowlist entry is, or is inside, a host system directory. */
        SYSTEM_PATH,
        /** An allowlist entry is inside, or contains, the Cordon home. */
        CORDON_HOME,
        /** A requested host path is not absolute, does not exist, or is not a directory or regular file. */
        HOST_PATH,
        /** A requested host path (after resolving every symlink) is not under any allowlist entry. */
        ALLOWLIST,
        /** A path is, or holds at its top level, something named like a credential. */
        CREDENTIALS,
        /** A target is not a normal absolute path, or shadows a path the sandbox needs or another mount. */
        TARGET,
        /** Read-write was asked for, and the allowlist entry, the agent's policy, or both said no. */
        READ_WRITE;

        /** {@code system-path}, {@code read-write}, …: the name used in messages and docs. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Rule rule;

    MountException(Rule rule, String message) {
        super(message);
        this.rule = Objects.requireNonNull(rule, "rule");
    }

    /** The rule that refused. */
    public Rule rule() {
        return rule;
    }
}
