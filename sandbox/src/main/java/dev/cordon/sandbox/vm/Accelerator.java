package dev.cordon.sandbox.vm;

import dev.cordon.sandbox.process.HostProcesses;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How QEMU runs a guest here. {@link #KVM}: the {@code microvm} machine (no PCI, no firmware
 * tables, virtio over MMIO) on hardware virtualisation; boots in well under a second. {@link
 * #TCG}: the {@code q35} machine under QEMU's own binary translator, for hosts whose {@code
 * /dev/kvm} is missing or cannot boot a stock kernel (a paravirtualised KVM, as in some cloud
 * VMs): the same guest, the same walls, seconds to boot. Not microvm under TCG: it has no PIT or
 * HPET, and without KVM's clock the guest kernel hangs calibrating its TSC (seen here).
 */
enum Accelerator {
    KVM(List.of("-M", "microvm", "-accel", "kvm", "-cpu", "host"), "-device"),
    TCG(List.of("-M", "q35", "-accel", "tcg", "-cpu", "max"), "-pci");

    private static final Logger LOG = LoggerFactory.getLogger(Accelerator.class);
    static final int PROBE_SECONDS = 20;

    /**
     * Every VM's: no default devices, no display, the serial console on QEMU's stdout (the log), no
     * reboot (a guest that reboots or panics ends), and no network device at all: the guest's only
     * ways out are the ports and shares it is given.
     */
    static final List<String> HEADLESS = List.of(
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot", "-nic", "none");

    private final List<String> machine;
    private final String bus;

    Accelerator(List<String> machine, String bus) {
        this.machine = machine;
        this.bus = bus;
    }

    /** QEMU's machine, accelerator and CPU options. */
    List<String> machine() {
        return machine;
    }

    /** The QEMU device that gives {@code virtio-9p}, {@code virtio-serial}: {@code -pci} or {@code -device} (MMIO). */
    String device(String virtio) {
        return virtio + bus;
    }

    /**
     * What the probe found: the accelerator to use and why, one line for {@code cordon doctor} and
     * the log.
     */
    record Verdict(Accelerator accelerator, String reason) {}

    /**
     * Boots {@code kernel} with {@code initramfs} under KVM on the microvm machine, asking the
     * initramfs to print {@link Initramfs#PROBE_OK} and power off. KVM is used only if that
     * happens within {@link #PROBE_SECONDS}; otherwise TCG, with what went wrong. Blocks for the
     * boot (well under a second where KVM works; a failing KVM usually fails at once, but a boot
     * can also hang and spin: QEMU dies with the daemon, see {@link VmHost#diesWithDaemon}).
     */
    static Verdict probe(VmHost host, Path initramfs, Path kvm) {
        Path qemu = host.qemu();
        if (!Files.exists(kvm)) {
            return new Verdict(TCG, "no " + kvm + ": emulated (TCG, q35), seconds per boot");
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return new Verdict(TCG, kvm + " is not usable by this user: emulated (TCG, q35)");
        }
        List<String> argv = new ArrayList<>(List.of(qemu.toString()));
        argv.addAll(KVM.machine());
        argv.addAll(List.of("-m", "256", "-smp", "1"));
        argv.addAll(HEADLESS);
        argv.addAll(List.of(
                "-kernel",
                host.kernel().toString(),
                "-initrd",
                initramfs.toString(),
                "-append",
                "console=ttyS0 panic=-1 cordon.probe"));
        String output;
        try {
            output = run(host.diesWithDaemon(argv, false), PROBE_SECONDS);
        } catch (IOException e) {
            return new Verdict(TCG, "could not run " + qemu + ": " + e.getMessage() + "; emulated (TCG, q35)");
        }
        if (output.contains(Initramfs.PROBE_OK)) {
            return new Verdict(KVM, "KVM boots the kernel: microvm on KVM");
        }
        String last = output.strip().lines().reduce((a, b) -> b).orElse("no output");
        LOG.info("KVM did not boot a microVM here ({}); microVMs run emulated (TCG)", last);
        return new Verdict(
                TCG, "KVM cannot boot the kernel here (" + last + "): emulated (TCG, q35), seconds per boot");
    }

    /** Runs {@code argv} for at most {@code seconds}; returns its output (stdout and stderr). */
    static String run(List<String> argv, int seconds) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        Process process = HostProcesses.spawn(builder);
        CompletableFuture<String> output = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                output.complete(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                output.complete("");
            }
        });
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return output.get(5, TimeUnit.SECONDS) + "\n(no answer within " + seconds + " s)";
            }
            return output.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return "interrupted";
        } catch (ExecutionException | TimeoutException e) {
            return "";
        }
    }
}
