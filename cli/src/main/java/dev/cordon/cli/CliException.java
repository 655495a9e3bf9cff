package dev.cordon.cli;

/**
 * Ends the command with {@link #exitCode()} after printing {@link #getMessage()} to stderr (no stack
 * trace: the message is written for the user and says what to do).
 */
final class CliException extends RuntimeException {
    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
