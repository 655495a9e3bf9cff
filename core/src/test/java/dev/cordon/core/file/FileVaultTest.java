package dev.cordon.core.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vault's sweep on a real folder: what goes, what stays, and what it never touches. */
class FileVaultTest {
    static final Instant NOW = Instant.now();
    static final Instant CUTOFF = NOW.minus(Duration.ofDays(30));

    @TempDir
    Path dir;

    FileVault vault;

    @BeforeEach
    void open() {
        vault = new FileVault(dir.resolve("files"));
    }

    FileVault.Blob put(String text) throws Exception {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return vault.put(Channels.newChannel(new ByteArrayInputStream(bytes)), 1024);
    }

    Path file(FileVault.Blob blob) {
        return vault.path(blob.sha256()).orElseThrow();
    }

    static void age(Path file, Duration by) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(NOW.minus(by)));
    }

    @Test
    void anOldFileNoMessageNeedsGoesAndEverythingElseStays() throws Exception {
        FileVault.Blob unused = put("sent 40 days ago, delivered long since");
        FileVault.Blob needed = put("sent 40 days ago, still waiting for its chat");
        FileVault.Blob recent = put("sent yesterday");
        age(file(unused), Duration.ofDays(40));
        age(file(needed), Duration.ofDays(40));
        age(file(recent), Duration.ofDays(1));
        Path foreign = Files.writeString(vault.dir().resolve("NOTES.txt"), "an operator's note");
        age(foreign, Duration.ofDays(400));

        FileVault.Swept swept = vault.sweep(CUTOFF, Set.of(needed.sha256()));

        assertThat(swept).isEqualTo(new FileVault.Swept(1, unused.size()));
        assertThat(vault.path(unused.sha256())).isEmpty();
        assertThat(vault.path(needed.sha256())).isPresent();
        assertThat(vault.path(recent.sha256())).isPresent();
        assertThat(foreign).as("not a vault file: left alone").exists();
        assertThat(vault.sweep(CUTOFF, Set.of(needed.sha256()))).isEqualTo(new FileVault.Swept(0, 0));
        assertThat(vault.usage())
                .as("what cordon status shows: the kept files, not the note")
                .isEqualTo(new FileVault.Usage(2, needed.size() + recent.size()));
    }

    @Test
    void puttingTheSameBytesAgainRenewsTheFile() throws Exception {
        FileVault.Blob first = put("the weekly report");
        age(file(first), Duration.ofDays(40));

        FileVault.Blob again = put("the weekly report");

        assertThat(again).isEqualTo(first);
        assertThat(Files.getLastModifiedTime(file(again)).toInstant()).isAfter(CUTOFF);
        assertThat(vault.sweep(CUTOFF, Set.of()).files()).isZero();
        assertThat(vault.path(first.sha256())).isPresent();
    }

    @Test
    void theSameBytesPutByAnotherProcessWhileTheSweepDeletesThemStay() throws Exception {
        FileVault.Blob old = put("sent 40 days ago and again right now, on another replica");
        age(file(old), Duration.ofDays(40));
        // Another replica's vault on the same folder: this vault's lock does not hold it back.
        FileVault replica = new FileVault(vault.dir());
        vault.beforeMovingAside = () -> {
            try {
                replica.put(
                        Channels.newChannel(
                                new ByteArrayInputStream("sent 40 days ago and again right now, on another replica"
                                        .getBytes(StandardCharsets.UTF_8))),
                        1024);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };

        assertThat(vault.sweep(CUTOFF, Set.of())).isEqualTo(new FileVault.Swept(0, 0));

        assertThat(vault.path(old.sha256())).as("the new copy is back in place").isPresent();
        assertThat(Files.getLastModifiedTime(file(old)).toInstant()).isAfter(CUTOFF);
        try (var left = Files.list(vault.dir())) {
            assertThat(left).as("nothing left aside").containsExactly(file(old));
        }
    }

    /** Where a sweep moves a file it is about to delete (FileVault.ASIDE_PREFIX). */
    Path aside(FileVault.Blob blob) {
        return vault.dir().resolve("sweeping-" + blob.sha256() + ".part");
    }

    @Test
    void aFileASweepLeftAsideWhenTheDaemonStoppedIsPutBackAndJudgedAgain() throws Exception {
        // The daemon stopped between moving each file aside and moving it back or deleting it.
        FileVault.Blob renewed = put("put again by another replica as the last sweep moved it");
        FileVault.Blob needed = put("old, but a message stored since needs it");
        FileVault.Blob unused = put("old and needed by nothing");
        age(file(needed), Duration.ofDays(40));
        age(file(unused), Duration.ofDays(40));
        for (FileVault.Blob blob : java.util.List.of(renewed, needed, unused)) {
            Files.move(file(blob), aside(blob));
        }

        FileVault.Swept swept = vault.sweep(CUTOFF, Set.of(needed.sha256()));

        assertThat(vault.path(renewed.sha256())).as("new: back in place").isPresent();
        assertThat(Files.readString(file(renewed)))
                .isEqualTo("put again by another replica as the last sweep moved it");
        assertThat(vault.path(needed.sha256())).as("in use: back in place").isPresent();
        assertThat(vault.path(unused.sha256()))
                .as("old and unused: deleted this time")
                .isEmpty();
        assertThat(swept).isEqualTo(new FileVault.Swept(1, unused.size()));
        try (var left = Files.list(vault.dir())) {
            assertThat(left).as("nothing left aside").containsExactlyInAnyOrder(file(renewed), file(needed));
        }
    }

    @Test
    void aCopyLeftAsideNeverReplacesTheSameBytesPutAgainSince() throws Exception {
        FileVault.Blob blob = put("moved aside, then put again before the next sweep");
        Path aside = Files.copy(file(blob), aside(blob));
        age(aside, Duration.ofDays(40));
        Instant put = Files.getLastModifiedTime(file(blob)).toInstant();

        assertThat(vault.sweep(CUTOFF, Set.of())).isEqualTo(new FileVault.Swept(0, 0));

        assertThat(aside).doesNotExist();
        assertThat(Files.getLastModifiedTime(file(blob)).toInstant())
                .as("the copy in place keeps the time of its put, or the sweep would delete it")
                .isEqualTo(put);
    }

    @Test
    void anUnfinishedDownloadACrashLeftGoesOnceItIsOld() throws Exception {
        Path stale = Files.writeString(vault.dir().resolve("incoming-123.part"), "half a file");
        Path fresh = Files.writeString(vault.dir().resolve("incoming-456.part"), "being written now");
        age(stale, Duration.ofDays(31));

        assertThat(vault.sweep(CUTOFF, Set.of())).isEqualTo(new FileVault.Swept(1, "half a file".length()));

        assertThat(stale).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void aLinkNamedLikeAFileIsNeitherFollowedNorItsTargetDeleted() throws Exception {
        Path outside = Files.writeString(dir.resolve("elsewhere.txt"), "not the vault's");
        age(outside, Duration.ofDays(40));
        Path link = Files.createSymbolicLink(vault.dir().resolve("ab".repeat(32)), outside);

        assertThat(vault.sweep(CUTOFF, Set.of()).files()).isZero();

        assertThat(outside).exists();
        assertThat(link).isSymbolicLink();
    }
}
