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
 * The {@code hooks:} block of {@code cordon.yaml}: where the listener for signed webhooks
 * (docs/channels/webhook.md, github.md, whatsapp.md) binds, and the largest body it reads. It runs
 * only when a webhook channel is configured. It is a listener of its own, apart from {@code http:}
 * (the dashboard): see {@link HookServer} for why.
 *
 * @param port 0 picks a free port (tests)
 * @param maxBodyBytes a larger request is refused with 413 before any of it is verified or parsed
 */
record HookSettings(String host, int port, int maxBodyBytes) {
    static final HookSettings DEFAULT = new HookSettings("127.0.0.1", 7879, 256 * 1024);
    private static final Set<String> KEYS = Set.of("host", "port", "max_body_kb");

    /** Reads the block; {@link #DEFAULT} without a file or a block. Errors name the file and the field. */
    static HookSettings load(Path file) {
        if (!Files.exists(file)) {
            return DEFAULT;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            return DEFAULT; // Config.load, which runs first, reports an unreadable file
        }
        JsonNode hooks = root == null ? null : root.get("hooks");
        if (hooks == null || hooks.isNull()) {
            return DEFAULT;
        }
        if (!hooks.isObject()) {
            throw new ConfigException(file + ": hooks: must be a block with host, port and max_body_kb");
        }
        for (Iterator<String> names = hooks.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!KEYS.contains(name)) {
                throw new ConfigException(
                        file + ": hooks." + name + ": unknown field; allowed: host, port, max_body_kb");
            }
        }
        JsonNode host = hooks.get("host");
        if (host != null && (!host.isString() || host.asString().isBlank())) {
            throw new ConfigException(file + ": hooks.host: must be an address such as 127.0.0.1");
        }
        JsonNode port = hooks.get("port");
        if (port != null && (!port.isInt() || port.asInt() < 0 || port.asInt() > 65_535)) {
            throw new ConfigException(file + ": hooks.port: must be a port number from 0 to 65535");
        }
        JsonNode kb = hooks.get("max_body_kb");
        if (kb != null && (!kb.isInt() || kb.asInt() < 1 || kb.asInt() > 10_240)) {
            throw new ConfigException(file + ": hooks.max_body_kb: must be a whole number from 1 to 10240");
        }
        return new HookSettings(
                host == null ? DEFAULT.host() : host.asString(),
                port == null ? DEFAULT.port() : port.asInt(),
                kb == null ? DEFAULT.maxBodyBytes() : kb.asInt() * 1024);
    }
}
