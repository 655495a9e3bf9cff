package dev.cordon.core.audit;

/**
 * The audit log cannot do its job: its key file is missing, damaged or too open, or an append could
 * not be written (the cause is then the store's exception).
 */
public final class AuditException extends RuntimeException {
    public AuditException(String message) {
        super(message);
    }

    public AuditException(String message, Throwable cause) {
        super(message, cause);
    }
}
