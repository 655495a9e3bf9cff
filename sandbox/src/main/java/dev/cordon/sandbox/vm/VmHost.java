package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the microVM backend needs from this host: QEMU, a distribution kernel with its modules, a
 * static busybox for the initramfs, the programs the guest runs from the host's {@code /usr}
 * (bubblewrap and setpriv for the inner wall, socat for the channel's bridge), and setpriv and
 * unshare to bind each QEMU's life to the daemon's ({@link #diesWithDaemon}).
 *
 * @param kernel the newest {@code /boot/vmlinuz-*}
 * @param modules {@code /lib/modules/<version>} of that kernel
 */
record VmHost(
        Path qemu,
        Path kernel,
        String kernelVersion,
        Path modules,
        Path busybox,
        Path bwrap,
        Path setpriv,
        Path socat,
        Path unshare) {

    /** The apt packages that give everything {@link #find} looks for. */
    static final String PACKAGES = Vm.PACKAGES + " bubblewrap";

    /**
     * Finds everything on this host.
     *
     * @throws SandboxException naming each missing piece and the packages to install
     */
    static VmHost find() {
        return find(Path.of("/"));
    }

    /** As {@link #find()}, with {@code /boot} and {@code /lib/modules} under {@code root} (tests). */
    static VmHost find(Path root) {
        List<String> missing = new ArrayList<>();
        Path qemu = program("qemu-system-x86_64", missing);
        Path busybox = staticBusybox(root, missing);
        Path bwrap = program("bwrap", missing);
        Path setpriv = program("setpriv", missing);
        Path socat = program("socat", missing);
        Path unshare = program("unshare", missing);
        Optional<Path> kernel = newestKernel(root.resolve("boot"));
        String version = kernel.map(k -> k.getFileName().toString().substring("vmlinuz-".length()))
                .orElse("");
        Path modules = root.resolve("lib/modules").resolve(version);
        if (kernel.isEmpty()) {
            missing.add("a kernel (no " + root.resolve("boot") + "/vmlinuz-*)");
        } else if (!Files.isRegularFile(modules.resolve("modules.dep"))) {
            missing.add("the modules of kernel " + version + " (no " + modules.resolve("modules.dep") + ")");
        } else if (!Files.isReadable(kernel.get())) {
            missing.add("read access to " + kernel.get());
        }
        if (!missing.isEmpty()) {
            throw new SandboxException("the microVM backend cannot run on this host: missing "
                    + String.join(", ", missing) + ". Install them: apt-get install " + PACKAGES
                    + " (see ./cordon doctor)");
        }
        return new VmHost(qemu, kernel.get(), version, modules, busybox, bwrap, setpriv, socat, unshare);
    }

    /**
     * {@code qemu} (QEMU's command line) prefixed so that QEMU dies with the daemon, even a daemon
     * killed with SIGKILL, whatever the guest does: a guest need not power off when its channel
     * closes, and a boot that hangs never reaches the runner that would notice. Start it from
     * {@link dev.cordon.sandbox.process.HostProcesses#spawn}, whose thread lives as long as the JVM.
     *
     * <p>{@code setpriv --pdeathsig KILL} alone when QEMU keeps its uid. The kernel clears a
     * parent-death signal when a process changes its uid, which QEMU does with {@code -runas}; so a
     * QEMU that drops privileges runs as the child of a shell that is the first process of a new
     * pid namespace ({@code unshare --pid --fork --kill-child}). That shell keeps its uid and dies
     * with the daemon, and the kernel kills every process of a pid namespace whose first process
     * dies. The shell waits for QEMU and exits with its status.
     */
    List<String> diesWithDaemon(List<String> qemu, boolean dropsPrivileges) {
        List<String> argv = new ArrayList<>(List.of(setpriv.toString(), "--pdeathsig", "KILL", "--"));
        if (dropsPrivileges) {
            // Not `exec`, nor QEMU as the script's last command (which a shell may exec): the
            // shell must stay, as the namespace's first process.
            argv.addAll(List.of(
                    unshare.toString(),
                    "--pid",
                    "--fork",
                    "--kill-child=KILL",
                    "--",
                    "/bin/sh",
                    "-c",
                    "\"$@\"; exit $?",
                    "qemu"));
        }
        argv.addAll(qemu);
        return argv;
    }

    private static Path program(String name, List<String> missing) {
        Optional<Path> found = Bubblewrap.find(name);
        if (found.isEmpty()) {
            missing.add(name);
            return null;
        }
        return found.get();
    }

    /** busybox from busybox-static: the initramfs has no libraries, so a dynamic one cannot run there. */
    private static Path staticBusybox(Path root, List<String> missing) {
        Path busybox = root.resolve("bin/busybox");
        if (!Files.isRegularFile(busybox)) {
            missing.add("busybox (static)");
            return null;
        }
        try {
            if (Files.size(busybox) < 1_000_000) {
                // Debian's dynamic busybox is about 700 KB, the static one about 2 MB.
                missing.add("a static busybox (" + busybox + " is the dynamic one: apt-get install busybox-static)");
                return null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return busybox;
    }

    /** The {@code vmlinuz-*} in {@code boot} with the highest version, if any. */
    static Optional<Path> newestKernel(Path boot) {
        if (!Files.isDirectory(boot)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(boot)) {
            return files.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(
                            p -> KernelVersion.parse(p.getFileName().toString().substring("vmlinuz-".length()))));
        } catch (IOException e) {
            throw new SandboxException("cannot list " + boot + ": " + e.getMessage(), e);
        }
    }

    /** A kernel release such as {@code 6.1.0-57-amd64}, ordered by its numbers. */
    record KernelVersion(List<Integer> numbers, String text) implements Comparable<KernelVersion> {
        static KernelVersion parse(String text) {
            List<Integer> numbers = new ArrayList<>();
            for (String part : text.split("[^0-9]+")) {
                if (!part.isEmpty() && part.length() < 9) {
                    numbers.add(Integer.parseInt(part));
                }
            }
            return new KernelVersion(numbers, text);
        }

        @Override
        public int compareTo(KernelVersion other) {
            for (int i = 0; i < Math.min(numbers.size(), other.numbers.size()); i++) {
                int c = Integer.compare(numbers.get(i), other.numbers.get(i));
                if (c != 0) {
                    return c;
                }
            }
            int c = Integer.compare(numbers.size(), other.numbers.size());
            return c != 0 ? c : text.compareTo(other.text);
        }
    }
}
