package dev.cordon.sandbox.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.cgroup.CgroupHost;
import dev.cordon.sandbox.seccomp.Seccomp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the OCI backends owe the host beyond the escape suite: nothing is left behind after a
 * sandbox is closed, and what a crashed daemon left is removed by the next one. Each runtime
 * keeps its state in a directory of the test's, so other runs on the machine are not touched.
 */
class OciBackendTest {
    @TempDir
    Path dir;

    private OciBackend backend(String runtime, String owner) {
        Path base = dir.resolve(runtime);
        Path program = Bubblewrap.find(runtime).orElseThrow();
        OciRuntime r = switch (runtime) {
            case "runc" -> OciRuntime.runc(program, base.resolve("state"));
            case "crun" -> OciRuntime.crun(program, base.resolve("state"), OciRuntime.unifiedHoldsControllers());
            default -> OciRuntime.runsc(program, base.resolve("state"), Oci.DEFAULT_PLATFORM);
        };
        return new OciBackend(r, CgroupHost.detect(), Seccomp.ociProfile(), base.resolve("bundles"), owner);
    }

    private SandboxSpec spec(String id, String script) throws IOException {
        Path workspace = Files.createDirectories(dir.resolve("ws-" + id));
        Files.setAttribute(workspace, "unix:uid", 200_090);
        return new SandboxSpec(
                id,
                List.of(new SandboxSpec.Mount(workspace, "/workspace", SandboxSpec.Mode.READ_WRITE)),
                List.of("/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin"),
                200_090,
                200_090,
                "cordon",
                "/workspace",
                dir.resolve("logs").resolve(id + ".log"),
                Limits.DEFAULTS);
    }

    private static String runtimeList(OciBackend backend) throws Exception {
        Process p = new ProcessBuilder(backend.runtime().command("list"))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        return out;
    }

