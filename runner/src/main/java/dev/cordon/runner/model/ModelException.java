package dev.cordon.runner.model;

/**
 * A model call failed for good: retries are exhausted or the error is not retryable. The message
 * is fit to show the user (it names the provider's error type and message, never the request).
 */
public final class ModelException extends RuntimeException {
    private final int status;

    public ModelException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status of the last attempt, or 0 if there was no response. */
    public int status() {
        return status;
    }
}
