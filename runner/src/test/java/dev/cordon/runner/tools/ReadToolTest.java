package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadToolTest {
    @TempDir
    Path dir;

    private ToolHarness tools;

    @BeforeEach
    void setUp() {
        tools = new ToolHarness(dir);
    }

    @Test
    void numbersLinesLikeCatN() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "alpha\nbeta\r\n\ngamma");

        ToolOutput out = tools.run("read", "path", "a.txt");

        assertThat(out).isEqualTo(ToolOutput.ok("     1\talpha\n     2\tbeta\n     3\t\n     4\tgamma\n"));
    }

    @Test
    void absolutePathsAreAllowed() throws Exception {
        Path file = dir.resolve("sub/b.txt");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "x\n");

        assertThat(tools.run("read", "path", file.toString()).content()).isEqualTo("     1\tx\n");
    }

    @Test
    void offsetAndLimitSelectAWindowAndSayWhereToContinue() throws Exception {
        Files.writeString(dir.resolve("n.txt"), lines(1, 10));

        ToolOutput out = tools.run("read", "path", "n.txt", "offset", 3, "limit", 2);

        assertThat(out.content())
                .isEqualTo("     3\tline 3\n     4\tline 4\n"
                        + "[showing lines 3-4; limit of 2 lines reached. The file continues: read again with "
                        + "offset=5 for more.]");
    }

    @Test
    void defaultsToTheFirstTwoThousandLines() throws Exception {
        Files.writeString(dir.resolve("big.txt"), lines(1, 2_500));
        ToolHarness roomy = ToolHarness.withLimit(dir, 1_000_000);

        String content = roomy.run("read", "path", "big.txt").content();

        assertThat(content).contains("  2000\tline 2000\n").doesNotContain("line 2001");
        assertThat(content).endsWith("read again with offset=2001 for more.]");
    }

    @Test
    void stopsAtTheOutputLimitOnALineBoundary() throws Exception {
        Files.writeString(dir.resolve("n.txt"), lines(1, 100));
        ToolHarness small = ToolHarness.withLimit(dir, 60);

        String content = small.run("read", "path", "n.txt").content();

        assertThat(content)
                .isEqualTo("     1\tline 1\n     2\tline 2\n     3\tline 3\n     4\tline 4\n"
                        + "[showing lines 1-4; output reached 60 characters. The file continues: read again "
                        + "with offset=5 for more.]");
    }

    @Test
    void longLinesAreCut() throws Exception {
        Files.writeString(dir.resolve("long.txt"), "x".repeat(2_500) + "\r\nshort\n");

        String content = tools.run("read", "path", "long.txt").content();

        assertThat(content)
                .isEqualTo("     1\t" + "x".repeat(2_000) + " [... line cut, 500 more characters]\n     2\tshort\n");
    }

    @Test
    void missingFileSaysSo() {
        ToolOutput out = tools.run("read", "path", "nope.txt");

        assertThat(out).isEqualTo(ToolOutput.error("File not found: nope.txt"));
    }

    @Test
    void directoryIsAClearError() throws Exception {
        Files.createDirectories(dir.resolve("d"));

        ToolOutput out = tools.run("read", "path", "d");

        assertThat(out).isEqualTo(ToolOutput.error("d is a directory, not a file; use glob to list its files."));
    }

    @Test
    void binaryFileIsAClearError() throws Exception {
        Files.write(dir.resolve("img.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 1});

        ToolOutput out = tools.run("read", "path", "img.png");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).startsWith("img.png looks like a binary file");
    }

    @Test
    void emptyFileSaysItIsEmpty() throws Exception {
        Files.writeString(dir.resolve("e.txt"), "");

        assertThat(tools.run("read", "path", "e.txt")).isEqualTo(ToolOutput.ok("(e.txt is empty)"));
    }

    @Test
    void offsetPastTheEndIsAnError() throws Exception {
        Files.writeString(dir.resolve("n.txt"), lines(1, 3));

        ToolOutput out = tools.run("read", "path", "n.txt", "offset", 9);

        assertThat(out).isEqualTo(ToolOutput.error("offset 9 is past the end of n.txt, which has 3 lines."));
    }

    @Test
    void invalidArgumentsAreNamed() {
        assertThat(tools.run("read", "path", "a", "offset", 0).content())
                .isEqualTo("Invalid argument 'offset': must be at least 1, got 0.");
        assertThat(tools.run("read", "path", "a", "limit", "ten").content())
                .isEqualTo("Invalid argument 'limit': expected an integer, got string \"ten\".");
        assertThat(tools.run("read", "path", "a\0b").content()).startsWith("Invalid argument 'path': not a valid path");
    }

    @Test
    void malformedUtf8IsShownWithReplacementCharacters() throws Exception {
        Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xe9, '\n'});

        assertThat(tools.run("read", "path", "latin1.txt").content()).isEqualTo("     1\tcaf\uFFFD\n");
    }

    static String lines(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());
    }
}
