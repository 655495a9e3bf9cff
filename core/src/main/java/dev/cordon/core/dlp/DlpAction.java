package dev.cordon.core.dlp;

/**
 * What the data-loss guard does with something that carries a secret: an agent's policy chooses,
 * separately for outbound requests and for chat replies ({@code dlp:} in policy.yaml).
 */
public enum DlpAction {
    /** Stop it: a request gets a 403; a reply is withheld and a notice sent in its place. */
    BLOCK,
    /** Send it with each secret replaced by {@code [redacted: KIND]}. */
    REDACT;

    /** The word policy.yaml uses. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The defaults: requests blocked, replies redacted. */
    public static final DlpAction REQUESTS_DEFAULT = BLOCK;

    public static final DlpAction REPLIES_DEFAULT = REDACT;
}
