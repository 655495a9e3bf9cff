package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.file.FileVault;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a home keeps the key its file links are signed with ({@code keys/file-links.key}), so that
 * replicas given the same key (docs/deploy-kubernetes.md) open each other's links over one shared
 * vault folder, and a home from before keeps its links working.
 */
class FileLinksKeyTest {
    private static final FileSettings SETTINGS =
            new FileSettings(10, URI.create("https://cordon.example.org"), Duration.ofHours(1), Duration.ofDays(30));

    @TempDir
    Path dir;

    FileVault shared;
    FileVault.Blob blob;

    @BeforeEach
    void putAFile() throws Exception {
        shared = new FileVault(dir.resolve("shared-files"));
        blob = shared.put(Channels.newChannel(new ByteArrayInputStream(new byte[] {7, 8, 9})), 10);
    }

    @Test
    void aLinkOneReplicaSendsOpensOnAnotherGivenTheSameKeyAndOnNoOtherHome() throws Exception {
        Home first = home("replica-0");
        Home second = home("replica-1");
        Home stranger = home("elsewhere");
        String[] link = link(links(first));
        // What the replicas' init container does with the key from the Secret.
        Files.createDirectories(second.fileLinksKey().getParent());
        Files.copy(first.fileLinksKey(), second.fileLinksKey());
        Files.setPosixFilePermissions(second.fileLinksKey(), PosixFilePermissions.fromString("rw-------"));

        try (InputStream in = open(links(second), link).orElseThrow()) {
            assertThat(in.readAllBytes()).containsExactly(7, 8, 9);
        }
        assertThat(open(links(stranger), link)).isEmpty();
        assertThat(Files.getPosixFilePermissions(first.fileLinksKey()))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void aKeyAnEarlierVersionKeptBesideTheDatabaseMovesToKeysAndItsLinksStillOpen() throws Exception {
        Home home = home("upgraded");
        Path earlier = home.data().resolve("file-links.key");
        Files.createDirectories(home.data());
        byte[] old = new byte[32];
        old[0] = 42;
        Files.write(earlier, old);
        Files.setPosixFilePermissions(earlier, PosixFilePermissions.fromString("rw-------"));
        String[] before = link(new FileLinks(shared, SETTINGS, earlier, Clock.systemUTC()));

        FileLinks after = links(home);

        assertThat(earlier).doesNotExist();
        assertThat(home.fileLinksKey()).hasBinaryContent(old);
        try (InputStream in = open(after, before).orElseThrow()) {
            assertThat(in.readAllBytes()).containsExactly(7, 8, 9);
        }
    }

    @Test
    void aKeyThatGroupOrOthersCanReadIsRefusedNamingTheFix() throws Exception {
        Home home = home("careless");
        links(home);
        Files.setPosixFilePermissions(home.fileLinksKey(), PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> links(home))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(home.fileLinksKey() + " is accessible to group or others (rw-r--r--)")
                .hasMessageContaining("chmod 600");
    }

    private Home home(String name) {
        return new Home(dir.resolve(name));
    }

    private FileLinks links(Home home) {
        return new FileLinks(shared, SETTINGS, FileLinks.keyIn(home), Clock.systemUTC());
    }

    /** The link's four parts: digest, expiry, MAC, name. */
    private String[] link(FileLinks links) {
        String text =
                links.inPlaceOf(new Attachment("r.bin", "application/octet-stream", 3, blob.sha256(), () -> null));
        String[] p = text.substring(text.indexOf(FileLinks.PREFIX) + FileLinks.PREFIX.length())
                .split("/");
        p[3] = URLDecoder.decode(p[3], StandardCharsets.UTF_8);
        return p;
    }

    private static Optional<InputStream> open(FileLinks links, String[] p) throws Exception {
        return links.open(p[0], p[1], p[2], p[3]);
    }
}
