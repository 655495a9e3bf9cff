package dev.cordon.server;

/** An HTTP API request refused with {@code status}; {@code getMessage()} says why and what to do. */
final class WebException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    WebException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
