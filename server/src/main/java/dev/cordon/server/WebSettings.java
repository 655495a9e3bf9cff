package dev.cordon.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The {@code http:} block of {@code cordon.yaml}: whether the daemon serves the HTTP API and the
 * dashboard (docs/dashboard.md), and where. Off by default; bound to loopback by default, because
 * the browser session is the owner's keys.
 *
 * @param port 0 picks a free port (tests)
 */
record WebSettings(boolean enabled, String host, int port) {
    static final WebSettings OFF = new WebSettings(false, "127.0.0.1", 7878);
    private static final Set<String> KEYS = Set.of("enabled", "host", "port");

    /** Reads the block; {@link #OFF} without a file or a block. Errors name the file and the field. */
    static WebSettings load(Path file) {
        if (!Files.exists(file)) {
            return OFF;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            return OFF; // Config.load, which runs first, reports an unreadable file
        }
        JsonNode http = root == null ? null : root.get("http");
        if (http == null || http.isNull()) {
            return OFF;
        }
        if (!http.isObject()) {
            throw new ConfigException(file + ": http: must be a block with enabled, host and port");
        }
        for (Iterator<String> names = http.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!KEYS.contains(name)) {
                throw new ConfigException(file + ": http." + name + ": unknown field; allowed: enabled, host, port");
            }
        }
        JsonNode enabled = http.get("enabled");
        if (enabled != null && !enabled.isBoolean()) {
            throw new ConfigException(file + ": http.enabled: must be true or false");
        }
        JsonNode host = http.get("host");
        if (host != null && (!host.isString() || host.asString().isBlank())) {
            throw new ConfigException(file + ": http.host: must be an address such as 127.0.0.1");
        }
        JsonNode port = http.get("port");
        if (port != null && (!port.isInt() || port.asInt() < 0 || port.asInt() > 65_535)) {
            throw new ConfigException(file + ": http.port: must be a port number from 0 to 65535");
        }
        return new WebSettings(
                enabled != null && enabled.asBoolean(),
                host == null ? OFF.host() : host.asString(),
                port == null ? OFF.port() : port.asInt());
    }
}
