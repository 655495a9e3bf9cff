package dev.cordon.protocol;

/** Who said a message in a conversation. Tool results travel in {@link #USER} messages. */
public enum Role {
    USER,
    ASSISTANT
}
