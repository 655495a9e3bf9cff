package dev.cordon.sandbox.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the guest's kernel and modules, and what a host without them is told. */
class VmHostTest {
    @TempDir
    Path root;

    @Test
    void theNewestKernelIsPickedByItsVersionNumbersNotItsName() throws Exception {
        Path boot = Files.createDirectories(root.resolve("boot"));
        for (String version : List.of("6.1.0-9-amd64", "6.1.0-57-amd64", "5.10.0-30-amd64")) {
            Files.writeString(boot.resolve("vmlinuz-" + version), "kernel");
        }
        Files.writeString(boot.resolve("config-6.2.0-1-amd64"), "not a kernel");

        assertThat(VmHost.newestKernel(boot)).contains(boot.resolve("vmlinuz-6.1.0-57-amd64"));
    }

    @Test
    void aHostWithoutAKernelIsRefusedNamingWhatIsMissingAndThePackages() {
        assertThatThrownBy(() -> VmHost.find(root))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("a kernel (no " + root.resolve("boot") + "/vmlinuz-*)")
                .hasMessageContaining("apt-get install qemu-system-x86 linux-image-amd64 busybox-static socat");
    }

    @Test
    void aKernelWithoutItsModulesIsRefusedNamingTheModulesFile() throws Exception {
        Files.writeString(Files.createDirectories(root.resolve("boot")).resolve("vmlinuz-6.1.0-57-amd64"), "k");

        assertThatThrownBy(() -> VmHost.find(root))
                .hasMessageContaining("the modules of kernel 6.1.0-57-amd64 (no "
                        + root.resolve("lib/modules/6.1.0-57-amd64/modules.dep") + ")");
    }
}
