package dev.cordon.cli;

/** The user's side of a chat: where lines come from and where output goes. */
interface ChatIo extends AutoCloseable {
    Screen screen();

    /** Cordon's own messages (the banner). */
    void info(String text);

    /**
     * Blocks for the next line the user typed.
     *
     * @return the line; an empty line if the user pressed Ctrl-C at the prompt; null at the end of
     *     input (Ctrl-D)
     */
    String readLine();

    /** Runs {@code action} when the user presses Ctrl-C while no line is being read. */
    void onInterrupt(Runnable action);

    @Override
    void close();
}
