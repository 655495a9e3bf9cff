package dev.cordon.sandbox.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import dev.cordon.sandbox.disk.WorkspaceQuota.Attachment;
import dev.cordon.sandbox.disk.WorkspaceQuota.Enforcement;
import dev.cordon.sandbox.disk.WorkspaceQuota.Step;
import dev.cordon.sandbox.disk.WorkspaceQuota.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real quotas on this machine (root, loop devices; see FACTS.md): real images, real mounts, and
 * writes from inside real bubblewrap sandboxes. Every workspace is detached after each test, and the
 * test fails if a loop device is still bound to one of its images.
 */
class WorkspaceQuotaTest {
    static final int UID = 200_081;
    static final int NEIGHBOUR_UID = 200_082;
    static final long MIB = 1L << 20;

    private static final WorkspaceQuota QUOTA = WorkspaceQuota.detect();
    private static final SandboxBackend BACKEND = Bubblewrap.backend();
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @TempDir
    Path dir;

    Path agent;
    Path ws;
    Path img;
    final List<Path> attached = new ArrayList<>();

    @BeforeEach
    void agentHome() throws IOException {
        agent = Files.createDirectory(dir.resolve("agent"));
        ws = agent.resolve("workspace");
        img = agent.resolve("workspace.img");
    }

    @AfterEach
    void detachEverything() throws Exception {
        for (Path workspace : attached) {
            try {
                QUOTA.detach(workspace);
            } catch (SandboxException e) {
                // Something else is mounted there (a test's tmpfs); the sweep below unmounts it.
            }
        }
        // Whatever a failed test left mounted below the temp dir (a tmpfs, a staging mount).
        for (MountTable.Entry entry : MountTable.read().reversed()) {
            if (entry.mountPoint().startsWith(dir.toRealPath().toString())) {
                run("/usr/bin/umount", entry.mountPoint());
            }
        }
        assertThat(awaitNoLoopDevices())
                .as("loop devices still bound to images in " + dir)
                .isEmpty();
    }

    @Test
    void thisHostEnforcesHardQuotas() {
        assertThat(QUOTA.support().enforcement()).as(QUOTA.support().detail()).isEqualTo(Enforcement.HARD);
        assertThat(QUOTA.support().detail()).contains("loop-mounted ext4");
        assertThat(QUOTA.support().fix()).isEmpty();
    }

