package dev.cordon.sandbox.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.disk.WorkspaceQuota.Enforcement;
import dev.cordon.sandbox.disk.WorkspaceQuota.Support;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Why a host cannot enforce quotas, against sample trees standing in for {@code /}. */
class DetectionTest {
    static final String ROOT_STATUS =
            "Name:\tjava\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n" + "CapEff:\t000001ffffffffff\nSeccomp:\t0\n";

    @TempDir
    Path root;

    @Test
    void rootWithLoopDevicesAndE2fsprogsIsHard() throws IOException {
        capableHost();

        Detection.Host host = Detection.detect(root, false);

        assertThat(host.support().enforcement()).isEqualTo(Enforcement.HARD);
        assertThat(host.ext4().mkfs()).isEqualTo(Path.of("/usr/sbin/mkfs.ext4"));
        assertThat(host.ext4().mount()).isEqualTo(Path.of("/usr/bin/mount"));
        assertThat(host.ext4().cp()).isEqualTo(Path.of("/bin/cp"));
    }

    @Test
    void aNonRootDaemonCannotMountImages() throws IOException {
        capableHost();
        write("proc/self/status", "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");

        Support support = Detection.detect(root, false).support();

        assertThat(support.enforcement()).isEqualTo(Enforcement.UNAVAILABLE);
        assertThat(support.detail())
                .isEqualTo("the daemon runs as uid 1000, and mounting a workspace image needs root");
        assertThat(support.fix()).contains("run the Cordon daemon as root");
    }

    @Test
    void rootWithoutCapSysAdminIsAContainerThatCannotMount() throws IOException {
        capableHost();
        write("proc/self/status", "Uid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\n");

        Support support = Detection.detect(root, false).support();

        assertThat(support.enforcement()).isEqualTo(Enforcement.UNAVAILABLE);
        assertThat(support.detail()).contains("without CAP_SYS_ADMIN");
        assertThat(support.fix()).contains("CAP_SYS_ADMIN").contains("loop devices");
    }

    @Test
    void withoutLoopControlThereAreNoLoopDevices() throws IOException {
        capableHost();
        Files.delete(root.resolve("dev/loop-control"));

        Support support = Detection.detect(root, false).support();

        assertThat(support.enforcement()).isEqualTo(Enforcement.UNAVAILABLE);
        assertThat(support.detail()).startsWith("no /dev/loop-control");
        assertThat(support.fix()).contains("modprobe loop").contains("--device /dev/loop-control");
    }

    @Test
    void withoutMkfsTheFixIsToInstallE2fsprogs() throws IOException {
        capableHost();
        Files.delete(root.resolve("usr/sbin/mkfs.ext4"));

        Detection.Host host = Detection.detect(root, false);

        assertThat(host.support().enforcement()).isEqualTo(Enforcement.UNAVAILABLE);
        assertThat(host.support().detail()).startsWith("mkfs.ext4 not found in /usr/sbin, /sbin, /usr/bin, /bin");
        assertThat(host.support().fix()).contains("apt-get install e2fsprogs");
        assertThat(host.ext4()).isNull();
    }

    @Test
    void anUnreadableProcIsReportedNotThrown() {
        Support support = Detection.detect(root, false).support();

        assertThat(support.enforcement()).isEqualTo(Enforcement.UNAVAILABLE);
        assertThat(support.detail()).contains("/proc/self/status");
    }

    @Test
    void anUnavailableHostRefusesToAttachAndSaysHowToOptOut() throws IOException {
        capableHost();
        write("proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n");
        WorkspaceQuota quota = new LoopQuota(Detection.detect(root, false));
        Path ws = Files.createDirectory(root.resolve("workspace"));

        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> quota.attach(ws, root.resolve("workspace.img"), 32L << 20, 200_001))
                .isInstanceOf(dev.cordon.core.sandbox.SandboxException.class)
                .hasMessageContaining("cannot put a disk quota on " + ws)
                .hasMessageContaining("uid 1000")
                .hasMessageContaining("sandbox.unenforced_limits");
        assertThat(root.resolve("workspace.img")).doesNotExist();
    }

    private void capableHost() throws IOException {
        write("proc/self/status", ROOT_STATUS);
        write("dev/loop-control", "");
        for (String program : List.of(
                "usr/sbin/mkfs.ext4",
                "usr/sbin/e2fsck",
                "usr/sbin/resize2fs",
                "usr/bin/mount",
                "usr/bin/umount",
                "bin/cp")) {
            Path file = write(program, "#!/bin/sh\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private Path write(String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }
}
