package dev.cordon.server;

import dev.cordon.core.PrivateFiles;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.file.FileVault;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Links to sent files for channels that cannot upload them (IRC, webhooks): {@code
 * PUBLIC/files/SHA256/EXPIRY/MAC/NAME}, served by the daemon's HTTP server. The MAC is an
 * HMAC-SHA256, under a key only this home holds ({@code keys/file-links.key}; replicas are given
 * the same one), of the file, the expiry and the name: a link cannot be guessed or stretched, and
 * it outlives daemon restarts without any stored state. Without a public URL the text says where
 * the file is on the host. Thread-safe.
 */
final class FileLinks {
    static final String PREFIX = "/files/";
    private final FileVault vault;
    private final URI publicUrl;
    private final Duration ttl;
    private final Clock clock;
    private final byte[] key;

    FileLinks(FileVault vault, FileSettings settings, Path keyFile, Clock clock) {
        this.vault = vault;
        this.publicUrl = settings.publicUrl();
        this.ttl = settings.linkTtl();
        this.clock = clock;
        this.key = key(keyFile);
    }

    /** The text a channel without uploads gets in the file's place. */
    String inPlaceOf(Attachment file) {
        String what = "File " + file.name() + " (" + size(file.size()) + ")";
        if (publicUrl == null) {
            return "[" + what + " is on the Cordon host at " + vault.dir().resolve(file.sha256())
                    + ": this channel cannot carry files, and the daemon has no files.public_url to link it from.]";
        }
        long expiry = clock.instant().plus(ttl).getEpochSecond();
        String name = URLEncoder.encode(file.name(), StandardCharsets.UTF_8).replace("+", "%20");
        return what + ", for " + ttl.toHours() + " h: " + publicUrl + PREFIX + file.sha256() + "/" + expiry + "/"
                + mac(file.sha256(), expiry, file.name()) + "/" + name;
    }

    /**
     * The file a link names, if the link is this home's and has not expired; empty for anything else
     * (a forged, altered or expired link, a file no longer kept).
     */
    Optional<InputStream> open(String sha256, String expiry, String mac, String name) throws IOException {
        if (!expiry.matches("[0-9]{1,12}") || !sha256.matches("[0-9a-f]{64}")) {
            return Optional.empty();
        }
        long until = Long.parseLong(expiry);
        byte[] expected = mac(sha256, until, name).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, mac.getBytes(StandardCharsets.US_ASCII))
                || clock.instant().getEpochSecond() > until
                || vault.path(sha256).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(vault.open(sha256));
    }

    /** The route that serves links: always as a download, never shown by the browser as a page. */
    WebApi.Route route() {
        return new WebApi.Route("GET", PREFIX + "{sha256}/{expiry}/{mac}/{name}", (ctx, caller) -> {
            String name = ctx.pathParam("name");
            Optional<InputStream> in =
                    open(ctx.pathParam("sha256"), ctx.pathParam("expiry"), ctx.pathParam("mac"), name);
            if (in.isEmpty()) {
                ctx.status(404)
                        .contentType("text/plain; charset=utf-8")
                        .result("This file link is unknown or has expired. Ask the agent to send the file again.");
                return;
            }
            ctx.header(
                    "Content-Disposition",
                    "attachment; filename*=UTF-8''"
                            + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"));
            ctx.contentType("application/octet-stream").result(in.get());
        });
    }

    private String mac(String sha256, long expiry, String name) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] out = hmac.doFinal((sha256 + "\n" + expiry + "\n" + name).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        return bytes < 1024 * 1024
                ? String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }

    /**
     * {@code home}'s link key file, {@link Home#fileLinksKey}. A key kept in {@code
     * data/file-links.key}, where versions before it sat beside the database, is moved there first,
     * so the links sent before still open.
     */
    static Path keyIn(Home home) {
        Path key = home.fileLinksKey();
        Path earlier = home.data().resolve("file-links.key");
        try {
            if (!Files.exists(key) && Files.exists(earlier)) {
                PrivateFiles.createDirectories(key.getParent());
                Files.move(earlier, key);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the file-link key " + earlier + " to " + key, e);
        }
        return key;
    }

    /**
     * The link key: made once (0600), then read at each start. One that group or others can read is
     * refused, as the home's other keys are: whoever reads it can forge a link to any file the host keeps.
     */
    private static byte[] key(Path file) {
        try {
            if (!Files.exists(file)) {
                byte[] fresh = new byte[32];
                new SecureRandom().nextBytes(fresh);
                PrivateFiles.write(file, fresh);
            }
            Optional<String> open = PrivateFiles.openPermissions(file);
            if (open.isPresent()) {
                throw new ConfigException("the file-link key " + file + " is accessible to group or others ("
                        + open.get() + "): chmod 600 " + file);
            }
            byte[] key = Files.readAllBytes(file);
            if (key.length != 32) {
                throw new ConfigException(file + " must hold 32 bytes; delete it to make a new one"
                        + " (links sent before stop working)");
            }
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or make the file-link key " + file, e);
        }
    }
}
