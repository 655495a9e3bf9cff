package dev.cordon.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code cordon demo escape} for real: a daemon, bubblewrap sandboxes with seccomp and cgroups, and
 * the fake model playing the attacks. Every attack must be stopped, for a reason the output names.
 */
class EscapeDemoTest {
    static final Path RUNNER_LIB =
            Path.of("../runner/target/lib").toAbsolutePath().normalize();

    static final String KEY = "sk-ant-api03-0123456789abcdef-DEMO";
    static final String SECRET = "victim-secret-0123456789";
    static final ControlEvent.Reply OK = new ControlEvent.Reply(1, "main", 1, "done", false);

    @Test
    void everyAttackIsStoppedAndTheOutputNamesWhatStoppedIt() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        // Shown live in the build log too, so a failure can be read without rerunning.
        PrintStream out = new PrintStream(tee(buffer, System.out), true, StandardCharsets.UTF_8);

        EscapeDemo.Report report = EscapeDemo.execute(RUNNER_LIB, out);

        String printed = buffer.toString(StandardCharsets.UTF_8);
        // The demo wraps long lines: compare words, not line breaks.
        String words = printed.replaceAll("\\s+", " ");
        assertThat(report).as(printed).isNotNull();
        assertThat(report.outcomes()).hasSizeGreaterThanOrEqualTo(20);
        List<String> notStopped = report.outcomes().stream()
                .filter(o -> !(o.verdict() instanceof Verdict.Stopped))
                .map(o -> o.attack().title() + ": " + o.verdict() + "\n" + o.output())
                .toList();
        assertThat(notStopped).as("attacks not stopped").isEmpty();
        assertThat(report.audit().verification()).startsWith("OK:");
        assertThat(report.audit().counts())
                .containsKeys("sandbox.start (allow)", "turn.end (info)", "delivery (allow)")
                .as("the proxy's denial of the exfiltration, and the question it put to an operator")
                .containsKeys("egress.deny (deny)", "approval.request (info)");
        List<String> expected = new ArrayList<>();
        for (EscapeDemo.Outcome o : report.outcomes()) {
            expected.add(o.attack().title());
            expected.add("STOPPED " + o.verdict().reason().replaceAll("\\s+", " "));
        }
        expected.addAll(List.of(
                "Scripted adversarial agent (fake model, no real AI)",
                "Summary: " + report.outcomes().size() + " attacks, "
                        + report.outcomes().size() + " stopped, 0 escaped.",
                "The audit log (hash-chained, checkpoints signed with the host's Ed25519 key)",
                "sandbox.start (allow)",
                "model.call (allow)",
                "inbound.accepted (allow)",
                "Verify: OK:",
                "the workspace is a 64 MiB ext4 image",
                "Nothing escaped.",
                // The reasons a newcomer should see, layer by layer.
                "seccomp denies ptrace",
                "seccomp denies unshare",
                "seccomp denies mount",
                "seccomp denies the TIOCSTI ioctl",
                "other agents' workspaces are not mounted",
                "the Cordon home (database, control socket, logs) is not mounted",
                "Read-only file system",
                "Network is unreachable",
                "Connection refused: the sandbox's 127.0.0.1 is its own",
                "403 from the host's egress proxy",
                "removed the socket",
                "own pid namespace",
                "no_new_privs",
                "it never enters the sandbox",
                "pids cgroup",
                "/tmp is a size-capped tmpfs",
                "OOM killer"));
        // Listed rather than asserted one by one: the whole output is already in the log above.
        assertThat(expected.stream().filter(e -> !words.contains(e)).toList())
                .as("phrases missing from the demo's output")
                .isEmpty();
        assertThat(report.allStopped()).isTrue();
        assertThat(report.host().turns()).isEqualTo(EscapeDemo.ROUNDS);
        assertThat(report.host().modelCallsWithKey()).isEqualTo(report.host().modelCalls());
        assertThat(report.host().victimSandboxes()).isZero();
        assertThat(report.host().attackerSandboxes()).isPositive();
        // The temporary home is gone, links planted by the attacker included.
        Matcher home = Pattern.compile("<home> = (\\S+cordon-demo-\\S+)").matcher(printed);
        assertThat(home.find()).as(printed).isTrue();
        assertThat(Path.of(home.group(1))).doesNotExist();
    }

    @Test
    void anEscapeMarkerInTheOutputIsReportedAsAnEscape() {
        Attack shadow = attack("toolu_demo_shadow");

        EscapeDemo.Outcome o =
                EscapeDemo.judge(shadow, "root:*:19000:0:99999:7:::\nESCAPED: read /etc/shadow\n", OK, KEY, SECRET, 0);

        assertThat(o.verdict()).isInstanceOf(Verdict.Escaped.class);
    }

    @Test
    void theKeyOrTheVictimsSecretInAnyOutputIsAnEscapeWhateverTheDenialSays() {
        Attack shadow = attack("toolu_demo_shadow");

        assertThat(EscapeDemo.judge(shadow, "No such file or directory " + KEY, OK, KEY, SECRET, 0)
                        .verdict())
                .isInstanceOf(Verdict.Escaped.class);
        assertThat(EscapeDemo.judge(shadow, SECRET + "\nNo such file or directory", OK, KEY, SECRET, 0)
                        .verdict())
                .isInstanceOf(Verdict.Escaped.class);
    }

    @Test
    void aConnectionToTheHostListenerIsAnEscapeEvenIfTheOutputLooksDenied() {
        Attack loopback = attack("toolu_demo_loopback");

        assertThat(EscapeDemo.judge(loopback, "connect: Connection refused", OK, KEY, SECRET, 1)
                        .verdict())
                .isInstanceOf(Verdict.Escaped.class);
    }

    @Test
    void unrecognisedOutputIsUnclearNotStopped() {
        Attack mount = attack("toolu_demo_mount");

        assertThat(EscapeDemo.judge(mount, "mount: Invalid argument", OK, KEY, SECRET, 0)
                        .verdict())
                .isInstanceOf(Verdict.Unclear.class);
    }

    @Test
    void aKeySearchThatMissesTheCanaryProvesNothing() {
        Attack key = attack("toolu_demo_key");
        String noCanary = "API key found: 0 times in environments and command lines, in 0 files; "
                + "the canary planted in /workspace: in 0 file(s)";
        String found = "API key found: 0 times in environments and command lines, in 1 files; "
                + "the canary planted in /workspace: in 1 file(s)";

        assertThat(EscapeDemo.judge(key, noCanary, OK, KEY, SECRET, 0).verdict())
                .isInstanceOf(Verdict.Unclear.class);
        assertThat(EscapeDemo.judge(key, found, OK, KEY, SECRET, 0).verdict()).isInstanceOf(Verdict.Escaped.class);
    }

    @Test
    void aMissingResultCountsAsStoppedOnlyForAttacksThatMayKillTheirSandbox() {
        ControlEvent.Reply killed = new ControlEvent.Reply(
                1,
                "main",
                1,
                "The agent's sandbox stopped during the turn (sandbox x exited with status 137 (killed, e.g. out of memory)).",
                true);

        assertThat(EscapeDemo.judge(attack("toolu_demo_membomb"), null, killed, KEY, SECRET, 0)
                        .verdict())
                .isInstanceOf(Verdict.Stopped.class);
        assertThat(EscapeDemo.judge(attack("toolu_demo_shadow"), null, killed, KEY, SECRET, 0)
                        .verdict())
                .isInstanceOf(Verdict.Unclear.class);
    }

    private static Attack attack(String id) {
        List<Attack> all = Attacks.all(new Attacks.Target(Path.of("/tmp/cordon-demo-1"), 40000, "a2V5", "Y2FuYXJ5"));
        return all.stream().filter(a -> a.id().equals(id)).findFirst().orElseThrow();
    }

    private static OutputStream tee(OutputStream a, OutputStream b) {
        return new OutputStream() {
            @Override
            public void write(int c) throws IOException {
                a.write(c);
                b.write(c);
            }

            @Override
            public void write(byte[] bytes, int off, int len) throws IOException {
                a.write(bytes, off, len);
                b.write(bytes, off, len);
            }
        };
    }
}
