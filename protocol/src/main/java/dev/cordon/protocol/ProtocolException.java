package dev.cordon.protocol;

/** A frame or message that breaks the wire contract: the peer is buggy or hostile. */
public final class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
