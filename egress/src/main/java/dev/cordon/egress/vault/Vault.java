package dev.cordon.egress.vault;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The host's secrets (invariant 4: no secret ever enters a sandbox). A secret is stored encrypted
 * (AES-256-GCM, its name bound in as associated data) under a key file beside it, both readable by
 * the daemon's user only, and is bound to the endpoints it may be sent to. An agent only ever sees
 * its placeholder, {@code cordon-secret-NAME}; the egress proxy puts the value in its place on a
 * request to a bound endpoint, and refuses the placeholder anywhere else.
 *
 * <p>Thread-safe within one process; writes replace the file atomically, so a reader in another
 * process (the daemon, while {@code cordon secret set} runs) sees the old or the new file, never half.
 */
public interface Vault {
    /** Secret names: upper case, digits and underscores, as environment variables are named. */
    Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");

    /** What an agent holds in place of a secret's value. */
    static String placeholder(String name) {
        return "cordon-secret-" + name;
    }

    /** The placeholders inside a piece of text; group 1 is the name. */
    Pattern PLACEHOLDER = Pattern.compile("cordon-secret-([A-Z][A-Z0-9_]{0,63})");

    /**
     * Where a secret may go: requests to {@code host} (exact) whose path starts with {@code
     * pathPrefix}, in the named {@code header} or {@code query} parameter (exactly one of them).
     */
    record Binding(String host, String pathPrefix, String header, String query) {
        public Binding {
            Objects.requireNonNull(host, "host");
            host = host.strip().toLowerCase(Locale.ROOT);
            if (host.isEmpty() || host.contains("*") || host.contains("/")) {
                throw new IllegalArgumentException("a binding's host must be one exact host name, not '" + host + "'");
            }
            pathPrefix = pathPrefix == null || pathPrefix.isBlank() ? "/" : pathPrefix.strip();
            if (!pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException(
                        "a binding's path prefix must start with /, not '" + pathPrefix + "'");
            }
            if ((header == null) == (query == null)) {
                throw new IllegalArgumentException("a binding names exactly one header or one query parameter");
            }
        }

        /** {@code header Authorization to api.github.com/repos}, for messages. */
        public String describe() {
            return (header != null ? "header " + header : "query parameter " + query) + " to " + host
                    + (pathPrefix.equals("/") ? "" : pathPrefix);
        }
    }

    /** A secret without its value. */
    record Entry(String name, List<Binding> bindings, Instant updated) {}

    /**
     * Opens the vault in {@code file}, with its key in {@code keyFile}. Neither need exist yet:
     * both are made (0600) by the first {@link #put}.
     */
    static Vault open(Path file, Path keyFile) {
        return new FileVault(file, keyFile, java.time.Clock.systemUTC());
    }

    /**
     * Stores {@code value} under {@code name} with its bindings, replacing any earlier one. No
     * bindings make a host-only secret: the daemon itself reads it (a channel's password, a
     * PostgreSQL store's password), the egress proxy sends it nowhere, and the data-loss guard still
     * looks for it.
     *
     * @throws IllegalArgumentException for a bad name or an empty value
     * @throws VaultException if the vault or its key cannot be read or written
     */
    void put(String name, byte[] value, List<Binding> bindings);

    /** Removes {@code name}; whether it was there. */
    boolean remove(String name);

    /** Every secret, by name, without values. */
    List<Entry> list();

    Optional<Entry> entry(String name);

    /** The value of {@code name}, decrypted: for the egress proxy and the data-loss guard only. */
    Optional<byte[]> reveal(String name);

    /** Every value, decrypted, by name (for the data-loss guard, which looks for them in outgoing text). */
    Map<String, byte[]> revealAll();
}
