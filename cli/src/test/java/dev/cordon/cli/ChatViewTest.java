package dev.cordon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.cli.ChatView.TurnEnd;
import dev.cordon.protocol.control.ControlEvent.Accepted;
import dev.cordon.protocol.control.ControlEvent.Delta;
import dev.cordon.protocol.control.ControlEvent.Failure;
import dev.cordon.protocol.control.ControlEvent.Reply;
import dev.cordon.protocol.control.ControlEvent.Reset;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the user sees in a terminal chat, including the Ctrl-C paths the in-process CLI tests cannot reach. */
class ChatViewTest {
    @TempDir
    Path home;

    private FakeDaemon daemon;
    private ControlConnection connection;
    private final List<String> screen = new CopyOnWriteArrayList<>();
    private ChatView view;

    @BeforeEach
    void attach() throws IOException {
        daemon = new FakeDaemon(home);
        connection = ControlConnection.open(home.resolve("run/control.sock"));
        view = new ChatView("main", connection, new RecordingScreen(), 0);
    }

    @AfterEach
    void close() throws IOException {
        connection.close();
        daemon.close();
    }

    @Test
    void replyWatchedFromItsFirstDeltaIsStreamedAndOnlyEndsTheLine() throws Exception {
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");
        view.handle(new Accepted("c1", 5));
        view.handle(new Delta("main", "Hel"));
        view.handle(new Delta("main", "lo"));
        view.handle(new Reply(9, "main", 5, "Hello", false));

        assertThat(turn).isCompletedWithValue(TurnEnd.ANSWERED);
        assertThat(screen).containsExactly("stream:Hel", "stream:lo", "end");
        awaitAcks(List.of(9L));
    }

    @Test
    void afterCtrlCTheRestIsNotStreamedAndTheWholeReplyIsPrintedWhenItComes() throws Exception {
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");
        view.handle(new Accepted("c1", 5));
        view.handle(new Delta("main", "Hel"));

        view.stopWaiting();
        view.handle(new Delta("main", "lo"));
        view.handle(new Reply(9, "main", 5, "Hello", false));

        assertThat(turn).isCompletedWithValue(TurnEnd.STOPPED_WAITING);
        assertThat(screen).containsExactly("stream:Hel", "end", "reply:Hello");
        awaitAcks(List.of(9L));
    }

    @Test
    void replyWhoseStartWasMissedIsPrintedWhole() {
        view.handle(new Delta("main", "someone else's turn, already under way"));
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");
        view.handle(new Accepted("c1", 6));
        view.handle(new Delta("main", " and done"));
        view.handle(new Reply(10, "main", 3, "someone else's turn, already under way and done", false));
        view.handle(new Delta("main", "mine"));
        view.handle(new Reply(11, "main", 6, "mine", false));

        assertThat(turn).isCompletedWithValue(TurnEnd.ANSWERED);
        assertThat(screen)
                .containsExactly("reply:someone else's turn, already under way and done", "stream:mine", "end");
    }

    @Test
    void resetVoidsTheStreamedTextWithANote() {
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");
        view.handle(new Accepted("c1", 5));
        view.handle(new Delta("main", "Hel"));
        view.handle(new Reset("main", "overloaded"));
        view.handle(new Delta("main", "Hello"));
        view.handle(new Reply(9, "main", 5, "Hello", false));

        assertThat(screen).containsExactly("stream:Hel", "end", "note:[retrying: overloaded]", "stream:Hello", "end");
    }

    @Test
    void failureBeforeAcceptanceEndsTheTurnAsRefused() {
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");
        view.handle(new Failure("no agent named 'main'"));

        assertThat(turn).isCompletedWithValue(TurnEnd.REFUSED);
        assertThat(screen).containsExactly("failure:no agent named 'main'");
    }

    @Test
    void otherAgentsEventsAreIgnoredAndNotAcknowledged() throws Exception {
        view.handle(new Delta("research", "x"));
        view.handle(new Reply(12, "research", 1, "x", false));
        view.handle(new Reply(13, "main", 2, "y", false));

        assertThat(screen).containsExactly("reply:y");
        awaitAcks(List.of(13L));
    }

    @Test
    void theDaemonGoingAwayEndsTheWaitAndIsSaid() throws Exception {
        Thread dispatcher = Thread.ofVirtual().start(view::dispatch);
        CompletableFuture<TurnEnd> turn = view.beginTurn("c1");

        daemon.close();
        connection.close();

        assertThat(turn.get(5, TimeUnit.SECONDS)).isEqualTo(TurnEnd.DISCONNECTED);
        dispatcher.join(Duration.ofSeconds(5));
        assertThat(view.disconnected()).isNotNull();
        assertThat(screen).singleElement().asString().startsWith("note:[the daemon went away: ");
    }

    private void awaitAcks(List<Long> expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!daemon.acks().equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(daemon.acks()).isEqualTo(expected);
    }

    private final class RecordingScreen implements Screen {
        @Override
        public void stream(String text) {
            screen.add("stream:" + text);
        }

        @Override
        public void endStream() {
            screen.add("end");
        }

        @Override
        public void reply(String text) {
            screen.add("reply:" + text);
        }

        @Override
        public void failure(String text) {
            screen.add("failure:" + text);
        }

        @Override
        public void note(String text) {
            screen.add("note:" + text);
        }
    }
}
