package dev.cordon.egress.vault;

/** The vault or its key could not be read, decrypted or written; the message says which file and what to do. */
public final class VaultException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VaultException(String message) {
        super(message);
    }

    public VaultException(String message, Throwable cause) {
        super(message, cause);
    }
}
