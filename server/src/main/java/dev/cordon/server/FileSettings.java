package dev.cordon.server;

import dev.cordon.core.channel.HttpDelivery;
import dev.cordon.core.message.FileSending;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The {@code files:} block of {@code cordon.yaml}: files agents send with {@code send_file}
 * (docs/agents.md#files).
 *
 * @param maxBytes the largest file an agent may send ({@code max_mb}, default 20)
 * @param publicUrl where people reach this daemon's HTTP server ({@code http:}) from outside, for
 *     links to files on channels without uploads; null: no links, a note says where the file is
 * @param linkTtl how long such a link works ({@code link_hours}, default 24)
 * @param keep how long a file is kept on the host once no stored message needs it ({@code
 *     keep_days}, default 30); null: kept for ever ({@code keep_days: 0})
 */
record FileSettings(long maxBytes, URI publicUrl, Duration linkTtl, Duration keep) {
    static final FileSettings DEFAULTS =
            new FileSettings(FileSending.DEFAULT_MAX_BYTES, null, Duration.ofHours(24), Duration.ofDays(30));
    private static final Set<String> KEYS = Set.of("max_mb", "public_url", "link_hours", "keep_days");
    private static final String ALLOWED = "max_mb, public_url, link_hours, keep_days";

    /**
     * How long after its last use a file may be deleted: {@link #keep}, or the link lifetime if that is
     * longer (a link handed out must work until it expires). Empty if files are kept for ever.
     */
    Optional<Duration> retention() {
        return keep == null ? Optional.empty() : Optional.of(keep.compareTo(linkTtl) >= 0 ? keep : linkTtl);
    }

    /** Reads the block; {@link #DEFAULTS} without a file or a block. Errors name the file and the field. */
    static FileSettings load(Path file) {
        if (!Files.exists(file)) {
            return DEFAULTS;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            return DEFAULTS; // Config.load, which runs first, reports an unreadable file
        }
        JsonNode files = root == null ? null : root.get("files");
        if (files == null || files.isNull()) {
            return DEFAULTS;
        }
        if (!files.isObject()) {
            throw new ConfigException(file + ": files: must be a block with " + ALLOWED);
        }
        for (Iterator<String> names = files.propertyNames().iterator(); names.hasNext(); ) {
            String name = names.next();
            if (!KEYS.contains(name)) {
                throw new ConfigException(file + ": files." + name + ": unknown field; allowed: " + ALLOWED);
            }
        }
        JsonNode max = files.get("max_mb");
        if (max != null && (!max.isInt() || max.asInt() < 1 || max.asInt() > 1024)) {
            throw new ConfigException(file + ": files.max_mb: must be a whole number of MiB from 1 to 1024");
        }
        JsonNode hours = files.get("link_hours");
        if (hours != null && (!hours.isInt() || hours.asInt() < 1 || hours.asInt() > 168)) {
            throw new ConfigException(file + ": files.link_hours: must be a whole number of hours from 1 to 168");
        }
        JsonNode days = files.get("keep_days");
        if (days != null && (!days.isInt() || days.asInt() < 0 || days.asInt() > 3650)) {
            throw new ConfigException(file
                    + ": files.keep_days: must be a whole number of days from 1 to 3650, or 0 to keep files for ever");
        }
        JsonNode url = files.get("public_url");
        URI publicUrl = null;
        if (url != null && !url.isNull()) {
            try {
                publicUrl = HttpDelivery.baseUrl(file + ": files.public_url", URI.create(url.asString()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(
                        e.getMessage().startsWith(file.toString())
                                ? e.getMessage()
                                : file + ": files.public_url: " + e.getMessage());
            }
        }
        return new FileSettings(
                max == null ? DEFAULTS.maxBytes() : max.asLong() * 1024 * 1024,
                publicUrl,
                hours == null ? DEFAULTS.linkTtl() : Duration.ofHours(hours.asInt()),
                days == null ? DEFAULTS.keep() : days.asInt() == 0 ? null : Duration.ofDays(days.asInt()));
    }
}
