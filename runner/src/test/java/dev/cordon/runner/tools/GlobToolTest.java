package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GlobToolTest {
    @TempDir
    Path dir;

    private ToolHarness tools;

    @BeforeEach
    void setUp() throws Exception {
        tools = new ToolHarness(dir);
        touch("Main.java", 100);
        touch("src/App.java", 300);
        touch("src/deep/er/Util.java", 200);
        touch("src/notes.txt", 400);
        touch(".git/objects/Hidden.java", 500);
    }

    @Test
    void doubleStarMatchesAnyDepthIncludingNoneNewestFirst() {
        ToolOutput out = tools.run("glob", "pattern", "**/*.java");

        assertThat(out).isEqualTo(ToolOutput.ok("src/App.java\nsrc/deep/er/Util.java\nMain.java\n"));
    }

    @Test
    void singleStarStaysInOneDirectory() {
        assertThat(tools.run("glob", "pattern", "*.java").content()).isEqualTo("Main.java\n");
        assertThat(tools.run("glob", "pattern", "src/*").content()).isEqualTo("src/notes.txt\nsrc/App.java\n");
    }

    @Test
    void doubleStarInTheMiddleAlsoMatchesZeroDirectories() {
        assertThat(tools.run("glob", "pattern", "src/**/*.java").content())
                .isEqualTo("src/App.java\nsrc/deep/er/Util.java\n");
    }

    @Test
    void bracesAndPathArgumentWork() {
        ToolOutput out = tools.run("glob", "pattern", "**/*.{txt,java}", "path", "src");

        assertThat(out.content()).isEqualTo("src/notes.txt\nsrc/App.java\nsrc/deep/er/Util.java\n");
    }

    @Test
    void absolutePatternSearchesFromItsLiteralPrefix() {
        ToolOutput out = tools.run("glob", "pattern", dir.resolve("src") + "/**/Util.java");

        assertThat(out.content()).isEqualTo("src/deep/er/Util.java\n");
    }

    @Test
    void noMatchIsNotAnError() {
        assertThat(tools.run("glob", "pattern", "**/*.rs"))
                .isEqualTo(ToolOutput.ok("No files match **/*.rs in the workspace."));
    }

    @Test
    void capsAtOneThousandWithANote() throws Exception {
        for (int i = 0; i < 1_005; i++) {
            Files.createFile(dir.resolve("many-" + i + ".log"));
        }
        ToolHarness roomy = ToolHarness.withLimit(dir, 1_000_000);

        String content = roomy.run("glob", "pattern", "*.log").content();

        assertThat(content.lines().filter(l -> l.endsWith(".log"))).hasSize(1_000);
        assertThat(content)
                .endsWith("[showing the 1,000 newest of 1,005 matching files; use a narrower pattern or path to see "
                        + "the rest]\n");
    }

    @Test
    void unreadableDirectoryIsSkippedNotFatal() throws Exception {
        Path locked = Files.createDirectories(dir.resolve("locked"));
        touch("locked/Secret.java", 50);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        try {
            ToolOutput out = tools.run("glob", "pattern", "**/*.java");

            assertThat(out.isError()).isFalse();
            assertThat(out.content()).contains("src/App.java");
            if (!Files.isReadable(locked)) { // root can read anything; the skip note is only expected otherwise
                assertThat(out.content()).endsWith("[skipped 1 entry that could not be read]\n");
            }
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void pathThatIsNotADirectoryIsAnError() {
        assertThat(tools.run("glob", "pattern", "*", "path", "Main.java"))
                .isEqualTo(ToolOutput.error("path Main.java is a file, not a directory."));
        assertThat(tools.run("glob", "pattern", "*", "path", "missing"))
                .isEqualTo(ToolOutput.error("path missing does not exist."));
    }

    @Test
    void malformedPatternIsNamed() {
        ToolOutput out = tools.run("glob", "pattern", "src/{a,b");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).startsWith("Invalid argument 'pattern': not a valid glob pattern");
    }

    private void touch(String relative, long epochSecond) throws Exception {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, relative);
        Files.setLastModifiedTime(file, FileTime.from(Instant.ofEpochSecond(epochSecond)));
    }
}
