package dev.cordon.server;

/** The configuration is invalid; the message names the file, the field and the reason. */
final class ConfigException extends RuntimeException {
    ConfigException(String message) {
        super(message);
    }
}
