package dev.cordon.core.store;

/** The store could not do its job (disk, database, migration). The transaction was rolled back. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
