package dev.cordon.sandbox.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The initramfs's kernel modules and its archive format, checked with the real {@code cpio}. */
class InitramfsTest {
    @TempDir
    Path dir;

    @Test
    void modulesComeAfterEveryModuleTheyDependOnAndBuiltInOnesAreLeftOut() throws Exception {
        Files.writeString(dir.resolve("modules.dep"), """
                kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko
                kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko
                kernel/net/9p/9pnet.ko:
                kernel/fs/netfs/netfs.ko:
                kernel/drivers/virtio/virtio_ring.ko:
                """);
        Files.writeString(dir.resolve("modules.builtin"), "kernel/drivers/virtio/virtio_pci.ko\n");

        List<Path> modules = Initramfs.modules(dir, List.of("9pnet_virtio", "9p", "virtio_pci"));

        assertThat(modules.stream().map(p -> p.getFileName().toString()))
                .containsExactly("9pnet.ko", "virtio_ring.ko", "9pnet_virtio.ko", "netfs.ko", "9p.ko");
    }

    @Test
    void aModuleThatIsNeitherBuiltNorBuiltInIsNamedInTheError() throws Exception {
        Files.writeString(dir.resolve("modules.dep"), "kernel/fs/9p/9p.ko:\n");

        assertThatThrownBy(() -> Initramfs.modules(dir, List.of("virtio_console")))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("kernel module virtio_console is neither in " + dir.resolve("modules.dep"));
    }

    @Test
    void theArchiveIsOneThatCpioReadsBackWithItsFilesModesAndLinks() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Cpio cpio = new Cpio(bytes);
        cpio.directory("cordon", 0755);
        cpio.file("cordon/init", 0755, "#!/bin/sh\necho odd-length\n".getBytes(StandardCharsets.UTF_8));
        cpio.symlink("bin", "usr/bin");
        cpio.finish();
        Path archive = Files.write(dir.resolve("test.cpio"), bytes.toByteArray());

        Process list = new ProcessBuilder("cpio", "-itv", "--quiet", "-F", archive.toString())
                .redirectErrorStream(true)
                .start();
        String listing = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(list.waitFor()).as(listing).isZero();
        assertThat(listing)
                .containsPattern("(?m)^drwxr-xr-x .* cordon$")
                .containsPattern("(?m)^-rwxr-xr-x .* 26 .* cordon/init$")
                .containsPattern("(?m)^lrwxrwxrwx .* bin -> usr/bin$");
    }
}
