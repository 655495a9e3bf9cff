package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code hooks:} block: loopback, 7879 and 256 KiB by default, and each mistake named with its field. */
class HookSettingsTest {
    @TempDir
    Path home;

    HookSettings load(String yaml) throws IOException {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, yaml);
        return HookSettings.load(file);
    }

    @Test
    void withoutTheBlockTheListenerWouldBindLoopback() throws IOException {
        assertThat(HookSettings.load(home.resolve("cordon.yaml"))).isEqualTo(HookSettings.DEFAULT);
        assertThat(load("http:\n  enabled: true\n")).isEqualTo(new HookSettings("127.0.0.1", 7879, 256 * 1024));
        assertThat(load("hooks: {host: 0.0.0.0, port: 9000, max_body_kb: 64}"))
                .isEqualTo(new HookSettings("0.0.0.0", 9000, 64 * 1024));
    }

    @Test
    void mistakesAreNamedWithTheFileAndTheField() {
        assertThatThrownBy(() -> load("hooks:\n  path: /x\n"))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageContaining("cordon.yaml: hooks.path: unknown field; allowed: host, port, max_body_kb");
        assertThatThrownBy(() -> load("hooks:\n  port: -1\n"))
                .hasMessageContaining("hooks.port: must be a port number from 0 to 65535");
        assertThatThrownBy(() -> load("hooks:\n  max_body_kb: 0\n"))
                .hasMessageContaining("hooks.max_body_kb: must be a whole number from 1 to 10240");
        assertThatThrownBy(() -> load("hooks: on\n")).hasMessageContaining("hooks: must be a block");
    }
}
