package dev.cordon.sandbox;

import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.oci.Oci;
import dev.cordon.sandbox.vm.Vm;
import java.nio.file.Path;
import java.util.List;

/** Factories for the sandbox backends this host can run. */
public final class Sandboxes {
    /** Every backend Cordon has, weakest wall first; the first is the default. */
    public static final List<String> NAMES = List.of("bubblewrap", "runc", "crun", "podman", "runsc", "vm");

    private Sandboxes() {}

    /** The bubblewrap backend, found on the PATH. */
    public static SandboxBackend bubblewrap() {
        return Bubblewrap.backend();
    }

    /**
     * The backend called {@code name} (one of {@link #NAMES}); gVisor on its default platform; the
     * microVM's initramfs cached in the JVM's temp directory.
     *
     * @throws SandboxException if there is no such backend or it cannot run on this host; the
     *     message says why and what to do
     */
    public static SandboxBackend named(String name) {
        return named(name, Path.of(System.getProperty("java.io.tmpdir"), "cordon-cache"));
    }

    /**
     * As {@link #named(String)}, with the microVM's initramfs built into {@code cache} (the Cordon
     * home's cache directory).
     */
    public static SandboxBackend named(String name, Path cache) {
        return switch (name) {
            case "bubblewrap" -> Bubblewrap.backend();
            case "runc" -> Oci.runc();
            case "crun" -> Oci.crun();
            case "podman" -> Oci.podman();
            case "runsc" -> Oci.runsc(Oci.DEFAULT_PLATFORM);
            case "vm" -> Vm.backend(cache);
            default -> throw new SandboxException("no sandbox backend called '" + name + "'; there are " + NAMES);
        };
    }

    /**
     * The podman backend on the operator's {@code image} ({@code sandbox.image} in a policy) instead
     * of the host's system directories; Cordon never pulls it.
     *
     * @throws SandboxException if podman cannot run here or the image is not in podman's local
     *     store; the message names the image and the commands that put it there
     */
    public static SandboxBackend podman(String image) {
        return Oci.podman(image);
    }

    /** Whether {@code name} can be a policy's {@code sandbox.image}: an image reference, never an option. */
    public static boolean isImageName(String name) {
        return Oci.isImageName(name);
    }

    /** The wall of backend {@code name}, known without building it. */
    public static Isolation isolation(String name) {
        return switch (name) {
            case "bubblewrap", "runc", "crun", "podman" -> Isolation.CONTAINER;
            case "runsc" -> Isolation.GVISOR;
            case "vm" -> Isolation.VM;
            default -> throw new SandboxException("no sandbox backend called '" + name + "'; there are " + NAMES);
        };
    }

    /**
     * Whether backend {@code name} can be built here: its program is installed (and, for the OCI
     * runtimes, the daemon is root). Cheap: looks at files only; {@code ./cordon doctor} runs each.
     */
    public static boolean usable(String name) {
        return switch (name) {
            case "bubblewrap" -> Bubblewrap.find("bwrap").isPresent();
            case "runc", "crun", "podman", "runsc" -> Oci.usable(name);
            case "vm" -> Vm.usable();
            default -> false;
        };
    }
}
