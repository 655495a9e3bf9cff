package dev.cordon.egress.proxy;

/** A request the proxy refuses before any decision: answered with {@code status} and the message. */
final class ProxyException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;

    ProxyException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
