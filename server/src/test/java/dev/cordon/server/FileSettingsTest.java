package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code files:} block: 20 MiB and no links by default, and each mistake named with its file and field. */
class FileSettingsTest {
    @TempDir
    Path home;

    FileSettings load(String yaml) throws IOException {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, yaml);
        return FileSettings.load(file);
    }

    @Test
    void withoutTheBlockFilesUpTo20MiBAreSentAndNotLinked() throws IOException {
        assertThat(FileSettings.load(home.resolve("cordon.yaml"))).isEqualTo(FileSettings.DEFAULTS);
        assertThat(FileSettings.DEFAULTS)
                .isEqualTo(new FileSettings(20L * 1024 * 1024, null, Duration.ofHours(24), Duration.ofDays(30)));
        assertThat(load("files: {max_mb: 5, public_url: 'https://cordon.example.org/', link_hours: 2, keep_days: 7}\n"))
                .isEqualTo(new FileSettings(
                        5L * 1024 * 1024,
                        URI.create("https://cordon.example.org"),
                        Duration.ofHours(2),
                        Duration.ofDays(7)));
    }

    @Test
    void filesAreKeptForKeepDaysAfterTheirLastUseButNeverShorterThanALinkWorks() throws IOException {
        assertThat(FileSettings.DEFAULTS.retention()).contains(Duration.ofDays(30));
        assertThat(load("files: {keep_days: 1, link_hours: 168}\n").retention()).contains(Duration.ofHours(168));
        assertThat(load("files: {keep_days: 0}\n").retention())
                .as("0 keeps files for ever")
                .isEmpty();
    }

    @Test
    void mistakesAreNamedWithTheFileAndTheField() {
        assertThatThrownBy(() -> load("files: {max_bytes: 5}\n"))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "cordon.yaml: files.max_bytes: unknown field; allowed: max_mb, public_url, link_hours, keep_days");
        assertThatThrownBy(() -> load("files: {max_mb: 0}\n"))
                .hasMessageContaining("files.max_mb: must be a whole number");
        assertThatThrownBy(() -> load("files: {link_hours: 1000}\n"))
                .hasMessageContaining("files.link_hours: must be a whole number of hours from 1 to 168");
        assertThatThrownBy(() -> load("files: {keep_days: -1}\n"))
                .hasMessageContaining(
                        "files.keep_days: must be a whole number of days from 1 to 3650, or 0 to keep files for ever");
        assertThatThrownBy(() -> load("files: {keep_days: 1.5}\n")).hasMessageContaining("files.keep_days");
        assertThatThrownBy(() -> load("files: {public_url: 'http://cordon.example.org'}\n"))
                .hasMessageContaining("files.public_url")
                .hasMessageContaining("must use https; http only on loopback");
        assertThatThrownBy(() -> load("files: 20\n")).hasMessageContaining("files: must be a block");
    }
}
