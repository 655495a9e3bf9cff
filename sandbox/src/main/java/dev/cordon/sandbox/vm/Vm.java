package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.seccomp.Seccomp;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the microVM backend (QEMU; docs/isolation.md). Which accelerator it uses is probed once
 * per kernel and JVM: KVM on the microvm machine where a real boot under KVM works, else QEMU's
 * emulation (TCG) on q35.
 */
public final class Vm {
    private static final Logger LOG = LoggerFactory.getLogger(Vm.class);
    private static final Map<String, Accelerator.Verdict> VERDICTS = new ConcurrentHashMap<>();

    /** The apt packages the backend needs beyond bubblewrap: QEMU, the guest's kernel, the initramfs's shell, the channel's bridge. */
    public static final String PACKAGES = "qemu-system-x86 linux-image-amd64 busybox-static socat";

    private Vm() {}

    /**
     * The microVM backend; builds the initramfs into {@code cache} on first use and probes KVM once.
     * Blocks for those (a boot under KVM, or its failure; seconds at most). Each VM's files live
     * under {@code cache/vm/run/<sandbox id>} while it runs; building a backend removes what is
     * there, so build one per cache (one daemon per home).
     *
     * @param cache a directory of Cordon's home cache, e.g. {@code <home>/cache}
     * @throws SandboxException if QEMU, a kernel, busybox-static, socat or bubblewrap is missing;
     *     the message names each and the packages to install
     */
    public static SandboxBackend backend(Path cache) {
        VmHost host = VmHost.find();
        Path initramfs = Initramfs.ensure(host, cache.resolve("vm"));
        Accelerator.Verdict verdict = verdict(host, initramfs);
        LOG.info("microVM backend: kernel {}, {}", host.kernelVersion(), verdict.reason());
        Path run = cache.resolve("vm").resolve("run");
        // What a daemon that crashed left (its VMs died with it: VmHost.diesWithDaemon).
        VmBackend.deleteTree(run);
        return new VmBackend(host, initramfs, verdict, run, Bubblewrap.isRoot(), Seccomp.defaultFilter());
    }

    /** Whether {@link #backend} can be built here: every program and the kernel are installed. Cheap: files only. */
    public static boolean usable() {
        try {
            VmHost.find();
            return true;
        } catch (SandboxException e) {
            return false;
        }
    }

    /**
     * For {@code cordon doctor}: the kernel and accelerator the backend would use here, one line.
     *
     * @throws SandboxException if the backend cannot run here, saying what is missing
     */
    public static String describe(Path cache) {
        VmHost host = VmHost.find();
        Accelerator.Verdict verdict = verdict(host, Initramfs.ensure(host, cache.resolve("vm")));
        return "kernel " + host.kernelVersion() + "; " + verdict.reason();
    }

    private static Accelerator.Verdict verdict(VmHost host, Path initramfs) {
        return VERDICTS.computeIfAbsent(
                host.kernel() + " " + initramfs, key -> Accelerator.probe(host, initramfs, Path.of("/dev/kvm")));
    }
}
