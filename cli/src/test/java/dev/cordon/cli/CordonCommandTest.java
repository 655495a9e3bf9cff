package dev.cordon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlEvent.Delta;
import dev.cordon.protocol.control.ControlEvent.Failure;
import dev.cordon.protocol.control.ControlEvent.Reply;
import dev.cordon.protocol.control.ControlEvent.Reset;
import dev.cordon.protocol.control.ControlRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real commands, run in-process against a fake daemon on a real Unix socket. */
class CordonCommandTest {
    @TempDir
    Path home;

    private final List<FakeDaemon> daemons = new ArrayList<>();
    private Map<String, String> env = Map.of();
    private boolean passHome = true;
    private DaemonStarter starter = (home, log) -> {
        throw new IOException("this test starts no daemon");
    };

    record Result(int exit, String out, String err) {}

    @AfterEach
    void closeDaemons() throws IOException {
        for (FakeDaemon daemon : daemons) {
            daemon.close();
        }
    }

    @Test
    void sendPrintsTheReplyToItsMessageIgnoresOthersAndAcknowledgesOnlyIt() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> {
            peer.send(new Delta("main", "someone else's "));
            peer.send(new Reply(40, "main", 7, "someone else's answer", false));
            peer.send(new Delta("main", "four"));
            peer.send(new Reply(41, "main", inboundId, "four", false));
        };

