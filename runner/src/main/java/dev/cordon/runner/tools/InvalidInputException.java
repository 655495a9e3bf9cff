package dev.cordon.runner.tools;

/** The model's arguments cannot be used; the message is shown to the model as it stands. */
final class InvalidInputException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidInputException(String message) {
        super(message);
    }

    ToolOutput toOutput() {
        return ToolOutput.error(getMessage());
    }
}
