package dev.cordon.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A chat without a terminal: one message per line from stdin, replies and notes on stdout, the
 * banner on stderr so that {@code cordon chat < questions.txt > answers.txt} keeps answers clean.
 */
final class PlainChatIo implements ChatIo {
    private final BufferedReader in;
    private final PrintStream err;
    private final PlainScreen screen;

    PlainChatIo(Context ctx) {
        this.in = new BufferedReader(new InputStreamReader(ctx.in(), StandardCharsets.UTF_8));
        this.err = ctx.err();
        this.screen = new PlainScreen(ctx.out());
    }

    @Override
    public Screen screen() {
        return screen;
    }

    @Override
    public void info(String text) {
        err.println(text);
    }

    @Override
    public String readLine() {
        try {
            return in.readLine();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read stdin", e);
        }
    }

    @Override
    public void onInterrupt(Runnable action) {
        // Without a terminal, Ctrl-C ends the process as usual.
    }

    @Override
    public void close() {}

    /** Lines to a stream, keeping track of whether a streamed reply left a line open. */
    static final class PlainScreen implements Screen {
        private final PrintStream out;
        private boolean lineOpen;

        PlainScreen(PrintStream out) {
            this.out = out;
        }

        @Override
        public void stream(String text) {
            out.print(text);
            out.flush();
            lineOpen = !text.endsWith("\n");
        }

        @Override
        public void endStream() {
            closeLine();
            out.flush();
        }

        @Override
        public void reply(String text) {
            line(text);
        }

        @Override
        public void failure(String text) {
            line("error: " + text);
        }

        @Override
        public void note(String text) {
            line(text);
        }

        private void line(String text) {
            closeLine();
            out.println(text);
            out.flush();
        }

        private void closeLine() {
            if (lineOpen) {
                out.println();
                lineOpen = false;
            }
        }
    }
}
