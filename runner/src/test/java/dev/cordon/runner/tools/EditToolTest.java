package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EditToolTest {
    @TempDir
    Path dir;

    private ToolHarness tools;
    private Path file;

    @BeforeEach
    void setUp() throws Exception {
        tools = new ToolHarness(dir);
        file = dir.resolve("Main.java");
        Files.writeString(file, "int a = 1;\nint b = 1;\nint c = 2;\n");
    }

    @Test
    void replacesAUniqueString() throws Exception {
        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "int c = 2;", "new_string", "int c = 3;");

        assertThat(out).isEqualTo(ToolOutput.ok("Replaced 1 occurrence in Main.java."));
        assertThat(Files.readString(file)).isEqualTo("int a = 1;\nint b = 1;\nint c = 3;\n");
    }

    @Test
    void ambiguousStringIsRefusedWithTheCount() throws Exception {
        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "= 1;", "new_string", "= 9;");

        assertThat(out)
                .isEqualTo(ToolOutput.error("old_string occurs 2 times in Main.java; include more surrounding lines "
                        + "so it matches exactly once, or set replace_all to true to replace all 2."));
        assertThat(Files.readString(file)).isEqualTo("int a = 1;\nint b = 1;\nint c = 2;\n");
    }

    @Test
    void replaceAllReplacesEveryOccurrence() throws Exception {
        ToolOutput out =
                tools.run("edit", "path", "Main.java", "old_string", "= 1;", "new_string", "= 9;", "replace_all", true);

        assertThat(out).isEqualTo(ToolOutput.ok("Replaced 2 occurrences in Main.java."));
        assertThat(Files.readString(file)).isEqualTo("int a = 9;\nint b = 9;\nint c = 2;\n");
    }

    @Test
    void absentStringIsAnError() {
        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "int d", "new_string", "int e");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).startsWith("old_string was not found in Main.java.");
    }

    @Test
    void absentStringInACrlfFileHintsAtLineEndings() throws Exception {
        Files.writeString(file, "one\r\ntwo\r\n");

        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "one\ntwo", "new_string", "x");

        assertThat(out.content()).contains("CRLF");
    }

    @Test
    void identicalStringsAreAnError() {
        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "int a", "new_string", "int a");

        assertThat(out)
                .isEqualTo(ToolOutput.error("old_string and new_string are identical, so there is nothing to change."));
    }

    @Test
    void emptyOldStringIsAnError() {
        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "", "new_string", "x");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).contains("'old_string': must not be empty");
    }

    @Test
    void missingFileSaysSo() {
        ToolOutput out = tools.run("edit", "path", "Nope.java", "old_string", "a", "new_string", "b");

        assertThat(out).isEqualTo(ToolOutput.error("File not found: Nope.java. To create a file use write."));
    }

    @Test
    void newStringMayBeEmptyToDelete() throws Exception {
        tools.run("edit", "path", "Main.java", "old_string", "int b = 1;\n", "new_string", "");

        assertThat(Files.readString(file)).isEqualTo("int a = 1;\nint c = 2;\n");
    }

    @Test
    void replacementTextIsTakenLiterally() throws Exception {
        tools.run("edit", "path", "Main.java", "old_string", "int c = 2;", "new_string", "s = \"$1 \\\\ x\";");

        assertThat(Files.readString(file)).endsWith("s = \"$1 \\\\ x\";\n");
    }

    @Test
    void fileThatIsNotUtf8IsLeftAlone() throws Exception {
        byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9};
        Files.write(file, latin1);

        ToolOutput out = tools.run("edit", "path", "Main.java", "old_string", "caf", "new_string", "bar");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).contains("not valid UTF-8");
        assertThat(Files.readAllBytes(file)).isEqualTo(latin1);
    }

    @Test
    void wrongTypeForReplaceAllIsNamed() {
        ToolOutput out =
                tools.run("edit", "path", "Main.java", "old_string", "a", "new_string", "b", "replace_all", "yes");

        assertThat(out)
                .isEqualTo(ToolOutput.error(
                        "Invalid argument 'replace_all': expected true or false, got string \"yes\"."));
    }
}
