package dev.cordon.sandbox.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The join wrapper on plain files standing in for {@code cgroup.procs}. */
class JoinScriptTest {
    @TempDir
    Path dir;

    record Run(long pid, int exit, String output) {}

    Run run(List<String> argv) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().clear();
        builder.redirectErrorStream(true);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new Run(process.pid(), process.exitValue(), output);
    }

    @Test
    void everyFileReceivesThePidThatTheCommandKeeps() throws Exception {
        Path memory = Files.createFile(dir.resolve("memory.procs"));
        Path pids = Files.createFile(dir.resolve("pids procs with spaces"));

        Run run = run(JoinScript.wrap(List.of(memory, pids), List.of("/bin/sh", "-c", "echo $$")));

        assertThat(run.exit()).isZero();
        assertThat(run.output().strip()).isEqualTo(Long.toString(run.pid()));
        assertThat(Files.readString(memory).strip()).isEqualTo(Long.toString(run.pid()));
        assertThat(Files.readString(pids).strip()).isEqualTo(Long.toString(run.pid()));
    }

    @Test
    void theCommandsArgumentsPassVerbatim() throws Exception {
        Path procs = Files.createFile(dir.resolve("cgroup.procs"));

        Run run = run(JoinScript.wrap(
                List.of(procs), List.of("/usr/bin/printf", "%s|", "a b", "$HOME", "\"q\"", "--", "*", "$(id)")));

        assertThat(run.output()).isEqualTo("a b|$HOME|\"q\"|--|*|$(id)|");
    }

    @Test
    void aFailedJoinExits125WithoutRunningTheCommand() throws Exception {
        Path procs = Files.createFile(dir.resolve("ok.procs"));

        Run run = run(JoinScript.wrap(
                List.of(procs, dir.resolve("missing/cgroup.procs")), List.of("/bin/echo", "COMMAND-RAN")));

        assertThat(run.exit()).isEqualTo(125);
        assertThat(run.output()).contains("cordon: cannot join cgroup").doesNotContain("COMMAND-RAN");
    }
}
