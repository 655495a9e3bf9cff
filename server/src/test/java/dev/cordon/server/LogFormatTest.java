package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;
import tools.jackson.databind.JsonNode;

/** {@code logging: {format: json}}: one JSON object a line, with the session's ids; bad settings named. */
class LogFormatTest {
    @TempDir
    Path home;

    @Test
    void jsonLinesCarryTheMessageLevelAndTheSessionsIds() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), "logging:\n  format: json\n");
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(MDC.getMDCAdapter());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern("%msg%n");
        text.start();
        appender.setEncoder(text);
        appender.setOutputStream(out);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);

        LogFormat.load(home.resolve("cordon.yaml")).apply(context);
        MDC.setContextMap(Map.of("session", "7", "agent", "main"));
        try {
            context.getLogger("dev.cordon.Test").warn("turn {} failed", "s7-m3");
        } finally {
            MDC.clear();
        }

        String line = out.toString(StandardCharsets.UTF_8).strip();
        assertThat(line).startsWith("{");
        assertThat(line).doesNotContain("\n");
        JsonNode json = WebJson.MAPPER.readTree(line);
        assertThat(json.get("level").asString()).isEqualTo("WARN");
        assertThat(json.get("loggerName").asString()).isEqualTo("dev.cordon.Test");
        assertThat(json.get("formattedMessage").asString()).isEqualTo("turn s7-m3 failed");
        assertThat(json.get("mdc").get("session").asString()).isEqualTo("7");
        assertThat(json.get("mdc").get("agent").asString()).isEqualTo("main");
    }

    @Test
    void textIsTheDefaultAndABadFormatIsRefusedWithTheFileAndField() throws Exception {
        Path file = home.resolve("cordon.yaml");
        assertThat(LogFormat.load(file)).isEqualTo(LogFormat.TEXT);
        Files.writeString(file, "logging:\n  format: text\n");
        assertThat(LogFormat.load(file)).isEqualTo(LogFormat.TEXT);

        Files.writeString(file, "logging:\n  format: xml\n");
        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file + ": logging.format: must be text or json");
        Files.writeString(file, "logging:\n  level: debug\n");
        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .hasMessageContaining(file + ": unknown field 'logging.level' (known: format)");
    }
}