        Result result = run("", "send", "what", "is", "2+2?");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("four\n");
        assertThat(daemon.received(ControlRequest.Say.class))
                .singleElement()
                .satisfies(say -> assertThat(say.text()).isEqualTo("what is 2+2?"));
        assertThat(daemon.received(ControlRequest.Attach.class))
                .containsExactly(new ControlRequest.Attach("main", false));
        eventually(() -> daemon.acks(), List.of(41L));
    }

    @Test
    void sendWithStreamPrintsDeltasAsTheyComeAndReadsTextFromStdin() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> {
            peer.send(new Delta("research", "Hel"));
            peer.send(new Delta("research", "lo"));
            peer.send(new Reply(5, "research", inboundId, "Hello", false));
        };

        Result result = run("a question\nover two lines\n", "send", "--agent", "research", "--stream", "-");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("Hello\n");
        assertThat(daemon.received(ControlRequest.Say.class).getFirst()).satisfies(say -> {
            assertThat(say.agent()).isEqualTo("research");
            assertThat(say.text()).isEqualTo("a question\nover two lines");
        });
    }

    @Test
    void sendOfAFailedTurnPrintsItsReasonToStderrAndExitsOne() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) ->
                peer.send(new Reply(9, "main", inboundId, "the model provider returned 401", true));

        Result result = run("", "send", "hi");

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).contains("error: the model provider returned 401");
        eventually(() -> daemon.acks(), List.of(9L));
    }

    @Test
    void sendWithoutAReplyInTimeExitsThreeAndSaysWhereTheReplyWillBe() throws Exception {
        FakeDaemon daemon = daemon();

        Result result = run("", "send", "--timeout", "1", "hi");

        assertThat(result.exit()).isEqualTo(3);
        assertThat(result.err()).contains("No reply within 1 s").contains("./cordon chat");
        assertThat(daemon.acks()).isEmpty();
    }

    @Test
    void sendRefusedByTheDaemonExitsFour() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> peer.send(new Failure("no agent named 'nobody'"));

        Result result = run("", "send", "--agent", "nobody", "hi");

        assertThat(result.exit()).isEqualTo(4);
        assertThat(result.err()).contains("no agent named 'nobody'");
    }

    @Test
    void daemonThatExitsWhileStartingEndsWithItsLogAndExitFour() throws Exception {
        starter = (home, log) -> {
            Files.writeString(log, "line one\nError: port busy\n");
            Process process = new ProcessBuilder("true").start();
            process.onExit().join();
            return process.toHandle();
        };

        Result result = run("", "send", "hi");

        assertThat(result.exit()).isEqualTo(4);
        assertThat(result.err())
                .contains("The Cordon daemon exited while starting")
                .contains("Error: port busy")
                .doesNotContain("Exception");
    }

    @Test
    void unstartableDaemonExitsFourWithAMessage() {
        Result result = run("", "send", "hi");

        assertThat(result.exit()).isEqualTo(4);
        assertThat(result.err()).contains("Could not start the Cordon daemon: this test starts no daemon");
    }

    @Test
    void missingDaemonIsStartedAfterItsStaleSocketIsRemoved() throws Exception {
        Path socket = home.resolve("run/control.sock");
        Files.createDirectories(socket.getParent());
        Files.writeString(socket, "stale");
        starter = (home, log) -> {
            assertThat(socket).doesNotExist();
            assertThat(log.getParent()).isDirectory();
            daemon().onSay = (say, inboundId, peer) -> peer.send(new Reply(1, "main", inboundId, "up", false));
            return ProcessHandle.current();
        };

        Result result = run("", "send", "hi");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("up\n");
        assertThat(result.err()).contains("Starting the Cordon daemon");
    }

    @Test
    void noModelExitsTwoWithTheDaemonsExplanationAndNoStackTrace() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.status = FakeDaemon.status("No model: set ANTHROPIC_API_KEY, or OPENAI_BASE_URL for Ollama.");

        Result chat = run("hello\n", "chat");
        Result send = run("", "send", "hello");

        for (Result result : List.of(chat, send)) {
            assertThat(result.exit()).isEqualTo(2);
            assertThat(result.err()).isEqualTo("No model: set ANTHROPIC_API_KEY, or OPENAI_BASE_URL for Ollama.\n");
        }
        assertThat(daemon.received(ControlRequest.Say.class)).isEmpty();
    }

    @Test
    void daemonWithoutModelIsRestartedWhenThisShellNowSetsAKey() throws Exception {
        FakeDaemon old = daemon();
        old.status = FakeDaemon.status("No model: set ANTHROPIC_API_KEY.");
        env = Map.of("ANTHROPIC_API_KEY", "sk-test");
        starter = (home, log) -> {
            daemon().onSay = (say, inboundId, peer) -> peer.send(new Reply(1, "main", inboundId, "fresh", false));
            return ProcessHandle.current();
        };

        Result result = run("", "send", "hi");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("fresh\n");
        assertThat(result.err()).contains("sets ANTHROPIC_API_KEY: restarting it");
        assertThat(old.received(ControlRequest.Stop.class)).hasSize(1);
    }

    @Test
    void chatWithoutATerminalSendsEachLineAndPrintsEachReply() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> {
            peer.send(new Delta("main", "echo: "));
            peer.send(new Delta("main", say.text()));
            peer.send(new Reply(inboundId + 1000, "main", inboundId, "echo: " + say.text(), false));
        };

        Result result = run("first\n\nsecond\n", "chat");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("echo: first\necho: second\n");
        assertThat(result.err()).contains("Chatting with main").contains("Ctrl-D to leave");
        assertThat(daemon.received(ControlRequest.Say.class))
                .extracting(ControlRequest.Say::text)
                .containsExactly("first", "second");
        eventually(() -> daemon.acks(), List.of(1100L, 1101L));
    }

    @Test
    void chatShowsRetriesAndFailedRepliesVisibly() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> {
            peer.send(new Delta("main", "Hel"));
            peer.send(new Reset("main", "overloaded, retrying in 2 s"));
            peer.send(new Reply(3, "main", inboundId, "the model is unavailable", true));
        };

        Result result = run("hi\n", "chat");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out())
                .isEqualTo("Hel\n[retrying: overloaded, retrying in 2 s]\nerror: the model is unavailable\n");
    }

    @Test
    void chatShowsRepliesThatArrivedWhileAwayAndAcknowledgesThem() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.pending.add(new Reply(11, "main", 4, "the report is done", false));
        daemon.pending.add(new Reply(12, "main", 5, "the build failed", true));

        Result result = run("", "chat");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out())
                .isEqualTo("[2 replies arrived while you were away]\nthe report is done\nerror: the build failed\n");
        assertThat(daemon.received(ControlRequest.Attach.class))
                .containsExactly(new ControlRequest.Attach("main", true));
        eventually(() -> daemon.acks(), List.of(11L, 12L));
    }

    @Test
    void noCommandMeansChatWithMain() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSay = (say, inboundId, peer) -> peer.send(new Reply(1, "main", inboundId, "hi there", false));

        Result result = run("hello\n");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("hi there\n");
    }

    @Test
    void statusPrintsTheReportReadably() throws Exception {
        daemon();

        Result result = run("", "status");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("""
                        Cordon 0.1.0-test is running (pid 9999999, up 3m 12s)
                          home       /home/test/.cordon
                          model      anthropic claude-test
                          sandbox    bubblewrap
                          agents     main, research
                          sandboxes  1 live
                                     main session 3 (r-main-3-1): memory 150 MiB (peak 220 MiB), 29 processes and threads, CPU 1.5 s
                          queues     0 sessions with messages waiting, 2 replies not yet delivered
                          files      3 in the vault, 12 MiB; each kept 30 days after the last message that needs it
                          dashboard  http://127.0.0.1:7878 (a login link: ./cordon dashboard)
                        """);
    }

    @Test
    void statusSaysWhenFilesAreKeptForEverOrTheVaultCannotBeRead() {
        ControlEvent.StatusReport s = FakeDaemon.status(null);
        assertThat(StatusCommand.files(withFiles(s, 0, 0, 0)))
                .isEqualTo("0 in the vault, 0 MiB; kept for ever (files.keep_days: 0)");
        assertThat(StatusCommand.files(withFiles(s, -1, -1, 1)))
                .isEqualTo("the vault cannot be read; each kept 1 day after the last message that needs it");
    }

    @Test
    void statusSaysHowToTurnTheDashboardOn() {
        assertThat(StatusCommand.dashboard(null)).isEqualTo("off (http: in cordon.yaml; docs/dashboard.md)");
    }

    static ControlEvent.StatusReport withFiles(ControlEvent.StatusReport s, long files, long bytes, int keepDays) {
        return new ControlEvent.StatusReport(
                s.version(),
                s.pid(),
                s.home(),
                s.uptimeMillis(),
                s.model(),
                s.modelProblem(),
                s.sandbox(),
                s.agents(),
                s.liveSandboxes(),
                s.pendingMessages(),
                s.undeliveredReplies(),
                s.sandboxes(),
                files,
                bytes,
                keepDays,
                s.dashboard());
    }

    @Test
    void statusShowsTheModelProblem() throws Exception {
        daemon().status = FakeDaemon.status("Set ANTHROPIC_API_KEY.");

        assertThat(run("", "status").out()).contains("  model      Set ANTHROPIC_API_KEY.\n");
    }

    @Test
    void statusWithoutDaemonSaysSoAndExitsThree() {
        Result result = run("", "status");

        assertThat(result.exit()).isEqualTo(3);
        assertThat(result.out()).isEqualTo("Cordon is not running (home: " + home + ")\n");
    }

    @Test
    void stopAsksTheDaemonToStopAndWaitsUntilItIsGone() throws Exception {
        FakeDaemon daemon = daemon();

        Result result = run("", "stop");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("stopped\n");
        assertThat(daemon.received(ControlRequest.Stop.class)).hasSize(1);
        assertThat(home.resolve("run/control.sock")).doesNotExist();
        assertThat(run("", "stop").out()).isEqualTo("Cordon is not running (home: " + home + ")\n");
    }

    @Test
    void startPrintsThePidOfTheRunningDaemon() throws Exception {
        daemon();

        Result result = run("", "start");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo(FakeDaemon.NO_SUCH_PID + "\n");
    }

    @Test
    void homeComesFromTheOptionThenTheEnvironmentThenTheUserHome() throws Exception {
        Path other = home.resolve("other");
        env = Map.of("CORDON_HOME", other.toString());
        passHome = false;

        assertThat(run("", "status").out()).contains("home: " + other + ")");
        assertThat(run("", "status", "--home", home.toString()).out()).contains("home: " + home + ")");
        assertThat(run("", "--home", home.toString(), "status").out()).contains("home: " + home + ")");
        env = Map.of();
        assertThat(run("", "status").out()).contains("home: " + home.resolve("user/.cordon") + ")");
    }

    @Test
    void helpListsTheCommandsAndExitCodes() {
        Result result = run("", "--help");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out())
                .contains("chat", "send", "status", "start", "stop", "doctor")
                // the commands the ./cordon script runs itself, which picocli does not know
                .contains("secret set|list|rm", "policy check FILE", "usage [--days N]", "audit verify")
                .doesNotContain("\n(docs/") // no line of that list wrapped
                .contains("demo escape", "migrate --from sqlite", "fake-model")
                .contains("Exit codes:")
                .contains("2   no model is configured")
                .contains("64   invalid command line");
    }

    @Test
    void badUsageExitsSixtyFour() {
        assertThat(run("", "send").exit()).isEqualTo(64);
        assertThat(run("", "frobnicate").exit()).isEqualTo(64);
    }

    // ---- sessions

    @Test
    void sessionsListShowsTheSlotsAndOneRowPerSessionAndKillSaysWhatHappened() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSessions = request -> switch (request) {
            case ControlRequest.SessionsList l ->
                new ControlEvent.SessionListing(
                        List.of(
                                new ControlEvent.SessionRow(
                                        1, "main", "terminal:main", "busy", "sb-1", 210L << 20, 12, 3_400, null, -1),
                                new ControlEvent.SessionRow(
                                        2, "sales", "slack:C1", "queued", null, -1, -1, -1, null, -1),
                                new ControlEvent.SessionRow(
                                        3, "main", "slack:C2", "hibernated", null, -1, -1, -1, null, -1)),
                        1,
                        2,
                        1L << 30,
                        4L << 30);
            case ControlRequest.SessionsKill k ->
                k.session() == 1
                        ? new ControlEvent.Done("Stopped the sandbox of session 1")
                        : new Failure("session 9 has no live sandbox");
            default -> new Failure("unexpected " + request);
        };

        Result list = run("", "sessions", "list", "--hibernated", "5");
        Result killed = run("", "sessions", "kill", "1");
        Result none = run("", "sessions", "kill", "9");

        assertThat(list.exit()).isZero();
        assertThat(list.out()).isEqualTo("""
                1 of 2 sandbox slots in use, 1024 MiB of 4096 MiB memory committed

                SESSION  AGENT  CHAT           STATE       SANDBOX  MEMORY   PROCS  CPU
                1        main   terminal:main  busy        sb-1     210 MiB  12     3.4 s
                2        sales  slack:C1       queued      -        -        -      -
                3        main   slack:C2       hibernated  -        -        -      -
                """);
        assertThat(daemon.received(ControlRequest.SessionsList.class))
                .containsExactly(new ControlRequest.SessionsList(5));
        assertThat(killed.out()).isEqualTo("Stopped the sandbox of session 1\n");
        assertThat(none.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(none.err()).contains("session 9 has no live sandbox");
    }

    @Test
    void withSeveralReplicasSessionsListNamesTheReplicaOfEachSessionAndListsTheReplicas() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onSessions = request -> new ControlEvent.SessionListing(
                List.of(
                        new ControlEvent.SessionRow(
                                1, "main", "terminal:main", "idle", "sb-1", 100L << 20, 3, 1_000, "pod-0:/h", 300),
                        new ControlEvent.SessionRow(2, "sales", "irc:#s", "live", null, -1, -1, -1, "pod-1:/h", 6_200)),
                1,
                2,
                1L << 30,
                4L << 30,
                List.of(
                        new ControlEvent.ReplicaRow("pod-0:/h", true, 0, 300, List.of(), 1),
                        new ControlEvent.ReplicaRow("pod-1:/h", false, 86_400_000, 6_200, List.of("irc"), 1)));

        Result list = run("", "sessions", "list");

        assertThat(list.exit()).isZero();
        assertThat(list.out()).isEqualTo("""
                1 of 2 sandbox slots in use on this replica, 1024 MiB of 4096 MiB memory committed

                SESSION  AGENT  CHAT           STATE  SANDBOX  MEMORY   PROCS  CPU    REPLICA   HEARTBEAT
                1        main   terminal:main  idle   sb-1     100 MiB  3      1.0 s  pod-0:/h  0.3 s ago
                2        sales  irc:#s         live   -        -        -      -      pod-1:/h  6.2 s ago

                REPLICA              STARTED               HEARTBEAT  CHANNELS  SESSIONS
                pod-0:/h (this one)  1970-01-01T00:00:00Z  0.3 s ago  -         1
                pod-1:/h             1970-01-02T00:00:00Z  6.2 s ago  irc       1
                """);
    }

    // ---- tasks

    static final ControlEvent.TaskRow TASK = new ControlEvent.TaskRow(
            3,
            "main",
            "Write the daily report.\nKeep it short.",
            "cron 0 9 * * 1-5",
            "Europe/Paris",
            "terminal:main",
            "isolated",
            "once",
            false,
            "active",
            1_900_000_800_000L, // 2030-03-17 19:00:00 +01:00
            "user:terminal:owner",
            1_900_000_000_000L);

    @Test
    void tasksListShowCreateAndChangeTalkToTheDaemonAndPrintItsAnswer() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onTasks = request -> switch (request) {
            case ControlRequest.TasksList l -> new ControlEvent.TaskListing(List.of(TASK));
            case ControlRequest.TasksShow s ->
                new ControlEvent.TaskDetail(
                        TASK,
                        List.of(
                                new ControlEvent.TaskRunRow(
                                        7,
                                        1_900_000_000_000L,
                                        "failed",
                                        1_900_000_000_000L,
                                        1_900_000_001_000L,
                                        2_500,
                                        "The model is overloaded.",
                                        0,
                                        false),
                                new ControlEvent.TaskRunRow(
                                        6, 1_899_000_000_000L, "skipped", 1_900_000_000_000L, -1, -1, null, 4, false)),
                        null);
            case ControlRequest.TasksCreate c -> new ControlEvent.TaskDetail(TASK, List.of(), "Created task #3.");
            case ControlRequest.TasksChange c ->
                c.id() == 3
                        ? new ControlEvent.TaskDetail(TASK, List.of(), "Resumed task #3.")
                        : new Failure("there is no task #9 (./cordon tasks list shows them)");
        };

        Result list = run("", "tasks", "list", "--agent", "main");
        Result show = run("", "tasks", "show", "3", "--runs", "5");
        Result created = run(
                "",
                "tasks",
                "create",
                "main",
                "Write the daily report.",
                "--cron",
                "0 9 * * 1-5",
                "--zone",
                "Europe/Paris",
                "--catch-up",
                "skip");
        Result resumed = run("", "tasks", "resume", "3");
        Result missing = run("", "tasks", "run-now", "9");
        Result twoWhens = run("", "tasks", "create", "main", "p", "--cron", "0 9 * * *", "--every", "1h");

        assertThat(list.out()).isEqualTo("""
                        ID  AGENT  SCHEDULE          ZONE          NEXT RUN                    STATE   TO             PROMPT
                        3   main   cron 0 9 * * 1-5  Europe/Paris  2030-03-17 19:00:00 +01:00  active  terminal:main  Write the daily report.\\nKeep it short.
                        """);
        assertThat(show.out())
                .contains("task 3 of main: active")
                .contains("  schedule   cron 0 9 * * 1-5 (Europe/Paris)")
                .contains(
                        "7    2030-03-17 18:46:40 +01:00  failed   2030-03-17 18:46:41 +01:00  2.5 s  The model is overloaded.")
                .contains("4 missed run(s) skipped");
        assertThat(daemon.received(ControlRequest.TasksShow.class)).containsExactly(new ControlRequest.TasksShow(3, 5));
        assertThat(daemon.received(ControlRequest.TasksCreate.class))
                .containsExactly(new ControlRequest.TasksCreate(
                        "main", "cron", "0 9 * * 1-5", "Europe/Paris", "Write the daily report.", null, null, "skip"));
        assertThat(created.out()).startsWith("Created task #3.\ntask 3 of main: active\n");
        assertThat(resumed.out()).startsWith("Resumed task #3.\n");
        assertThat(missing.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(missing.err()).contains("there is no task #9");
        assertThat(twoWhens.exit()).isEqualTo(Exit.USAGE);
        assertThat(twoWhens.err()).contains("mutually exclusive");
    }

    // ---- agents

    @Test
    void agentsDeleteAsksForTheNameAndSendsNothingWhenItDoesNotMatch() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAgents = request -> request instanceof ControlRequest.AgentsDelete d && d.force()
                ? new ControlEvent.Done("Deleted agent " + d.name() + ". Archived in /h/archive/x")
                : new Failure("agent sales has 1 live session(s) [3]; stop them first");

        Result wrong = run("sale\n", "agents", "delete", "sales");
        Result none = run("", "agents", "delete", "sales");
        Result typed = run("sales\n", "agents", "delete", "sales", "--force");
        Result scripted = run("", "agents", "delete", "sales", "--yes");

        assertThat(wrong.exit()).isEqualTo(Exit.USAGE);
        assertThat(wrong.out()).contains("Type its name to confirm");
        assertThat(wrong.err()).contains("agent sales was not deleted");
        assertThat(none.exit()).isEqualTo(Exit.USAGE);
        assertThat(typed.exit()).isZero();
        assertThat(typed.out()).contains("Deleted agent sales. Archived in /h/archive/x");
        assertThat(scripted.exit()).isNotZero();
        assertThat(scripted.out()).doesNotContain("Type its name");
        assertThat(scripted.err()).contains("live session");
        assertThat(daemon.received(ControlRequest.AgentsDelete.class))
                .containsExactly(
                        new ControlRequest.AgentsDelete("sales", true),
                        new ControlRequest.AgentsDelete("sales", false));
    }

    @Test
    void agentsShareAndUnshareAskTheDaemonForTheOwnersFolderAndTheReader() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAgents = request -> request instanceof ControlRequest.AgentsShare s
                        && !s.folder().contains("..")
                ? new ControlEvent.Done((s.revoke() ? "Took back " : "Shared ") + s.owner() + "'s " + s.folder())
                : new Failure("folder '../x': '..' is not a folder name");

        Result shared = run("", "agents", "share", "main", "reports", "--with", "sales");
        Result taken = run("", "agents", "unshare", "main", "reports", "--with", "sales");
        Result bad = run("", "agents", "share", "main", "../x", "--with", "sales");
        Result noReader = run("", "agents", "share", "main", "reports");

        assertThat(shared.out()).isEqualTo("Shared main's reports\n");
        assertThat(taken.out()).isEqualTo("Took back main's reports\n");
        assertThat(daemon.received(ControlRequest.AgentsShare.class))
                .containsExactly(
                        new ControlRequest.AgentsShare("main", "reports", "sales", false),
                        new ControlRequest.AgentsShare("main", "reports", "sales", true),
                        new ControlRequest.AgentsShare("main", "../x", "sales", false));
        assertThat(bad.err()).contains("'..' is not a folder name");
        assertThat(noReader.exit()).isNotZero();
        assertThat(noReader.err()).contains("--with");
    }

    @Test
    void agentsListCreateShowAndEdit() throws Exception {
        FakeDaemon daemon = daemon();
        Path folder = Files.createDirectories(home.resolve("agents/sales/workspace"));
        Files.writeString(folder.getParent().resolve("AGENTS.md"), "You sell \u001b[31mthings\u001b[0m.\n");
        Files.writeString(folder.resolve("MEMORY.md"), "- the best customer is ACME\n");
        daemon.onAgents = request -> switch (request) {
            case ControlRequest.AgentsList l ->
                new ControlEvent.AgentListing(List.of(
                        new ControlEvent.AgentRow(
                                "main", home.resolve("agents/main").toString(), 0, 2, "defaults", -1),
                        new ControlEvent.AgentRow("sales", folder.getParent().toString(), 1, 1, "v2", 29)));
            case ControlRequest.AgentsCreate c ->
                c.name().equals("ops")
                        ? new ControlEvent.Done("Created agent ops")
                        : new Failure("agent " + c.name() + " already exists");
            default -> new Failure("unexpected " + request);
        };

        Result list = run("", "agents", "list");
        Result created = run("", "agents", "create", "ops", "--instructions", "You run ops.");
        Result again = run("", "agents", "create", "sales");
        Result shown = run("", "agents", "show", "sales");
        env = Map.of("EDITOR", "sed -i s/sell/buy/");
        Result edited = run("", "agents", "edit", "sales");
        Result missing = run("", "agents", "show", "nobody");

        assertThat(list.out()).isEqualTo("""
                AGENT  SESSIONS    MEMORY.md  POLICY
                main   0 live / 2  none       defaults
                sales  1 live / 1  29 B       v2
                """);
        assertThat(daemon.received(ControlRequest.AgentsCreate.class))
                .contains(new ControlRequest.AgentsCreate("ops", "You run ops."));
        assertThat(created.out()).isEqualTo("Created agent ops\n");
        assertThat(again.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(again.err()).contains("agent sales already exists");
        // What the agent or anyone wrote is shown with its control characters made visible.
        assertThat(shown.out())
                .contains("policy    v2 (./cordon policy explain sales)")
                .contains("You sell ⟨ESC⟩[31mthings⟨ESC⟩[0m.")
                .contains("- the best customer is ACME");
        assertThat(edited.exit()).as(edited.err()).isZero();
        assertThat(Files.readString(folder.getParent().resolve("AGENTS.md"))).startsWith("You buy");
        assertThat(missing.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(missing.err()).contains("there is no agent named 'nobody'; agents: [main, sales]");
    }

    @Test
    void dashboardPrintsTheLoginLinkAndATokenOnlyWhenOneWasMade() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onDashboard = request -> {
            ControlRequest.Dashboard d = (ControlRequest.Dashboard) request;
            String user = d.user() == null ? "web:owner" : d.user();
            return new ControlEvent.DashboardLink(
                    "http://127.0.0.1:7878",
                    "http://127.0.0.1:7878/login?code=abc",
                    user,
                    d.newToken() ? "cordon_secret" : null);
        };

        Result owner = run("", "dashboard");
        Result alice = run("", "dashboard", "--user", "web:alice", "--new-token");
        daemon.onDashboard = request -> new Failure("the dashboard is off: set http: {enabled: true}");
        Result off = run("", "dashboard");

        assertThat(owner.out())
                .contains("Dashboard: http://127.0.0.1:7878")
                .contains("Log in as web:owner")
                .contains("http://127.0.0.1:7878/login?code=abc")
                .doesNotContain("API token");
        assertThat(alice.out()).contains("API token for web:alice").contains("cordon_secret");
        assertThat(daemon.received(ControlRequest.Dashboard.class))
                .contains(new ControlRequest.Dashboard("web:alice", true));
        assertThat(off.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(off.err()).contains("set http: {enabled: true}");
    }

    @Test
    void agentsShowNeverFollowsALinkedMemoryFile() throws Exception {
        Path secret = Files.writeString(home.resolve("host-secret.txt"), "do not print\n");
        Path folder = Files.createDirectories(home.resolve("agents/main/workspace"));
        Files.createSymbolicLink(folder.resolve("MEMORY.md"), secret);

        assertThat(AgentsCommand.head(folder.resolve("MEMORY.md"))).isEqualTo("(not a regular file; not shown)");
    }

    // ---- users, chats, senders, pair

    @Test
    void usersGrantSendsTheRequestAndPrintsWhatTheDaemonDid() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> new ControlEvent.Done("granted admin on agent main to slack:U1");

        Result result = run("", "users", "grant", "slack:U1", "admin", "--agent", "main");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("granted admin on agent main to slack:U1\n");
        assertThat(daemon.received(ControlRequest.UsersGrant.class))
                .containsExactly(new ControlRequest.UsersGrant("slack:U1", "admin", "main"));
    }

    @Test
    void aRefusedChangeExitsWithTheDaemonsReasonOnStderr() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> new Failure("unknown role 'boss': use one of [owner, admin, member]");

        Result result = run("", "users", "revoke", "slack:U1", "boss");

        assertThat(result.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).isEqualTo("unknown role 'boss': use one of [owner, admin, member]\n");
        assertThat(daemon.received(ControlRequest.UsersRevoke.class))
                .containsExactly(new ControlRequest.UsersRevoke("slack:U1", "boss", null));
    }

    @Test
    void usersListPrintsOneAlignedRowPerRole() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> new ControlEvent.UserList(List.of(
                new ControlEvent.UserRow("terminal:owner", "owner", null, "built-in", 0),
                new ControlEvent.UserRow("slack:U123", "admin", "main", "pairing", 5)));

        Result result = run("", "users", "list");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("""
                        USER            ROLE   SCOPE       GRANTED BY
                        terminal:owner  owner  global      built-in
                        slack:U123      admin  agent main  pairing
                        """);
    }

    @Test
    void chatsAndSendersCommandsSendTheirRequests() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> switch (request) {
            case ControlRequest.ChatsList l ->
                new ControlEvent.ChatList(List.of(new ControlEvent.ChatRow("slack:C1", null, "strict")));
            case ControlRequest.SendersList l ->
                new ControlEvent.SenderList(
                        List.of(new ControlEvent.SenderRow(3, "slack:U9", "slack:C1", "main", "pending", 2, 0, null)));
            default -> new ControlEvent.Done("done: " + request);
        };

        Result chats = run("", "chats", "list");
        Result policy = run("", "chats", "policy", "slack:C1", "approval");
        Result senders = run("", "senders", "list");
        Result admit = run("", "senders", "admit", "3");
        Result refuse = run("", "senders", "refuse", "4");

        assertThat(chats.out()).contains("slack:C1  (not wired)  strict");
        assertThat(senders.out()).contains("3   slack:U9  slack:C1  main   pending  2     -");
        assertThat(List.of(policy, admit, refuse))
                .allSatisfy(r -> assertThat(r.exit()).isEqualTo(0));
        assertThat(daemon.received(ControlRequest.ChatsPolicy.class))
                .containsExactly(new ControlRequest.ChatsPolicy("slack:C1", "approval"));
        assertThat(daemon.received(ControlRequest.SendersAdmit.class))
                .containsExactly(new ControlRequest.SendersAdmit(3));
        assertThat(daemon.received(ControlRequest.SendersRefuse.class))
                .containsExactly(new ControlRequest.SendersRefuse(4));
    }

    @Test
    void anEmptyListSaysSoAndWhatFillsIt() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> new ControlEvent.SenderList(List.of());

        Result result = run("", "senders", "list");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out())
                .isEqualTo("No sender requests: a chat with the approval policy holds unknown senders here.\n");
    }

    @Test
    void pairPrintsOnlyTheCodeOnStdoutAndHowToUseItOnStderr() throws Exception {
        FakeDaemon daemon = daemon();
        daemon.onAccess = request -> new ControlEvent.PairingCode("main", "K7Q2MXRB", 1_900_000_000_000L);

        Result result = run("", "pair", "main");

        assertThat(result.exit()).isEqualTo(0);
        assertThat(result.out()).isEqualTo("K7Q2MXRB\n");
        assertThat(result.err()).contains("agent main").contains("once, until 17:46:40 UTC");
        assertThat(daemon.received(ControlRequest.Pair.class)).containsExactly(new ControlRequest.Pair("main"));
    }

    @Test
    void aSubcommandOfUsersWithMissingArgumentsIsAUsageError() throws Exception {
        daemon();

        Result result = run("", "users", "grant", "slack:U1");

        assertThat(result.exit()).isEqualTo(Exit.USAGE);
        assertThat(result.err()).contains("ROLE");
    }

    private FakeDaemon daemon() throws IOException {
        FakeDaemon daemon = new FakeDaemon(home);
        daemons.add(daemon);
        return daemon;
    }

    private Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Context context = new Context(
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                env,
                home.resolve("user"),
                false,
                starter,
                Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        List<String> withHome = new ArrayList<>(List.of(args));
        if (passHome) {
            withHome.addAll(0, List.of("--home", home.toString()));
        }
        int exit = CordonCommand.run(withHome.toArray(String[]::new), context);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static <T> void eventually(Supplier<T> actual, T expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!actual.get().equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(actual.get()).isEqualTo(expected);
    }
}
