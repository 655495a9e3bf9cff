package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class MemoryTest {
    @TempDir
    Path dir;

    private ToolHarness tools;
    private Memory memory;

    @BeforeEach
    void setUp() {
        tools = new ToolHarness(dir);
        memory = new Memory(dir);
    }

    @Test
    void noMemoryFileMeansNoSection() {
        assertThat(memory.section()).isEmpty();
    }

    @Test
    void rememberedLinesAreShownInTheSectionInOrder() throws Exception {
        assertThat(tools.run("remember", "fact", "The user is called Ada.").content())
                .startsWith("Remembered. MEMORY.md now holds 26 bytes");
        tools.run("remember", "fact", "  She prefers\nshort answers.  ");

        assertThat(Files.readString(dir.resolve("MEMORY.md")))
                .isEqualTo("- The user is called Ada.\n- She prefers short answers.\n");
        assertThat(memory.section())
                .isEqualTo("\n\n## Your memory (/workspace/MEMORY.md, kept by you across conversations)\n"
                        + "- The user is called Ada.\n- She prefers short answers.\n");
    }

    @Test
    void theSameFileGivesTheSameBytes() throws Exception {
        Files.writeString(dir.resolve("MEMORY.md"), "# Notes\n- one\n");

        assertThat(new Memory(dir).section()).isEqualTo(memory.section()).contains("- one");
    }

    @Test
    void aFullMemoryRefusesMoreAndSaysHowToMakeRoom() throws Exception {
        Files.writeString(dir.resolve("MEMORY.md"), "x".repeat(Memory.MAX_BYTES - 10));

        ToolOutput out = tools.run("remember", "fact", "one fact too many");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).contains("Your memory is full").contains("Condense MEMORY.md");
        assertThat(Files.size(dir.resolve("MEMORY.md"))).isEqualTo(Memory.MAX_BYTES - 10);
    }

    @Test
    void anOversizedFileIsShownUpToTheLimitWithANote() throws Exception {
        Files.writeString(dir.resolve("MEMORY.md"), "y".repeat(Memory.MAX_BYTES + 5000));

        String section = memory.section();

        assertThat(section).contains("y".repeat(Memory.MAX_BYTES)).doesNotContain("y".repeat(Memory.MAX_BYTES + 1));
        assertThat(section).contains("the file is over 16 KiB; condense it");
    }

    @Test
    void aSymlinkIsNeitherReadNorWrittenThrough(@TempDir Path elsewhere) throws Exception {
        Path target = elsewhere.resolve("secret.txt");
        Files.writeString(target, "not for the prompt\n");
        Files.createSymbolicLink(dir.resolve("MEMORY.md"), target);

        assertThat(memory.section()).isEmpty();
        ToolOutput out = tools.run("remember", "fact", "appended through the link?");
        assertThat(out.isError()).isTrue();
        assertThat(Files.readString(target)).isEqualTo("not for the prompt\n");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void aFifoDoesNotBlockTheTurn() throws Exception {
        new ProcessBuilder("mkfifo", dir.resolve("MEMORY.md").toString())
                .inheritIO()
                .start()
                .waitFor();

        assertThat(memory.section()).isEmpty();
    }

    @Test
    void anEmptyFactIsRefusedByTheSchema() {
        assertThat(tools.run("remember", "fact", "").isError()).isTrue();
    }
}
