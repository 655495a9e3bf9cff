package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteToolTest {
    @TempDir
    Path dir;

    private ToolHarness tools;

    @BeforeEach
    void setUp() {
        tools = new ToolHarness(dir);
    }

    @Test
    void createsParentDirectoriesAndReportsBytes() throws Exception {
        ToolOutput out = tools.run("write", "path", "a/b/c.txt", "content", "héllo\n");

        assertThat(out).isEqualTo(ToolOutput.ok("Wrote 7 bytes to a/b/c.txt (new file)."));
        assertThat(Files.readString(dir.resolve("a/b/c.txt"))).isEqualTo("héllo\n");
    }

    @Test
    void overwritesAnExistingFile() throws Exception {
        Files.writeString(dir.resolve("f.txt"), "a much longer original content\n");

        ToolOutput out = tools.run("write", "path", "f.txt", "content", "new");

        assertThat(out).isEqualTo(ToolOutput.ok("Wrote 3 bytes to f.txt (replaced the previous content)."));
        assertThat(Files.readString(dir.resolve("f.txt"))).isEqualTo("new");
    }

    @Test
    void emptyContentIsAllowed() throws Exception {
        assertThat(tools.run("write", "path", "empty", "content", "").content())
                .isEqualTo("Wrote 0 bytes to empty (new file).");
        assertThat(Files.size(dir.resolve("empty"))).isZero();
    }

    @Test
    void pathOutsideTheWorkspaceIsShownAbsolute(@TempDir Path elsewhere) throws Exception {
        Path file = elsewhere.resolve("x.txt");

        ToolOutput out = tools.run("write", "path", file.toString(), "content", "1");

        assertThat(out.content()).isEqualTo("Wrote 1 byte to " + file + " (new file).");
        assertThat(Files.readString(file)).isEqualTo("1");
    }

    @Test
    void directoryIsAnError() throws Exception {
        Files.createDirectories(dir.resolve("d"));

        assertThat(tools.run("write", "path", "d", "content", "x"))
                .isEqualTo(ToolOutput.error("d is a directory; give the path of a file."));
    }

    @Test
    void parentThatIsAFileIsAnError() throws Exception {
        Files.writeString(dir.resolve("plain"), "x");

        ToolOutput out = tools.run("write", "path", "plain/child.txt", "content", "x");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).startsWith("Cannot write plain/child.txt: ").contains("plain");
    }

    @Test
    void missingContentAndUnknownArgumentsAreNamed() {
        ToolOutput out = tools.run("write", "file_path", "x.txt");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).isEqualTo("""
                        Unknown argument 'file_path'; write accepts path, content.
                        Missing required argument 'path' (a non-empty string).
                        Missing required argument 'content' (a string).""");
    }
}
