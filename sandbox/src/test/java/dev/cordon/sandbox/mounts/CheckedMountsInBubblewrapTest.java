package dev.cordon.sandbox.mounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounts that passed the check, in a real bubblewrap sandbox: the mode is what the sandbox gets. */
class CheckedMountsInBubblewrapTest {
    static final int UID = 200_078;

    @TempDir
    Path dir;

    @Test
    void aCheckedReadOnlyMountIsReadableButNotWritableAndACheckedReadWriteMountIsWritable() throws Exception {
        Path data = Files.createDirectories(dir.resolve("srv/data"));
        Path scratch = Files.createDirectories(dir.resolve("srv/scratch"));
        Path reports = Files.createDirectories(data.resolve("reports"));
        Files.writeString(reports.resolve("q3.txt"), "revenue up\n");
        Path out = Files.createDirectories(scratch.resolve("out"));
        if (Bubblewrap.isRoot()) {
            // The sandbox runs as UID: own both folders, so only the read-only mount can stop a write.
            for (Path p : List.of(reports, reports.resolve("q3.txt"), out)) {
                Files.setAttribute(p, "unix:uid", UID, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", UID, LinkOption.NOFOLLOW_LINKS);
            }
        }
        MountAllowlist allowlist = MountAllowlist.of(
                List.of(new AllowedRoot(data, Mode.READ_ONLY), new AllowedRoot(scratch, Mode.READ_WRITE)),
                dir.resolve("cordon-home"));
        List<Mount> mounts = allowlist.checkAll(
                List.of(
                        new MountRequest(reports, "/mnt/reports", Mode.READ_ONLY),
                        new MountRequest(out, "/mnt/out", Mode.READ_WRITE)),
                true,
                List.of());
        assertThat(mounts).extracting(Mount::mode).containsExactly(Mode.READ_ONLY, Mode.READ_WRITE);

        Path log = dir.resolve("mounts.log");
        String script = "cat /mnt/reports/q3.txt; "
                + "echo pwned > /mnt/reports/q3.txt; echo ro-overwrite=$?; "
                + "touch /mnt/reports/new; echo ro-create=$?; "
                + "echo written > /mnt/out/result.txt; echo rw-create=$?";
        SandboxSpec spec = new SandboxSpec(
                "mounts",
                mounts,
                List.of("/usr/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin"),
                UID,
                UID,
                "cordon",
                "/",
                log);
        try (Sandbox sandbox = Bubblewrap.backend().start(spec)) {
            assertThat(sandbox.exit().get(60, TimeUnit.SECONDS)).isZero();
        }
        String output = Files.readString(log);

        assertThat(output).contains("revenue up", "Read-only file system", "rw-create=0");
        assertThat(output).containsPattern("ro-overwrite=[1-9]").containsPattern("ro-create=[1-9]");
        assertThat(reports.resolve("q3.txt")).hasContent("revenue up");
        assertThat(reports.resolve("new")).doesNotExist();
        assertThat(out.resolve("result.txt")).hasContent("written");
    }
}
