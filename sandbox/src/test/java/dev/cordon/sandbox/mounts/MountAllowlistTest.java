package dev.cordon.sandbox.mounts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.sandbox.mounts.MountException.Rule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Validation of the operator's allowlist entries, on real directories and symlinks. */
class MountAllowlistTest {
    @TempDir
    Path dir;

    Path home() {
        return dir.resolve("cordon-home");
    }

    MountAllowlist allow(AllowedRoot... entries) {
        return MountAllowlist.of(List.of(entries), home());
    }

    static AllowedRoot ro(Path path) {
        return new AllowedRoot(path, Mode.READ_ONLY);
    }

    @Test
    void entriesAreKeptResolvedAndInOrder() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        MountAllowlist allowlist = allow(new AllowedRoot(b, Mode.READ_WRITE, true), ro(a));
        assertThat(allowlist.roots())
                .containsExactly(
                        new AllowedRoot(b.toRealPath(), Mode.READ_WRITE, true),
                        new AllowedRoot(a.toRealPath(), Mode.READ_ONLY, false));
    }

    @Test
    void aSymlinkedEntryIsResolvedToItsRealDirectory() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real-data"));
        Path link = Files.createSymbolicLink(dir.resolve("data-link"), real);
        assertThat(allow(ro(link)).roots()).extracting(AllowedRoot::path).containsExactly(real.toRealPath());
    }

    @Test
    void aSymlinkedEntryPointingAtASystemDirectoryIsRefused() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("innocent"), Path.of("/etc"));
        assertThatThrownBy(() -> allow(ro(link)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("mount allowlist entry " + link + " (resolves to /etc) refused")
                .hasMessageContaining("(rule: system-path)")
                .extracting(e -> ((MountException) e).rule())
                .isEqualTo(Rule.SYSTEM_PATH);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/",
                "/proc",
                "/sys",
                "/dev",
                "/dev/shm",
                "/etc",
                "/etc/ssl",
                "/boot",
                "/root",
                "/usr",
                "/usr/share",
                "/run",
                "/var/run",
                "/var/lib",
                "/home",
                "/tmp",
                "/var/tmp"
            })
    void systemDirectoriesCannotBeAllowed(String path) {
        assertThatThrownBy(() -> allow(ro(Path.of(path))))
                .isInstanceOf(MountException.class)
                .hasMessageStartingWith("mount allowlist entry " + path + " ")
                .hasMessageContaining("(rule: system-path)");
    }

    @Test
    void anEntryInsideTheCordonHomeIsRefused() throws Exception {
        Path workspaces = Files.createDirectories(home().resolve("agents"));
        assertThatThrownBy(() -> allow(ro(workspaces)))
                .isInstanceOf(MountException.class)
                .hasMessageStartingWith("mount allowlist entry " + workspaces + " refused: is inside the Cordon home")
                .hasMessageContaining("(rule: cordon-home)");
    }

    @Test
    void anEntryThatContainsTheCordonHomeIsRefused() throws Exception {
        Files.createDirectories(home());
        assertThatThrownBy(() -> allow(ro(dir)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("contains the Cordon home")
                .hasMessageContaining("(rule: cordon-home)");
    }

    @Test
    void anEntryReachingTheCordonHomeThroughASymlinkIsRefused() throws Exception {
        Path agents = Files.createDirectories(home().resolve("agents"));
        Path link = Files.createSymbolicLink(dir.resolve("looks-harmless"), agents);
        assertThatThrownBy(() -> allow(ro(link)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("(rule: cordon-home)");
    }

    @Test
    void aRelativeEntryIsRefused() {
        assertThatThrownBy(() -> allow(ro(Path.of("srv/data"))))
                .isInstanceOf(MountException.class)
                .hasMessageStartingWith("mount allowlist entry srv/data refused: not an absolute path (rule: entry)");
    }

    @Test
    void aMissingEntryIsRefused() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> allow(ro(missing)))
                .isInstanceOf(MountException.class)
                .hasMessageStartingWith("mount allowlist entry " + missing + " refused: does not exist (rule: entry)");
    }

    @Test
    void anEntryThatIsAFileIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        assertThatThrownBy(() -> allow(ro(file)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("refused: not a directory (rule: entry)");
    }

    @Test
    void nestedOrDuplicateEntriesAreRefused() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data/archive"));
        assertThatThrownBy(() -> allow(ro(data.getParent()), ro(data)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("nested with entry " + data.getParent().toRealPath())
                .hasMessageContaining("(rule: entry)");
        Path link = Files.createSymbolicLink(dir.resolve("same"), data);
        assertThatThrownBy(() -> allow(ro(data), ro(link)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("listed twice");
    }

    @Test
    void siblingEntriesWithACommonPrefixAreNotNested() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path data2 = Files.createDirectories(dir.resolve("data2"));
        assertThat(allow(ro(data), ro(data2)).roots()).hasSize(2);
    }

    @Test
    void anEntryWithACredentialComponentIsRefused() throws Exception {
        Path keys = Files.createDirectories(dir.resolve("bob/.ssh"));
        assertThatThrownBy(() -> allow(new AllowedRoot(keys, Mode.READ_ONLY, true)))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("refused: credential-like path component '.ssh' (rule: credentials)");
    }

    @Test
    void noneRefusesEveryRequestAndNamesTheOperatorsSetting() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        assertThat(MountAllowlist.none().roots()).isEmpty();
        assertThatThrownBy(
                        () -> MountAllowlist.none().check(new MountRequest(data, "/mnt/data", Mode.READ_ONLY), false))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("mount allowlist is empty")
                .hasMessageContaining("(rule: allowlist)")
                .hasMessageContaining("sandbox.mount_allowlist");
    }
}
