package dev.cordon.core.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class FileNamesTest {
    @Test
    void aNameBecomesOneSafeNameInAFolder() {
        assertThat(FileNames.sanitise("report.pdf")).isEqualTo("report.pdf");
        assertThat(FileNames.sanitise("../../etc/passwd")).isEqualTo("_.._etc_passwd");
        assertThat(FileNames.sanitise("a\\b")).isEqualTo("a_b");
        assertThat(FileNames.sanitise("evil\nname\u0000.txt")).isEqualTo("evilname.txt");
        assertThat(FileNames.sanitise(".bashrc")).isEqualTo("bashrc");
        assertThat(FileNames.sanitise("..")).isEqualTo("file");
        assertThat(FileNames.sanitise(".")).isEqualTo("file");
        assertThat(FileNames.sanitise("")).isEqualTo("file");
        assertThat(FileNames.sanitise("\u202Etxt.exe")).isEqualTo("txt.exe");
    }

    @Test
    void aLongNameIsCutTo255BytesKeepingItsExtensionAndWholeCharacters() {
        String name = FileNames.sanitise("é".repeat(300) + ".pdf");

        assertThat(name.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255);
        assertThat(name).endsWith(".pdf").startsWith("éé");
        assertThat(name.substring(0, name.length() - 4)).matches("é+");
    }

    @Test
    void twoFilesWithOneNameGetDistinctNames() {
        assertThat(FileNames.distinct(List.of("a.txt", "a.txt", "A.TXT", "/a.txt", "")))
                .containsExactly("a.txt", "a-2.txt", "A-3.TXT", "_a.txt", "file");
        String long255 = "x".repeat(251) + ".txt";
        assertThat(FileNames.distinct(List.of(long255, long255)))
                .allSatisfy(n ->
                        assertThat(n.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255))
                .doesNotHaveDuplicates();
    }
}
