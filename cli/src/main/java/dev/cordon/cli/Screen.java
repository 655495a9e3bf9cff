package dev.cordon.cli;

/** Where a chat's output goes. Calls come from one thread at a time (the {@link ChatView} lock). */
interface Screen {
    /** Part of a reply as it is being written: no line break added. */
    void stream(String text);

    /** The streamed reply is complete: end its line. */
    void endStream();

    /** A whole reply, on lines of its own (above the prompt if the user is typing). */
    void reply(String text);

    /** A failed reply or refused request: visibly, with an {@code error:} prefix. */
    void failure(String text);

    /** Cordon's own remark, such as {@code [retrying: overloaded]}, on a line of its own. */
    void note(String text);
}