    /**
     * The groups named {@code id} under a {@code cordon} parent, in every hierarchy, below this
     * process's own group or at the top (where a runtime without a cgroup namespace puts them).
     */
    private static List<Path> groupsNamed(String id) throws IOException {
        List<String> own = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                .map(l -> l.substring(l.indexOf(':', l.indexOf(':') + 1) + 1))
                .distinct()
                .toList();
        List<Path> found = new java.util.ArrayList<>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                for (String group : own) {
                    for (Path candidate : List.of(
                            h.resolve(group.substring(1)).resolve("cordon").resolve(id),
                            h.resolve("cordon").resolve(id))) {
                        if (Files.isDirectory(candidate) && !found.contains(candidate)) {
                            found.add(candidate);
                        }
                    }
                }
            }
        }
        return found;
    }

    private void awaitStarted(String id) throws Exception {
        Path log = dir.resolve("logs").resolve(id + ".log");
        for (int i = 0; i < 600 && !(Files.exists(log) && Files.readString(log).contains("started")); i++) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(log)).contains("started");
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun", "runsc"})
    void closingASandboxLeavesNoContainerNoBundleAndNoCgroupBehind(String runtime) throws Exception {
        OciBackend backend = backend(runtime, OciBackend.selfOwner());
        String id = "close-" + runtime + "-" + ProcessHandle.current().pid();
        Sandbox sandbox = backend.start(spec(id, "echo started; sleep 60"));
        awaitStarted(id);
        assertThat(runtimeList(backend)).contains(id);
        assertThat(groupsNamed(id)).isNotEmpty();

        sandbox.close();

        assertThat(sandbox.exit()).isDone();
        assertThat(runtimeList(backend)).doesNotContain(id);
        assertThat(backend.bundles().resolve(id)).doesNotExist();
        assertThat(groupsNamed(id)).as("cgroups of the closed sandbox").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun", "runsc"})
    void aSandboxLeftByADaemonThatDiedIsKilledAndRemovedByTheNextBackend(String runtime) throws Exception {
        // A bundle owned by pid 1 with another start time: a daemon that is gone.
        OciBackend crashed = backend(runtime, "1 0");
        String id = "crashed-" + runtime + "-" + ProcessHandle.current().pid();
        Sandbox orphan = crashed.start(spec(id, "echo started; sleep 600"));
        awaitStarted(id);

        OciBackend next = backend(runtime, OciBackend.selfOwner());
        next.reclaimStale();

        assertThat(orphan.exit().get(20, TimeUnit.SECONDS))
                .as("the left sandbox was killed")
                .isNotZero();
        assertThat(runtimeList(next)).doesNotContain(id);
        assertThat(next.bundles().resolve(id)).doesNotExist();
        assertThat(groupsNamed(id)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun", "runsc"})
    void aSandboxOfALiveDaemonIsLeftAlone(String runtime) throws Exception {
        OciBackend mine = backend(runtime, OciBackend.selfOwner());
        String id = "alive-" + runtime + "-" + ProcessHandle.current().pid();
        try (Sandbox sandbox = mine.start(spec(id, "echo started; sleep 600"))) {
            awaitStarted(id);
            backend(runtime, OciBackend.selfOwner()).reclaimStale();

            assertThat(sandbox.isAlive()).isTrue();
            assertThat(mine.bundles().resolve(id)).exists();
        }
    }

    /**
     * crun gives the descriptors 0-2 it is started with to the container's uid; the backend must
     * never hand it one of the host's (its stdin is the daemon's /dev/null, its output the log pipe).
     * Owner changes on this machine's /dev/null do not stick, but its change time shows them.
     */
    @org.junit.jupiter.api.Test
    void crunNeverChangesTheOwnerOfAHostDescriptor() throws Exception {
        Path devNull = Path.of("/dev/null");
        Object changed = Files.getAttribute(devNull, "unix:ctime");
        Object owner = Files.getAttribute(devNull, "unix:uid");
        OciBackend backend = backend("crun", OciBackend.selfOwner());
        String id = "stdio-crun-" + ProcessHandle.current().pid();

        try (Sandbox sandbox = backend.start(spec(id, "echo started; stat -L -c 'stdout-owner=%u' /proc/self/fd/1"))) {
            assertThat(sandbox.exit().get(30, TimeUnit.SECONDS)).isZero();
        }

        String log = Files.readString(dir.resolve("logs").resolve(id + ".log"));
        assertThat(log).contains("started", "stdout-owner=0");
        assertThat(Files.getAttribute(devNull, "unix:ctime")).isEqualTo(changed);
        assertThat(Files.getAttribute(devNull, "unix:uid")).isEqualTo(owner);
    }

    private PodmanBackend podman(String owner) {
        return new PodmanBackend(
                Bubblewrap.find("podman").orElseThrow(),
                Bubblewrap.find("crun").orElseThrow(),
                CgroupHost.detect(),
                Seccomp.ociProfile(),
                dir.resolve("podman"),
                owner,
                null);
    }

    private static String podmanContainers(PodmanBackend backend) throws Exception {
        Process p = new ProcessBuilder(backend.command("ps", "--all", "--format={{.Names}}"))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        return out;
    }

    @org.junit.jupiter.api.Test
    void closingAPodmanSandboxLeavesNoContainerNoRootfsAndNoCgroupBehind() throws Exception {
        PodmanBackend backend = podman(OciBackend.selfOwner());
        String id = "close-podman-" + ProcessHandle.current().pid();
        Sandbox sandbox = backend.start(spec(id, "echo started; sleep 60"));
        awaitStarted(id);
        assertThat(podmanContainers(backend)).contains(PodmanBackend.containerName(id));
        assertThat(groupsNamed(id)).isNotEmpty();

        sandbox.close();

        assertThat(sandbox.exit()).isDone();
        assertThat(podmanContainers(backend)).doesNotContain(PodmanBackend.containerName(id));
        assertThat(dir.resolve("podman/rootfs").resolve(id)).doesNotExist();
        assertThat(groupsNamed(id)).as("cgroups of the closed sandbox").isEmpty();
    }

    @org.junit.jupiter.api.Test
    void aPodmanSandboxLeftByADaemonThatDiedIsKilledAndRemovedByTheNextBackend() throws Exception {
        PodmanBackend crashed = podman("1 0");
        String id = "crashed-podman-" + ProcessHandle.current().pid();
        Sandbox orphan = crashed.start(spec(id, "echo started; sleep 600"));
        awaitStarted(id);

        podman(OciBackend.selfOwner()).reclaimStale();

        assertThat(orphan.exit().get(20, TimeUnit.SECONDS))
                .as("the left sandbox was killed")
                .isNotZero();
        assertThat(podmanContainers(crashed)).doesNotContain(PodmanBackend.containerName(id));
        assertThat(dir.resolve("podman/rootfs").resolve(id)).doesNotExist();
        assertThat(groupsNamed(id)).isEmpty();
    }
}
