package dev.cordon.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;

/**
 * A chat in a real terminal: JLine line editing, history in {@code HOME/history}, and replies that
 * arrive while the user types printed above the prompt instead of through it.
 */
final class TerminalChatIo implements ChatIo {
    private static final String PROMPT = "> ";

    private final Terminal terminal;
    private final LineReader reader;
    private final TerminalScreen screen;

    private TerminalChatIo(Terminal terminal, LineReader reader) {
        this.terminal = terminal;
        this.reader = reader;
        this.screen = new TerminalScreen(terminal, reader);
    }

    static TerminalChatIo open(Path home) {
        try {
            Terminal terminal = TerminalBuilder.builder().system(true).build();
            Path history = home.resolve("history");
            // What the owner typed to the agents: owner-only, like the rest of the home.
            if (!Files.exists(history)) {
                Files.createFile(
                        history, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            LineReader reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("cordon")
                    .variable(LineReader.HISTORY_FILE, history)
                    // "!" is ordinary text in a chat, not a history reference.
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                    .build();
            return new TerminalChatIo(terminal, reader);
        } catch (IOException e) {
            throw new CliException(Exit.SOFTWARE, "Cannot open the terminal: " + e.getMessage(), e);
        }
    }

    @Override
    public Screen screen() {
        return screen;
    }

    @Override
    public void info(String text) {
        screen.line(new AttributedString(text, AttributedStyle.DEFAULT.faint()));
    }

    @Override
    public String readLine() {
        try {
            return reader.readLine(PROMPT);
        } catch (UserInterruptException e) {
            return "";
        } catch (EndOfFileException e) {
            return null;
        }
    }

    @Override
    public void onInterrupt(Runnable action) {
        // Outside readLine the terminal is in normal mode and Ctrl-C raises SIGINT; readLine
        // installs its own handler while it reads and restores this one afterwards.
        terminal.handle(Terminal.Signal.INT, signal -> action.run());
    }

    @Override
    public void close() {
        try {
            reader.getHistory().save();
        } catch (IOException e) {
            // History is a convenience; losing the last lines of it is not worth an error.
        }
        try {
            terminal.close();
        } catch (IOException e) {
            // The process is ending; nothing to restore.
        }
    }

    static final class TerminalScreen implements Screen {
        private final Terminal terminal;
        private final LineReader reader;
        private boolean lineOpen;

        TerminalScreen(Terminal terminal, LineReader reader) {
            this.terminal = terminal;
            this.reader = reader;
        }

        @Override
        public void stream(String text) {
            PrintWriter writer = terminal.writer();
            writer.print(text);
            writer.flush();
            lineOpen = !text.endsWith("\n");
        }

        @Override
        public void endStream() {
            if (lineOpen) {
                terminal.writer().println();
                terminal.writer().flush();
                lineOpen = false;
            }
        }

        @Override
        public void reply(String text) {
            line(new AttributedString(text));
        }

        @Override
        public void failure(String text) {
            line(new AttributedString("error: " + text, AttributedStyle.DEFAULT.foreground(AttributedStyle.RED)));
        }

        @Override
        public void note(String text) {
            line(new AttributedString(text, AttributedStyle.DEFAULT.faint()));
        }

        void line(AttributedString text) {
            if (reader.isReading()) {
                reader.printAbove(text);
                return;
            }
            endStream();
            terminal.writer().println(text.toAnsi(terminal));
            terminal.writer().flush();
        }
    }
}
