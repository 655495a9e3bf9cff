package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BashToolTest {
    private static final Pattern PID = Pattern.compile("pid=(\\d+)");

    @TempDir
    Path dir;

    private ToolHarness tools;
    private final List<Long> spawned = new ArrayList<>();

    @BeforeEach
    void setUp() {
        tools = new ToolHarness(dir);
    }

    @AfterEach
    void killLeftovers() {
        spawned.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void runsInTheWorkspaceAndReturnsOutput() throws Exception {
        Files.writeString(dir.resolve("hello.txt"), "hi there\n");

        ToolOutput out = tools.run("bash", "command", "pwd; cat hello.txt");

        assertThat(out.isError()).isFalse();
        assertThat(out.content()).isEqualTo(dir.toRealPath() + "\nhi there\n");
    }

    @Test
    void stdoutAndStderrAreMergedInOrder() {
        ToolOutput out = tools.run("bash", "command", "echo one; echo two >&2; echo three; echo four >&2");

        assertThat(out.content()).isEqualTo("one\ntwo\nthree\nfour\n");
    }

    @Test
    void nonZeroExitIsAnErrorWithTheExitCode() {
        ToolOutput out = tools.run("bash", "command", "echo failing >&2; exit 3");

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).isEqualTo("failing\n[exit code 3]");
    }

    @Test
    void emptyOutputSaysSo() {
        ToolOutput out = tools.run("bash", "command", "true");

        assertThat(out).isEqualTo(ToolOutput.ok("(no output)"));
    }

    @Test
    void stdinIsEmpty() {
        ToolOutput out = tools.run("bash", "command", "cat; echo \"read:$?\"");

        assertThat(out.content()).isEqualTo("read:0\n");
    }

    @Test
    void inheritsTheRunnersEnvironment() {
        ToolOutput out = tools.run("bash", "command", "echo \"$PATH\"");

        assertThat(out.content().strip()).isEqualTo(System.getenv("PATH"));
    }

    @Test
    void commandRunsInItsOwnSessionAndProcessGroup() {
        // Fields 5 and 6 of /proc/PID/stat are the process group and the session.
        ToolOutput out = tools.run("bash", "command", "echo \"pid=$$\"; cut -d' ' -f5,6 /proc/$$/stat");

        long pid = pid(out.content());
        assertThat(out.content()).isEqualTo("pid=" + pid + "\n" + pid + " " + pid + "\n");
    }

    @Test
    void timeoutKillsTheWholeGroupIncludingABackgroundChildHoldingThePipe() {
        ToolOutput out = tools.run("bash", "command", "sleep 1000 & echo \"pid=$!\"; sleep 1000", "timeout_ms", 500);

        long child = pid(out.content());
        assertThat(out.isError()).isTrue();
        assertThat(out.content())
                .endsWith("[timed out after 500 ms; the command and every process it started were killed]");
        assertGone(child);
    }

    @Test
    void timeoutKillsADoubleForkedGrandchildThatIsNoLongerADescendant() {
        ToolOutput out = tools.run("bash", "command", "(sleep 1000 & echo \"pid=$!\"); sleep 1000", "timeout_ms", 500);

        long orphan = pid(out.content());
        assertThat(out.content()).contains("timed out after 500 ms");
        assertGone(orphan);
    }

    @Test
    void backgroundJobSurvivesANormalExitAndDoesNotHoldTheCall() {
        ToolOutput out = tools.run("bash", "command", "sleep 1000 & echo \"pid=$!\"");

        long job = pid(out.content());
        assertThat(out.isError()).isFalse();
        // Whether a note about the still-open output appears depends on a race: the JDK drains and
        // closes a process's output pipe as soon as the process exits, whoever else holds it.
        assertThat(out.content()).startsWith("pid=" + job);
        assertThat(ProcessHandle.of(job).map(ProcessHandle::isAlive)).contains(true);
    }

    @Test
    void backgroundJobWithRedirectedOutputDoesNotDelayTheResult() {
        ToolOutput out = tools.run("bash", "command", "sleep 1000 > /dev/null 2>&1 & echo \"pid=$!\"");

        long job = pid(out.content());
        assertThat(out.content()).isEqualTo("pid=" + job + "\n");
    }

    @Test
    void tenMegabytesOfOutputAreCutKeepingHeadAndTail() {
        ToolOutput out =
                tools.run("bash", "command", "printf START; head -c 10000000 /dev/zero | tr '\\0' a; printf END");

        String content = out.content();
        assertThat(out.isError()).isFalse();
        assertThat(content).startsWith("STARTaaa").endsWith("aaaEND");
        assertThat(content).contains("[... 9,970,008 characters of output omitted ...]");
        assertThat(content.length()).isLessThan(30_100);
    }

    @Test
    void outputJustUnderTheLimitIsNotCut() {
        ToolHarness small = ToolHarness.withLimit(dir, 100);

        ToolOutput out = small.run("bash", "command", "head -c 100 /dev/zero | tr '\\0' b");

        assertThat(out.content()).isEqualTo("b".repeat(100));
    }

    @Test
    void multibyteOutputIsDecodedAsUtf8() {
        ToolOutput out = tools.run("bash", "command", "printf 'h\\xc3\\xa9llo \\xf0\\x9f\\x99\\x82\\n'");

        assertThat(out.content()).isEqualTo("héllo 🙂\n");
    }

    @Test
    void timeoutAboveTheMaximumIsRejectedNamingTheArgument() {
        ToolOutput out = tools.run("bash", "command", "true", "timeout_ms", 600_001);

        assertThat(out.isError()).isTrue();
        assertThat(out.content()).isEqualTo("Invalid argument 'timeout_ms': must be at most 600000, got 600001.");
    }

    @Test
    void missingOrEmptyCommandIsRejected() {
        assertThat(tools.run("bash").content()).isEqualTo("Missing required argument 'command' (a non-empty string).");
        assertThat(tools.run("bash", "command", "").content())
                .isEqualTo("Invalid argument 'command': must not be empty.");
    }

    @Test
    void interruptKillsTheCommandAndKeepsTheFlag() throws Exception {
        Path pidFile = dir.resolve("pid");
        ToolOutput[] result = new ToolOutput[1];
        boolean[] flag = new boolean[1];
        Thread caller = Thread.ofVirtual().start(() -> {
            result[0] = tools.run("bash", "command", "echo $$ > pid; exec sleep 1000");
            flag[0] = Thread.currentThread().isInterrupted();
        });
        long pid = awaitPidFile(pidFile);
        caller.interrupt();
        caller.join(Duration.ofSeconds(30));

        assertThat(result[0].isError()).isTrue();
        assertThat(result[0].content()).contains("[interrupted; the command and every process it started were killed]");
        assertThat(flag[0]).isTrue();
        assertGone(pid);
    }

    private long pid(String content) {
        Matcher m = PID.matcher(content);
        assertThat(m.find()).as("pid in %s", content).isTrue();
        long pid = Long.parseLong(m.group(1));
        spawned.add(pid);
        return pid;
    }

    private long awaitPidFile(Path file) throws Exception {
        for (int i = 0; i < 3_000; i++) {
            if (Files.exists(file)) {
                String text = Files.readString(file).strip();
                if (!text.isEmpty()) {
                    long pid = Long.parseLong(text);
                    spawned.add(pid);
                    return pid;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("command never wrote " + file);
    }

    /**
     * A SIGKILLed process may linger briefly as a zombie until its new parent reaps it, so this polls
     * for the kernel to drop it rather than measuring time.
     */
    private static void assertGone(long pid) {
        for (int i = 0; i < 1_000 && isRunning(pid); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        assertThat(isRunning(pid)).as("process %d is still running", pid).isFalse();
    }

    /** Alive and not a zombie (a zombie is dead; it only waits to be reaped). */
    private static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
