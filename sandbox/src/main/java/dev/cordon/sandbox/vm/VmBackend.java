package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.process.HostProcesses;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * Sandboxes in QEMU virtual machines, with bubblewrap inside each: two walls. The guest runs the
 * host's distribution kernel and an initramfs Cordon builds ({@link Initramfs}); it sees the host's
 * {@code /usr} and the spec's mounts as 9p shares (read-only ones read-only in QEMU too), has no
 * network device at all ({@code -nic none}), and reaches the host only through virtio-serial ports:
 * one per Unix socket the spec mounts (the runner's channel, bridged in the guest by socat), one
 * for the exit status. The spec's command runs under the same bubblewrap command line and seccomp
 * filter as on the host ({@link Bubblewrap#argumentsElsewhere}), as the spec's uid, in a guest
 * cgroup with the spec's limits ({@link GuestScript}).
 *
 * <p>QEMU itself, when the daemon is root, opens what it needs and then drops to the spec's uid
 * ({@code -runas}), under its own seccomp filter ({@code -sandbox}): a guest that breaks out of
 * the hypervisor is an unprivileged process that can read what that uid can. Shares use {@code security_model=none}: files the guest writes belong to that uid.
 *
 * <p>Limits: memory is the guest cgroup's {@code memory.max}, and the VM gets that much plus {@link
 * #GUEST_OVERHEAD_MIB} for its own kernel; pids and CPU are the guest cgroup's, and the VM gets as
 * many virtual CPUs as the CPU limit rounds up to. What the cgroup recorded (OOM kills, refused
 * forks, peak memory, CPU time) comes back on the status port when the command ends.
 *
 * <p>Lifetime: the VM powers off when the command ends; {@link Sandbox#close} kills QEMU; and QEMU
 * dies with the daemon, even one killed with SIGKILL and whatever the guest is doing ({@link
 * VmHost#diesWithDaemon}).
 *
 * <p>Thread-safe.
 */
final class VmBackend implements SandboxBackend {
    static final long GUEST_OVERHEAD_MIB = 192;
    /** The VM's memory when the spec sets no limit. */
    static final long UNLIMITED_MIB = 2048;

    private static final List<String> TOP_LEVEL = List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32");

    private final VmHost host;
    private final Path initramfs;
    private final Accelerator.Verdict verdict;
    private final Path base;
    private final boolean root;
    private final byte[] seccomp;

    VmBackend(VmHost host, Path initramfs, Accelerator.Verdict verdict, Path base, boolean root, byte[] seccomp) {
        this.host = host;
        this.initramfs = initramfs;
        this.verdict = verdict;
        this.base = base;
        this.root = root;
        this.seccomp = seccomp.clone();
    }

    @Override
    public String name() {
        return "vm";
    }

    /** All three, by the guest kernel's cgroups. */
    @Override
    public Set<Limit> enforceableLimits() {
        return EnumSet.allOf(Limit.class);
    }

    @Override
    public Isolation isolation() {
        return Isolation.VM;
    }

    Accelerator.Verdict verdict() {
        return verdict;
    }

    /**
     * Writes the VM's boot directory and starts QEMU. Blocks for those (milliseconds); returns
     * before the guest has booted.
     */
    @Override
    public Sandbox start(SandboxSpec spec) {
        if (spec.uid() == 0 || spec.gid() == 0) {
            throw new SandboxException("refusing to run sandbox " + spec.id() + " as uid/gid 0");
        }
        Path dir = base.resolve(spec.id());
        try {
            Files.createDirectories(spec.log().getParent());
            deleteTree(dir);
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Path boot = openDirectory(dir.resolve("boot"));
            Guest guest = plan(spec, dir, boot);
            Files.write(boot.resolve("seccomp.bpf"), seccomp);
            Files.writeString(boot.resolve("start.sh"), guest.script());
            for (Path file : List.of(boot.resolve("seccomp.bpf"), boot.resolve("start.sh"))) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
            }
            List<String> argv = host.diesWithDaemon(qemu(spec, guest, dir), root);
            ProcessBuilder builder = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.PIPE)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            // QEMU's environment is not the daemon's: no secret of the host goes along.
            builder.environment().clear();
            Process process = HostProcesses.spawn(builder);
            CompletableFuture<Void> logged = HostProcesses.copyToLog(process, spec.log(), spec.id());
            return new VmSandbox(spec.id(), process, host.qemu().getFileName(), logged, dir);
        } catch (IOException | UncheckedIOException | SandboxException e) {
            deleteTree(dir);
            if (e instanceof SandboxException se) {
                throw se;
            }
            throw new SandboxException(
                    "could not start the microVM of sandbox " + spec.id() + ": " + e.getMessage()
                            + " (run ./cordon doctor)",
                    e);
        }
    }

    /** What the guest is made of: its shares, links, bridges and script, and QEMU's options for them. */
    private record Guest(String script, List<String> devices) {}

    private Guest plan(SandboxSpec spec, Path dir, Path boot) throws IOException {
        List<GuestScript.Share> shares = new ArrayList<>();
        List<GuestScript.Link> links = new ArrayList<>();
        List<GuestScript.Bridge> bridges = new ArrayList<>();
        List<String> devices = new ArrayList<>();
        share(devices, shares, "usr", Path.of("/usr"), "/usr", true);
        for (String name : TOP_LEVEL) {
            Path top = Path.of("/", name);
            if (Files.isSymbolicLink(top)) {
                links.add(new GuestScript.Link(
                        "/" + name, Files.readSymbolicLink(top).toString()));
            } else if (Files.isDirectory(top)) {
                share(devices, shares, "host-" + name, top, "/" + name, true);
            }
        }
        List<SandboxSpec.Mount> inGuest = new ArrayList<>();
        for (int i = 0; i < spec.mounts().size(); i++) {
            SandboxSpec.Mount m = spec.mounts().get(i);
            boolean readOnly = m.mode() == SandboxSpec.Mode.READ_ONLY;
            if (!Files.exists(m.source())) {
                throw new SandboxException("mount source " + m.source() + " for " + m.target() + " does not exist");
            }
            String guestPath = "/cordon/m/" + i;
            List<Path> sockets = Files.isDirectory(m.source()) ? sockets(m.source()) : List.of();
            if (!sockets.isEmpty()) {
                // A directory holding the host's end of a channel: in the guest, a directory with
                // the bridged sockets only (a host socket cannot be reached through a 9p share).
                guestPath = "/cordon/s/" + i;
                for (Path socket : sockets) {
                    String port = "cordon.sock." + bridges.size();
                    String id = "sock" + bridges.size();
                    devices.addAll(List.of("-chardev", "socket,id=" + id + ",path=" + option(socket)));
                    devices.addAll(List.of("-device", "virtserialport,chardev=" + id + ",name=" + port));
                    bridges.add(new GuestScript.Bridge(port, guestPath + "/" + socket.getFileName()));
                }
                inGuest.add(new SandboxSpec.Mount(Path.of(guestPath), m.target(), m.mode()));
            } else if (Files.isDirectory(m.source())) {
                share(devices, shares, "m" + i, m.source(), guestPath, readOnly);
                inGuest.add(new SandboxSpec.Mount(Path.of(guestPath), m.target(), m.mode()));
            } else {
                // 9p shares directories: a file is shared through a directory of its own (a hard
                // link, so writes reach the original; a copy where linking fails and it is read-only).
                Path holder = openDirectory(dir.resolve("files").resolve(Integer.toString(i)));
                Path linked = holder.resolve(m.source().getFileName());
                try {
                    Files.createLink(linked, m.source());
                } catch (IOException | UnsupportedOperationException e) {
                    if (!readOnly) {
                        throw new SandboxException("cannot share file " + m.source() + " read-write with a microVM:"
                                + " it cannot be hard-linked into " + holder + " (" + e.getMessage() + ")");
                    }
                    Files.copy(m.source(), linked, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
                share(devices, shares, "m" + i, holder, guestPath, readOnly);
                inGuest.add(new SandboxSpec.Mount(
                        Path.of(guestPath, m.source().getFileName().toString()), m.target(), m.mode()));
            }
        }
        share(devices, shares, "cordon-boot", boot, "/cordon/boot", true);
        // The boot share is mounted by the initramfs itself, before start.sh runs.
        shares.removeLast();
        SandboxSpec guestSpec = new SandboxSpec(
                spec.id(),
                inGuest,
                spec.command(),
                spec.env(),
                spec.uid(),
                spec.gid(),
                spec.hostname(),
                spec.workDir(),
                spec.log(),
                spec.limits());
        List<String> bwrap = Bubblewrap.argumentsElsewhere(guestSpec, host.bwrap(), host.setpriv());
        String script = GuestScript.render(
                shares,
                links,
                bridges,
                spec.limits(),
                spec.uid(),
                spec.gid(),
                host.socat().toString(),
                bwrap,
                "/cordon/boot/seccomp.bpf");
        return new Guest(script, devices);
    }

    private void share(
            List<String> devices,
            List<GuestScript.Share> shares,
            String tag,
            Path source,
            String guestPath,
            boolean readOnly) {
        String id = "fs" + shares.size();
        devices.addAll(List.of(
                "-fsdev",
                "local,id=" + id + ",path=" + option(source) + ",security_model=none,multidevs=remap"
                        + (readOnly ? ",readonly=on" : "")));
        devices.addAll(
                List.of("-device", verdict.accelerator().device("virtio-9p") + ",fsdev=" + id + ",mount_tag=" + tag));
        shares.add(new GuestScript.Share(tag, guestPath, readOnly));
    }

    private List<String> qemu(SandboxSpec spec, Guest guest, Path dir) {
        Limits limits = spec.limits();
        long memoryMib = (limits.memoryBytes() == 0 ? UNLIMITED_MIB : (limits.memoryBytes() + (1 << 20) - 1) >> 20)
                + GUEST_OVERHEAD_MIB;
        int cpus = Runtime.getRuntime().availableProcessors();
        int smp = limits.cpuMillicores() == 0 ? cpus : Math.clamp((limits.cpuMillicores() + 999) / 1000, 1, cpus);
        List<String> argv = new ArrayList<>(List.of(host.qemu().toString(), "-name", "cordon-" + spec.id()));
        argv.addAll(verdict.accelerator().machine());
        argv.addAll(List.of("-m", memoryMib + "M", "-smp", Integer.toString(smp)));
        argv.addAll(Accelerator.HEADLESS);
        argv.addAll(List.of(
                "-kernel",
                host.kernel().toString(),
                "-initrd",
                initramfs.toString(),
                "-append",
                "console=ttyS0 quiet loglevel=3 panic=-1"));
        argv.addAll(List.of("-device", verdict.accelerator().device("virtio-serial")));
        argv.addAll(guest.devices());
        argv.addAll(List.of("-chardev", "file,id=status,path=" + option(dir.resolve("status"))));
        argv.addAll(List.of("-device", "virtserialport,chardev=status,name=" + GuestScript.STATUS_PORT));
        argv.addAll(List.of("-sandbox", "on,obsolete=deny,spawn=deny,resourcecontrol=deny"));
        if (root) {
            // Not -chroot as well: QEMU's 9p server sets the mode of new files through /proc/self/fd.
            argv.addAll(List.of("-runas", spec.uid() + ":" + spec.gid()));
        }
        return argv;
    }

    /** A path as a QEMU option value: a comma is doubled, else it would end the value. */
    private static String option(Path path) {
        return path.toAbsolutePath().toString().replace(",", ",,");
    }

    private static List<Path> sockets(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(VmBackend::isSocket).sorted().toList();
        }
    }

    private static boolean isSocket(Path file) {
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static Path openDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            org.slf4j.LoggerFactory.getLogger(VmBackend.class).warn("could not remove {}: {}", dir, e.toString());
        }
    }
}
