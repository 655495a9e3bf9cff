package dev.cordon.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The daemon log's format, {@code logging: {format: text|json}} in {@code cordon.yaml}
 * (docs/dashboard.md). {@code json} is one JSON object per line from logback's own {@link
 * JsonEncoder}: time, level, thread, logger, message, exception, and the log context ({@code mdc}),
 * which holds {@code session} and {@code agent} on every line a session's work writes.
 */
enum LogFormat {
    TEXT,
    JSON;

    /**
     * Reads {@code logging.format}: TEXT without a file, a block or a format. A bad value is refused
     * naming the file and field; unknown fields of the block are {@link Config#load}'s to refuse.
     */
    static LogFormat load(Path file) {
        if (!Files.exists(file)) {
            return TEXT;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            return TEXT; // Config.load reports an unreadable file
        }
        JsonNode format = root == null ? null : root.path("logging").path("format");
        if (format == null || format.isMissingNode() || format.isNull()) {
            return TEXT;
        }
        return switch (format.isString() ? format.asString() : "") {
            case "text" -> TEXT;
            case "json" -> JSON;
            default -> throw new ConfigException(file + ": logging.format: must be text or json, not " + format);
        };
    }

    /**
     * Gives every appender of the root logger that writes a stream (the log file, a console) this
     * format's encoder. TEXT changes nothing: logback.xml's pattern stays. Call once, at start, before
     * the daemon logs its first line.
     */
    void apply(LoggerContext context) {
        if (this == TEXT) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof OutputStreamAppender<ILoggingEvent> stream) {
                JsonEncoder json = new JsonEncoder();
                json.setContext(context);
                json.setWithSequenceNumber(false);
                json.setWithNanoseconds(false);
                json.setWithContext(false);
                json.setWithMessage(false);
                json.setWithArguments(false);
                json.setWithFormattedMessage(true);
                json.start();
                // Swapped in place, not stopped and started: a stopped stream appender drops its stream.
                stream.setEncoder(json);
            }
        }
    }
}
