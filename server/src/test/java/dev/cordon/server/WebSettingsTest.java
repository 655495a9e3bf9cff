package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code http:} block: off and on loopback by default, and each mistake named with its file and field. */
class WebSettingsTest {
    @TempDir
    Path home;

    WebSettings load(String yaml) throws IOException {
        Path file = home.resolve("cordon.yaml");
        Files.writeString(file, yaml);
        return WebSettings.load(file);
    }

    @Test
    void withoutTheBlockTheDashboardIsOffAndWouldListenOnLoopback() throws IOException {
        assertThat(WebSettings.load(home.resolve("cordon.yaml"))).isEqualTo(WebSettings.OFF);
        assertThat(load("audit:\n  message_bodies: true\n")).isEqualTo(WebSettings.OFF);
        assertThat(load("http:\n  enabled: true\n")).isEqualTo(new WebSettings(true, "127.0.0.1", 7878));
        assertThat(load("http: {enabled: true, host: 0.0.0.0, port: 8080}"))
                .isEqualTo(new WebSettings(true, "0.0.0.0", 8080));
    }

    @Test
    void mistakesAreNamedWithTheFileAndTheField() {
        assertThatThrownBy(() -> load("http:\n  enable: true\n"))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageContaining("cordon.yaml: http.enable: unknown field; allowed: enabled, host, port");
        assertThatThrownBy(() -> load("http:\n  enabled: yes please\n"))
                .hasMessageContaining("http.enabled: must be true or false");
        assertThatThrownBy(() -> load("http:\n  port: 70000\n"))
                .hasMessageContaining("http.port: must be a port number from 0 to 65535");
        assertThatThrownBy(() -> load("http:\n  host: ''\n")).hasMessageContaining("http.host:");
        assertThatThrownBy(() -> load("http: true\n")).hasMessageContaining("http: must be a block");
    }
}
