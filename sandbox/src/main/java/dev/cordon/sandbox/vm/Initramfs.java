package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.SandboxException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The initramfs every microVM boots: a static busybox, the kernel modules the guest needs for its
 * shares and ports (9p over virtio, virtio-serial, virtio on PCI and MMIO, with their
 * dependencies from {@code modules.dep}), and {@link #INIT}. Built once per kernel, busybox and
 * init script into the cache (a file named after their hash, written to the side and renamed into
 * place), so concurrent first uses never see half an archive.
 *
 * <p>{@link #INIT} is the first stage, the same for every VM: it loads the modules, then either
 * answers a probe ({@code cordon.probe} on the kernel command line: print {@link #PROBE_OK} and
 * power off) or mounts the per-VM share {@code cordon-boot} and switches to a fresh tmpfs root to
 * run the {@code start.sh} found there ({@link GuestScript}). A tmpfs root, not the initramfs
 * itself, because bubblewrap's {@code pivot_root} refuses the initramfs's rootfs.
 */
final class Initramfs {
    /** What the first stage prints when asked to probe: the kernel booted and ran our init. */
    static final String PROBE_OK = "cordon-vm-probe-ok";

    /** Modules the guest needs; their dependencies are added from {@code modules.dep}. */
    static final List<String> MODULES = List.of("virtio_pci", "virtio_mmio", "virtio_console", "9pnet_virtio", "9p");

    static final String INIT = """
            #!/cordon/busybox sh
            B=/cordon/busybox
            fail() { echo "cordon-vm: $*"; $B poweroff -f; }
            $B mount -t proc proc /proc && $B mount -t sysfs sys /sys && $B mount -t devtmpfs dev /dev \
                || fail "cannot mount proc, sys or dev"
            for m in $($B cat /cordon/modules.order); do
                $B insmod "/cordon/modules/$m" || fail "cannot load kernel module $m"
            done
            case " $($B cat /proc/cmdline) " in *" cordon.probe "*) echo %s; $B poweroff -f;; esac
            $B mkdir -p /newroot && $B mount -t tmpfs -o mode=0755 root /newroot || fail "cannot make the root"
            $B mkdir -p /newroot/cordon/boot /newroot/proc /newroot/sys /newroot/dev
            $B cp $B /newroot/cordon/busybox
            $B mount -t 9p -o trans=virtio,version=9p2000.L,ro cordon-boot /newroot/cordon/boot \
                || fail "cannot mount the boot share"
            for d in proc sys dev; do $B mount --move /$d /newroot/$d; done
            exec $B switch_root /newroot /cordon/busybox sh /cordon/boot/start.sh
            """.formatted(PROBE_OK);

    private Initramfs() {}

    /**
     * The initramfs for {@code host}, built into {@code cache} if it is not there yet.
     *
     * @throws SandboxException if a module is missing or the cache cannot be written
     */
    static Path ensure(VmHost host, Path cache) {
        try {
            List<Path> modules = modules(host.modules(), MODULES);
            StringBuilder recipe =
                    new StringBuilder(INIT).append(host.kernelVersion()).append('\n');
            recipe.append(host.busybox())
                    .append(' ')
                    .append(Files.size(host.busybox()))
                    .append('\n');
            for (Path module : modules) {
                recipe.append(module).append(' ').append(Files.size(module)).append('\n');
            }
            Path target = cache.resolve("initramfs-" + host.kernelVersion() + "-" + hash(recipe) + ".cpio");
            if (Files.isRegularFile(target)) {
                return target;
            }
            Files.createDirectories(cache);
            Path partial = Files.createTempFile(cache, ".initramfs-", ".partial");
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(partial))) {
                write(out, host.busybox(), modules);
            }
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new SandboxException("cannot build the microVM initramfs in " + cache + ": " + e.getMessage(), e);
        }
    }

    private static void write(OutputStream out, Path busybox, List<Path> modules) throws IOException {
        Cpio cpio = new Cpio(out);
        for (String dir : List.of("cordon", "cordon/modules", "proc", "sys", "dev", "newroot")) {
            cpio.directory(dir, 0755);
        }
        cpio.file("cordon/busybox", 0755, Files.readAllBytes(busybox));
        StringBuilder order = new StringBuilder();
        for (Path module : modules) {
            String name = module.getFileName().toString();
            cpio.file("cordon/modules/" + name, 0644, Files.readAllBytes(module));
            order.append(name).append('\n');
        }
        cpio.file("cordon/modules.order", 0644, order.toString().getBytes(StandardCharsets.UTF_8));
        cpio.file("init", 0755, INIT.getBytes(StandardCharsets.UTF_8));
        cpio.finish();
    }

    /**
     * The files of {@code wanted} and everything they depend on, each after its dependencies: the
     * order {@code insmod} needs.
     *
     * @throws SandboxException if a module is neither in {@code modules.dep} nor built in
     */
    static List<Path> modules(Path moduleDir, List<String> wanted) throws IOException {
        Map<String, String> paths = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        for (String line : Files.readAllLines(moduleDir.resolve("modules.dep"))) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String path = line.substring(0, colon).trim();
            String name = name(path);
            paths.put(name, path);
            List<String> these = new ArrayList<>();
            for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
                if (!dep.isEmpty()) {
                    these.add(name(dep));
                }
            }
            deps.put(name, these);
        }
        Set<String> builtIn = new LinkedHashSet<>();
        Path builtinList = moduleDir.resolve("modules.builtin");
        if (Files.isRegularFile(builtinList)) {
            Files.readAllLines(builtinList).forEach(l -> builtIn.add(name(l.trim())));
        }
        Set<String> ordered = new LinkedHashSet<>();
        for (String module : wanted) {
            visit(module, paths, deps, builtIn, ordered, moduleDir);
        }
        return ordered.stream().map(n -> moduleDir.resolve(paths.get(n))).toList();
    }

    private static void visit(
            String module,
            Map<String, String> paths,
            Map<String, List<String>> deps,
            Set<String> builtIn,
            Set<String> ordered,
            Path moduleDir) {
        if (ordered.contains(module)) {
            return;
        }
        if (!paths.containsKey(module)) {
            if (builtIn.contains(module)) {
                return;
            }
            throw new SandboxException("kernel module " + module + " is neither in " + moduleDir.resolve("modules.dep")
                    + " nor built into the kernel; the microVM needs it for its shares and channel");
        }
        for (String dep : deps.get(module)) {
            visit(dep, paths, deps, builtIn, ordered, moduleDir);
        }
        ordered.add(module);
    }

    /** {@code kernel/fs/9p/9p.ko.xz} → {@code 9p}; modprobe treats {@code -} and {@code _} alike. */
    private static String name(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        int ko = file.indexOf(".ko");
        return (ko < 0 ? file : file.substring(0, ko)).replace('-', '_');
    }

    private static String hash(CharSequence text) {
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
