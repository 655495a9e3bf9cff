package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrepToolTest {
    @TempDir
    Path dir;

    private ToolHarness tools;

    @BeforeEach
    void setUp() throws Exception {
        tools = new ToolHarness(dir);
        write("a.txt", "hello world\nnothing here\nHello again\n");
        write("src/B.java", "class B {\n  // TODO hello\n}\n");
        write("src/c.md", "no greeting\n");
        write(".git/config", "hello from git\n");
        Files.write(dir.resolve("blob.bin"), new byte[] {'h', 'e', 'l', 'l', 'o', 0, 1, 2});
    }

    @Test
    void filesWithMatchesIsTheDefault() {
        ToolOutput out = tools.run("grep", "pattern", "hello");

        assertThat(out).isEqualTo(ToolOutput.ok("a.txt\nsrc/B.java\n[skipped 1 binary file]\n"));
    }

    @Test
    void contentModeShowsFileLineAndText() {
        ToolOutput out = tools.run("grep", "pattern", "hel+o", "output_mode", "content", "case_insensitive", true);

        assertThat(out.content()).isEqualTo("""
                        a.txt:1:hello world
                        a.txt:3:Hello again
                        src/B.java:2:  // TODO hello
                        [skipped 1 binary file]
                        """);
    }

    @Test
    void countModeCountsMatchingLinesPerFile() {
        ToolOutput out =
                tools.run("grep", "pattern", "(?i)hello", "output_mode", "count", "path", ".", "glob", "*.txt");

        assertThat(out.content()).isEqualTo("a.txt:2\n");
    }

    @Test
    void globWithASlashMatchesRelativePaths() {
        ToolOutput out = tools.run("grep", "pattern", "o", "glob", "src/**/*.{java,md}");

        assertThat(out.content()).isEqualTo("src/B.java\nsrc/c.md\n");
    }

    @Test
    void singleFilePath() {
        ToolOutput out = tools.run("grep", "pattern", "again", "path", "a.txt", "output_mode", "content");

        assertThat(out.content()).isEqualTo("a.txt:3:Hello again\n");
    }

    @Test
    void noMatchIsNotAnError() {
        ToolOutput out = tools.run("grep", "pattern", "zebra", "path", "src");

        assertThat(out).isEqualTo(ToolOutput.ok("No matches in 2 files searched.\n"));
    }

    @Test
    void contentResultsAreCapped() throws Exception {
        write("many.txt", "x\n".repeat(1_500));
        ToolHarness roomy = ToolHarness.withLimit(dir, 1_000_000);

        String content =
                roomy.run("grep", "pattern", "^x$", "output_mode", "content").content();

        assertThat(content.lines().filter(l -> l.startsWith("many.txt:"))).hasSize(1_000);
        assertThat(content).contains("[stopped after 1,000 matching lines; narrow the pattern, path or glob");
    }

    @Test
    void outputIsCappedAtTheLimit() throws Exception {
        write("many.txt", "match\n".repeat(500));
        ToolHarness small = ToolHarness.withLimit(dir, 200);

        String content =
                small.run("grep", "pattern", "match", "output_mode", "content").content();

        assertThat(content).contains("[... output cut at 200 characters; ");
        assertThat(content.length()).isLessThan(300);
    }

    @Test
    void invalidRegexAndModeAreNamed() {
        ToolOutput badRegex = tools.run("grep", "pattern", "(unclosed");
        ToolOutput badMode = tools.run("grep", "pattern", "x", "output_mode", "lines");

        assertThat(badRegex.isError()).isTrue();
        assertThat(badRegex.content()).startsWith("Invalid argument 'pattern': not a valid Java regular expression");
        assertThat(badMode)
                .isEqualTo(ToolOutput.error("Invalid argument 'output_mode': must be one of files_with_matches, "
                        + "content, count, got \"lines\"."));
    }

    @Test
    void missingPathIsAnError() {
        assertThat(tools.run("grep", "pattern", "x", "path", "nowhere"))
                .isEqualTo(ToolOutput.error("path nowhere does not exist."));
    }

    private void write(String relative, String content) throws Exception {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }
}