    @Test
    void attachMountsASparseExt4ImageOfTheQuotaOwnedByTheAgent() throws Exception {
        Attachment attachment = attach(ws, img, 64 * MIB, UID);

        assertThat(attachment.steps()).containsExactly(Step.CREATED, Step.MOUNTED);
        MountTable.Entry mount = MountTable.topAt(ws.toRealPath()).orElseThrow();
        assertThat(mount.type()).isEqualTo("ext4");
        assertThat(mount.options()).contains("nodev", "nosuid").doesNotContain("noexec");
        assertThat(MountTable.backingFile(mount.source()))
                .contains(img.toRealPath().toString());
        // ext4 keeps a few percent for its metadata and journal; the rest is the agent's.
        assertThat(attachment.usage().totalBytes()).isBetween(54 * MIB, 64 * MIB);
        assertThat(Files.getAttribute(ws, "unix:uid")).isEqualTo(UID);
        assertThat(Files.getAttribute(ws, "unix:gid")).isEqualTo(UID);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ws)))
                .isEqualTo("rwx--x--x");
        assertThat(Files.getAttribute(img, "unix:uid")).isEqualTo(0);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(img)))
                .isEqualTo("rw-------");
        assertThat(Files.size(img)).isEqualTo(64 * MIB);
        assertThat(allocatedBytes(img)).as("sparse").isLessThan(4 * MIB);
    }

    @Test
    void aWritePastTheQuotaFailsWithEnospcInsideTheSandboxWhileTheNeighbourAndTheHostAreUnaffected() throws Exception {
        Path neighbour = Files.createDirectory(dir.resolve("neighbour"));
        Path neighbourWs = neighbour.resolve("workspace");
        attach(ws, img, 64 * MIB, UID);
        attach(neighbourWs, neighbour.resolve("workspace.img"), 64 * MIB, NEIGHBOUR_UID);

        String out = sandbox(
                ws, UID, "head -c 100M /dev/zero > /workspace/fill; echo rc=$?; stat -c size=%s /workspace/fill");
        String next = sandbox(neighbourWs, NEIGHBOUR_UID, "head -c 40M /dev/zero > /workspace/fill; echo rc=$?");

        assertThat(out).contains("No space left on device").contains("rc=1");
        assertThat(Long.parseLong(value(out, "size"))).isLessThanOrEqualTo(64 * MIB);
        assertThat(next).contains("rc=0").doesNotContain("No space");
        assertThat(Files.size(neighbourWs.resolve("fill"))).isEqualTo(40 * MIB);
        // The host holds only the image's blocks: never more than the quota.
        assertThat(allocatedBytes(img)).isLessThanOrEqualTo(64 * MIB);
        // Nothing went to the host directory under the mount.
        QUOTA.detach(ws);
        try (var entries = Files.list(ws)) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void theAgentCanRunProgramsItWroteToTheWorkspace() throws Exception {
        attach(ws, img, 32 * MIB, UID);

        String out = sandbox(
                ws,
                UID,
                "printf '#!/bin/sh\\necho ran\\n' > /workspace/tool.sh; chmod +x /workspace/tool.sh; /workspace/tool.sh");

        assertThat(out).contains("ran").doesNotContain("Permission denied");
    }

    @Test
    void filesAlreadyInTheWorkspaceAreMigratedWithTheirOwnersModesAndLinks() throws Exception {
        Files.createDirectory(ws);
        Path src = Files.createDirectories(ws.resolve("project/src"));
        Files.writeString(src.resolve("Main.java"), "class Main {}\n");
        Files.write(ws.resolve("project/data.bin"), new byte[3 << 20]);
        Files.writeString(ws.resolve("notes.txt"), "remember\n");
        Files.setPosixFilePermissions(ws.resolve("notes.txt"), PosixFilePermissions.fromString("rw-r-----"));
        Files.createSymbolicLink(ws.resolve("link"), Path.of("project/src/Main.java"));
        Files.createSymbolicLink(ws.resolve("escape"), Path.of("/etc/shadow"));
        Files.createLink(ws.resolve("hard"), ws.resolve("notes.txt"));
        Files.writeString(ws.resolve("root-owned"), "the daemon's\n");
        chownTree(ws, UID);
        Files.setAttribute(ws.resolve("root-owned"), "unix:uid", 0);

        Attachment attachment = attach(ws, img, 64 * MIB, UID);

        assertThat(attachment.steps()).containsExactly(Step.CREATED, Step.MIGRATED, Step.MOUNTED);
        assertThat(MountTable.topAt(ws.toRealPath())).isPresent();
        assertThat(ws.resolve("project/src/Main.java")).hasContent("class Main {}");
        assertThat(Files.size(ws.resolve("project/data.bin"))).isEqualTo(3 << 20);
        assertThat(ws.resolve("notes.txt")).hasContent("remember");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ws.resolve("notes.txt"))))
                .isEqualTo("rw-r-----");
        assertThat(Files.readSymbolicLink(ws.resolve("link"))).isEqualTo(Path.of("project/src/Main.java"));
        assertThat(Files.readSymbolicLink(ws.resolve("escape"))).isEqualTo(Path.of("/etc/shadow"));
        assertThat(Files.getAttribute(ws.resolve("hard"), "unix:ino"))
                .isEqualTo(Files.getAttribute(ws.resolve("notes.txt"), "unix:ino"));
        assertThat(Files.getAttribute(ws.resolve("project/src/Main.java"), "unix:uid"))
                .isEqualTo(UID);
        assertThat(Files.getAttribute(ws.resolve("root-owned"), "unix:uid")).isEqualTo(0);
        assertThat(agent.resolve(".workspace.pre-quota")).doesNotExist();
        assertThat(agent.resolve("workspace.img.new")).doesNotExist();
        assertThat(agent.resolve("workspace.img.mnt")).doesNotExist();
        assertThat(attachment.usage().usedBytes()).isGreaterThan(3 * MIB);
        // And the agent sees them from inside its sandbox.
        assertThat(sandbox(ws, UID, "cat /workspace/link; echo more >> /workspace/notes.txt; echo rc=$?"))
                .contains("class Main {}")
                .contains("rc=0");
    }

    @Test
    void filesThatDoNotFitAreRefusedAndLeftWhereTheyWere() throws Exception {
        Files.createDirectory(ws);
        Files.write(ws.resolve("big.bin"), new byte[40 << 20]);
        chownTree(ws, UID);

        assertThatThrownBy(() -> attach(ws, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining(ws.toRealPath().toString())
                .hasMessageContaining("(40 MiB) do not fit in a disk quota of 32 MiB")
                .hasMessageContaining("sandbox.disk_mb")
                .hasMessageContaining("Nothing was changed");

        assertThat(MountTable.topAt(ws.toRealPath())).isEmpty();
        assertThat(Files.size(ws.resolve("big.bin"))).isEqualTo(40 << 20);
        assertThat(Files.getAttribute(ws, "unix:uid")).isEqualTo(UID);
        assertThat(img).doesNotExist();
        assertThat(agent.resolve("workspace.img.new")).doesNotExist();
        assertThat(agent.resolve("workspace.img.mnt")).doesNotExist();
    }

    @Test
    void attachingAgainIsANoOp() throws Exception {
        attach(ws, img, 32 * MIB, UID);
        Files.writeString(ws.resolve("kept"), "yes\n");
        String device = MountTable.topAt(ws.toRealPath()).orElseThrow().source();

        Attachment again = attach(ws, img, 32 * MIB, UID);

        assertThat(again.changed()).isFalse();
        assertThat(MountTable.countAt(ws.toRealPath())).isEqualTo(1);
        assertThat(MountTable.topAt(ws.toRealPath()).orElseThrow().source()).isEqualTo(device);
        assertThat(ws.resolve("kept")).hasContent("yes");
    }

    @Test
    void aLargerQuotaGrowsTheFilesystemAndKeepsTheFiles() throws Exception {
        Usage before = attach(ws, img, 32 * MIB, UID).usage();
        Files.writeString(ws.resolve("kept"), "yes\n");

        Attachment grown = attach(ws, img, 96 * MIB, UID);

        assertThat(grown.steps()).containsExactly(Step.RESIZED);
        assertThat(Files.size(img)).isEqualTo(96 * MIB);
        assertThat(before.totalBytes()).isLessThan(32 * MIB);
        // The added blocks come with their own inode tables: a few percent less than 64 MiB more.
        assertThat(grown.usage().totalBytes()).isBetween(80 * MIB, 96 * MIB);
        assertThat(ws.resolve("kept")).hasContent("yes");
        assertThat(Files.getAttribute(ws, "unix:uid")).isEqualTo(UID);
        assertThat(sandbox(ws, UID, "head -c 70M /dev/zero > /workspace/fill; echo rc=$?"))
                .contains("rc=0");
    }

    @Test
    void aSmallerQuotaThatStillHoldsTheFilesShrinksTheFilesystem() throws Exception {
        attach(ws, img, 96 * MIB, UID);
        Files.writeString(ws.resolve("kept"), "yes\n");

        Attachment shrunk = attach(ws, img, 32 * MIB, UID);

        assertThat(shrunk.steps()).containsExactly(Step.RESIZED);
        assertThat(Files.size(img)).isEqualTo(32 * MIB);
        assertThat(shrunk.usage().totalBytes()).isLessThanOrEqualTo(32 * MIB);
        assertThat(ws.resolve("kept")).hasContent("yes");
    }

    @Test
    void aSmallerQuotaBelowWhatIsUsedIsRefusedWithTheCurrentUsage() throws Exception {
        attach(ws, img, 96 * MIB, UID);
        sandbox(ws, UID, "head -c 50M /dev/zero > /workspace/fill");
        Usage usage = QUOTA.usage(ws);

        assertThatThrownBy(() -> attach(ws, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("cannot shrink the disk quota of " + ws.toRealPath() + " to 32 MiB")
                .hasMessageContaining("already uses " + Sizes.mib(usage.usedBytes()) + " of its 96 MiB")
                .hasMessageContaining("sandbox.disk_mb");

        assertThat(Files.size(img)).isEqualTo(96 * MIB);
        assertThat(usage.usedBytes()).isGreaterThanOrEqualTo(50 * MIB);
        assertThat(QUOTA.usage(ws)).isEqualTo(usage);
    }

    @Test
    void aResizeWhileASandboxHoldsTheWorkspaceWaitsUntilItHasExited() throws Exception {
        attach(ws, img, 32 * MIB, UID);
        Path log = dir.resolve("held.log");
        Attachment deferred;
        try (Sandbox held = start(ws, UID, "echo started; sleep 60", log)) {
            awaitContent(log, "started");

            deferred = attach(ws, img, 64 * MIB, UID);

            assertThat(held.isAlive()).isTrue();
        }
        assertThat(deferred.steps()).containsExactly(Step.RESIZE_DEFERRED);
        assertThat(MountTable.topAt(ws.toRealPath())).isPresent();
        assertThat(Files.size(img)).isEqualTo(32 * MIB);

        Attachment later = attach(ws, img, 64 * MIB, UID);

        assertThat(later.steps()).containsExactly(Step.RESIZED);
        assertThat(Files.size(img)).isEqualTo(64 * MIB);
    }

    @Test
    void detachUnmountsFreesTheLoopDeviceAndLeavesADirectoryTheAgentCannotWrite() throws Exception {
        attach(ws, img, 32 * MIB, UID);
        Files.writeString(ws.resolve("kept"), "yes\n");

        assertThat(QUOTA.detach(ws)).isTrue();

        assertThat(MountTable.topAt(ws.toRealPath())).isEmpty();
        assertThat(awaitNoLoopDevices()).isEmpty();
        assertThat(QUOTA.detach(ws)).isFalse();
        // Fails closed: a sandbox started without its quota cannot write to the host's disk.
        assertThat(Files.getAttribute(ws, "unix:uid")).isEqualTo(0);
        assertThat(sandbox(ws, UID, "echo x > /workspace/f; echo rc=$?")).contains("Permission denied");
        try (var entries = Files.list(ws)) {
            assertThat(entries).isEmpty();
        }
        // The files are in the image, and come back with it.
        assertThat(attach(ws, img, 32 * MIB, UID).steps()).containsExactly(Step.MOUNTED);
        assertThat(ws.resolve("kept")).hasContent("yes");
    }

    @Test
    void aWorkspaceHeldBusyByAHostProcessIsStillUnmountedAndFreedWhenItLetsGo() throws Exception {
        attach(ws, img, 32 * MIB, UID);
        Files.writeString(ws.resolve("kept"), "yes\n");
        // A process whose working directory is the workspace makes a plain umount fail with EBUSY,
        // as a sandbox whose namespace is still being torn down does.
        Process holder =
                new ProcessBuilder("sleep", "60").directory(ws.toFile()).start();
        try {
            assertThat(QUOTA.detach(ws)).isTrue();

            assertThat(MountTable.topAt(ws.toRealPath()))
                    .as("no longer mounted in the host's namespace")
                    .isEmpty();
            assertThat(holder.isAlive()).isTrue();
        } finally {
            holder.destroyForcibly().waitFor();
        }
        assertThat(awaitNoLoopDevices()).as("freed once the holder exited").isEmpty();
        assertThat(attach(ws, img, 32 * MIB, UID).steps()).containsExactly(Step.MOUNTED);
        assertThat(ws.resolve("kept")).hasContent("yes");
    }

    @Test
    void usageIsWhatTheFilesystemReports() throws Exception {
        Usage empty = attach(ws, img, 64 * MIB, UID).usage();
        sandbox(ws, UID, "head -c 10M /dev/urandom > /workspace/data");

        Usage usage = QUOTA.usage(ws);

        assertThat(usage.totalBytes()).isEqualTo(empty.totalBytes());
        assertThat(usage.usedBytes() - empty.usedBytes()).isBetween(10 * MIB, 11 * MIB);
        assertThat(usage.freeBytes())
                .isLessThanOrEqualTo(usage.totalBytes() - usage.usedBytes())
                .isGreaterThan((usage.totalBytes() - usage.usedBytes()) * 95 / 100);
        assertThatThrownBy(() -> QUOTA.usage(dir))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("no disk quota is mounted on the workspace " + dir.toRealPath());
    }

    @Test
    void aMigrationInterruptedAfterTheSwapIsUndoneAndRedone() throws Exception {
        // What a daemon that died between moving the workspace aside and naming the image leaves.
        Path backup = Files.createDirectory(agent.resolve(".workspace.pre-quota"));
        Files.writeString(backup.resolve("kept"), "yes\n");
        Files.createDirectory(ws);
        Files.writeString(agent.resolve("workspace.img.new"), "half an image");
        Files.createDirectory(agent.resolve("workspace.img.mnt"));

        Attachment attachment = attach(ws, img, 32 * MIB, UID);

        assertThat(attachment.steps()).containsExactly(Step.CREATED, Step.MIGRATED, Step.MOUNTED);
        assertThat(ws.resolve("kept")).hasContent("yes");
        assertThat(backup).doesNotExist();
        assertThat(agent.resolve("workspace.img.new")).doesNotExist();
        assertThat(agent.resolve("workspace.img.mnt")).doesNotExist();
    }

    @Test
    void filesWrittenIntoAnUnmountedWorkspaceAreNotHiddenUnderTheImage() throws Exception {
        attach(ws, img, 32 * MIB, UID);
        QUOTA.detach(ws);
        Files.writeString(ws.resolve("stray"), "written while unmounted\n");

        assertThatThrownBy(() -> attach(ws, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is not mounted and holds files, but its image")
                .hasMessageContaining("would hide them");
        assertThat(MountTable.topAt(ws.toRealPath())).isEmpty();
    }

    @Test
    void aWorkspaceThatIsAMountPointOfSomethingElseIsRefused() throws Exception {
        Files.createDirectory(ws);
        run("/usr/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", ws.toString());

        assertThatThrownBy(() -> attach(ws, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is already a mount point of tmpfs (tmpfs), not of the image");
        assertThatThrownBy(() -> QUOTA.detach(ws))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is not a workspace image");
    }

    @Test
    void badInputIsRefusedWithAClearError() throws Exception {
        Files.createDirectory(ws);
        assertThatThrownBy(() -> QUOTA.attach(ws, img, -1, UID))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 16 MiB")
                .hasMessageContaining("got -1 bytes");
        assertThatThrownBy(() -> QUOTA.attach(ws, img, 32 * MIB + 1, UID))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole number of MiB");
        assertThatThrownBy(() -> QUOTA.attach(Path.of("agents/a/workspace"), img, 32 * MIB, UID))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workspace path must be absolute: agents/a/workspace");
        assertThatThrownBy(() -> QUOTA.attach(ws, Path.of("workspace.img"), 32 * MIB, UID))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("image path must be absolute");
        assertThatThrownBy(() -> QUOTA.attach(ws, img, 32 * MIB, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never root");

        Path target = Files.createDirectory(dir.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(agent.resolve("linked"), target);
        assertThatThrownBy(() -> QUOTA.attach(link, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining(
                        "the workspace " + link.getParent().toRealPath().resolve("linked") + " is a symlink");

        assertThatThrownBy(() -> QUOTA.attach(ws, ws.resolve("workspace.img"), 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is inside the workspace");
        Path imageLink = Files.createSymbolicLink(agent.resolve("linked.img"), dir.resolve("real.img"));
        assertThatThrownBy(() -> QUOTA.attach(ws, imageLink, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is not a regular file");
        Path file = Files.writeString(agent.resolve("a-file"), "x");
        assertThatThrownBy(() -> QUOTA.attach(file, img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("is not a directory");
        assertThatThrownBy(() -> QUOTA.attach(dir.resolve("missing/workspace"), img, 32 * MIB, UID))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("does not exist; create " + dir.resolve("missing"));

        assertThat(MountTable.topAt(ws.toRealPath())).isEmpty();
        assertThat(img).doesNotExist();
    }

    // --- helpers -------------------------------------------------------------------------------

    private Attachment attach(Path workspace, Path image, long bytes, int uid) {
        attached.add(workspace);
        return QUOTA.attach(workspace, image, bytes, uid);
    }

    /** Runs {@code script} with bash in a sandbox whose /workspace is {@code workspace}; returns its output. */
    private String sandbox(Path workspace, int uid, String script) throws Exception {
        Path log = dir.resolve("sandbox-" + SEQUENCE.incrementAndGet() + ".log");
        try (Sandbox sandbox = start(workspace, uid, script, log)) {
            sandbox.exit().get(60, TimeUnit.SECONDS);
        }
        String out = Files.readString(log);
        System.out.printf("--- sandbox over %s ---%n%s%n", workspace, out);
        return out;
    }

    private Sandbox start(Path workspace, int uid, String script, Path log) {
        SandboxSpec spec = new SandboxSpec(
                "disk-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet(),
                List.of(new Mount(workspace, "/workspace", Mode.READ_WRITE)),
                List.of("/usr/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8"),
                uid,
                uid,
                "cordon",
                "/",
                log);
        return BACKEND.start(spec);
    }

    private static void awaitContent(Path log, String marker) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!(Files.exists(log) && Files.readString(log).contains(marker))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the sandbox never printed " + marker);
            }
            Thread.sleep(20);
        }
    }

    /** Loop devices bound to files below the test directory, after giving a closing sandbox's a moment to go. */
    private List<String> awaitNoLoopDevices() throws Exception {
        String root = dir.toRealPath().toString();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            List<String> bound = new ArrayList<>();
            for (String line : run("/usr/sbin/losetup", "-a").lines().toList()) {
                if (line.contains(root)) {
                    bound.add(line);
                }
            }
            if (bound.isEmpty() || System.nanoTime() > deadline) {
                return bound;
            }
            Thread.sleep(50);
        }
    }

    private static long allocatedBytes(Path file) throws Exception {
        return Long.parseLong(run("/usr/bin/du", "-B1", "--", file.toString()).split("\\s+", -1)[0]);
    }

    private static String value(String out, String key) {
        return out.lines()
                .filter(l -> l.startsWith(key + "="))
                .map(l -> l.substring(key.length() + 1))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + "= in " + out));
    }

    private static void chownTree(Path root, int uid) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.toList()) {
                Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    private static String run(String... argv) throws Exception {
        Exec.Result result = Exec.run(Duration.ofSeconds(30), List.of(argv));
        if (!result.ok()) {
            throw new AssertionError(result.command() + ": " + result.why());
        }
        return result.stdout();
    }
}
