package dev.cordon.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.HostMessage.PutFile;
import dev.cordon.protocol.RunnerMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's side of the files people send: pieces written into the workspace's inbox. */
class InboxTest {
    @TempDir
    Path workspace;

    @TempDir
    Path elsewhere;

    final List<RunnerMessage> sent = new CopyOnWriteArrayList<>();

    Inbox inbox() {
        return new Inbox(workspace, sent::add);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void piecesAreWrittenInOrderAndTheLastIsAnswered() throws IOException {
        Inbox inbox = inbox();
        inbox.put(new PutFile("inbox/7/a.txt", 0, utf8("hello "), false));
        inbox.put(new PutFile("inbox/7/a.txt", 6, utf8("world"), true));

        assertThat(Files.readString(workspace.resolve("inbox/7/a.txt"))).isEqualTo("hello world");
        assertThat(sent).containsExactly(new RunnerMessage.FileWritten("inbox/7/a.txt", null));
    }

    @Test
    void linksTheAgentPlantedInTheInboxAreReplacedNeverFollowed() throws IOException {
        Files.createSymbolicLink(workspace.resolve("inbox"), elsewhere);
        inbox().put(new PutFile("inbox/1/a.txt", 0, utf8("one"), true));

        Files.delete(workspace.resolve("inbox/1/a.txt"));
        Files.delete(workspace.resolve("inbox/1"));
        Files.createSymbolicLink(workspace.resolve("inbox/1"), elsewhere);
        inbox().put(new PutFile("inbox/1/a.txt", 0, utf8("two"), true));

        Files.createFile(elsewhere.resolve("target"));
        Files.delete(workspace.resolve("inbox/1/a.txt"));
        Files.createSymbolicLink(workspace.resolve("inbox/1/a.txt"), elsewhere.resolve("target"));
        inbox().put(new PutFile("inbox/1/a.txt", 0, utf8("three"), true));

        try (var listing = Files.list(elsewhere)) {
            assertThat(listing).containsExactly(elsewhere.resolve("target"));
        }
        assertThat(Files.size(elsewhere.resolve("target"))).isZero();
        assertThat(Files.isDirectory(workspace.resolve("inbox"), LinkOption.NOFOLLOW_LINKS))
                .isTrue();
        assertThat(Files.readString(workspace.resolve("inbox/1/a.txt"))).isEqualTo("three");
        assertThat(sent)
                .allSatisfy(
                        m -> assertThat(((RunnerMessage.FileWritten) m).error()).isNull());
    }

    @Test
    void aFileThatCannotBeWrittenIsReportedWithTheReason() throws IOException {
        Files.createDirectories(workspace.resolve("inbox/4/a.txt/kept"));

        inbox().put(new PutFile("inbox/4/a.txt", 0, utf8("x"), true));

        assertThat(sent)
                .singleElement()
                .satisfies(m -> assertThat(((RunnerMessage.FileWritten) m).error())
                        .contains("a folder that is not empty is where the file belongs"));
        assertThat(workspace.resolve("inbox/4/a.txt/kept")).isDirectory();
    }

    @Test
    void aPathOutsideTheInboxIsRefused() {
        for (String path : List.of("inbox/1/../../x", "../x", "inbox/x/a", "inbox/1/..", "etc/passwd", "inbox/1/a/b")) {
            inbox().put(new PutFile(path, 0, utf8("x"), true));
        }

        assertThat(sent)
                .hasSize(6)
                .allSatisfy(
                        m -> assertThat(((RunnerMessage.FileWritten) m).error()).contains("not a path in the inbox"));
        assertThat(workspace).isEmptyDirectory();
    }
}
