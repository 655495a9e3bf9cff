package dev.cordon.sandbox.oci;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * An image the operator names for the podman backend ({@code sandbox.image} in a policy): it gives
 * the sandbox its root filesystem in place of the host's system directories. Cordon never pulls
 * it: podman runs with {@code --pull=never}, and a start checks first that the image is already in
 * podman's local store, so an image missing here is refused with the commands that put it there.
 *
 * <p>The host's JDK is still the one the runner runs with: a command whose program is {@code
 * <home>/bin/java} gets {@code <home>} bound read-only at the same path, because the runner's AOT
 * cache is valid only for that exact JDK at that path (docs/isolation.md). Immutable.
 */
record PodmanImage(String name) {
    /** A reference podman accepts ({@code [registry/]name[:tag][@digest]}); never an option. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}");

    private static final long CHECK_SECONDS = 30;

    /** Whether {@code name} is an image reference podman accepts (what a policy's sandbox.image must be). */
    static boolean isName(String name) {
        return NAME.matcher(name).matches();
    }

    /** @throws SandboxException if {@code name} is not an image reference */
    PodmanImage {
        if (!isName(name)) {
            throw new SandboxException("not an image name: '" + name + "' (expected [registry/]name[:tag])");
        }
    }

    /**
     * Blocks while {@code podman image exists} runs (tens of ms).
     *
     * @param podman builds a podman command line from its arguments
     * @throws SandboxException if the image is not in podman's local store, naming it and what to run
     */
    void requirePresent(Function<String[], List<String>> podman) {
        int exit;
        try {
            Process p = new ProcessBuilder(podman.apply(new String[] {"image", "exists", name}))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(CHECK_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new SandboxException(
                        "podman image exists " + name + " did not finish within " + CHECK_SECONDS + " s");
            }
            exit = p.exitValue();
        } catch (IOException e) {
            throw new SandboxException("cannot run podman to look for image " + name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while looking for image " + name, e);
        }
        if (exit != 0) {
            throw new SandboxException("image " + name + " (sandbox.image) is not in podman's local store, and"
                    + " Cordon never pulls images: as root, run `podman pull " + name + "` where a registry is"
                    + " reachable, or `podman load -i FILE` / `podman import ROOTFS.tar " + name + "` here");
        }
    }

    /**
     * The binds a sandbox of {@code spec} gets on this image: the spec's mounts, then the host JDK
     * its command runs, if no mount of the spec already holds it.
     *
     * @throws SandboxException if a mount source of the spec does not exist
     */
    static List<SandboxSpec.Mount> binds(SandboxSpec spec) {
        List<SandboxSpec.Mount> binds = new ArrayList<>();
        for (SandboxSpec.Mount m : spec.mounts()) {
            if (!Files.exists(m.source())) {
                throw new SandboxException("mount source " + m.source() + " for " + m.target() + " does not exist");
            }
            binds.add(m);
        }
        Path program = Path.of(spec.command().getFirst());
        Path bin = program.getParent();
        if (program.isAbsolute()
                && program.getFileName().toString().equals("java")
                && bin != null
                && bin.getFileName() != null
                && bin.getFileName().toString().equals("bin")
                && bin.getParent() != null
                && Files.isDirectory(bin.getParent())) {
            Path home = bin.getParent();
            boolean held = spec.mounts().stream().anyMatch(m -> home.startsWith(Path.of(m.target())));
            if (!held) {
                binds.add(new SandboxSpec.Mount(home, home.toString(), SandboxSpec.Mode.READ_ONLY));
            }
        }
        return binds;
    }
}
