package dev.cordon.cli;

import dev.cordon.protocol.control.ControlEvent.StatusReport;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The root command: global options, the list of subcommands, and chat when none is given. */
@Command(
        name = "cordon",
        mixinStandardHelpOptions = true,
        versionProvider = CordonCommand.Version.class,
        description = {
            "Talk to your agents and manage the Cordon daemon that runs them.",
            "Without a command, opens a chat with the agent 'main'."
        },
        subcommands = {
            ChatCommand.class,
            SendCommand.class,
            StatusCommand.class,
            StartCommand.class,
            StopCommand.class,
            DoctorCommand.class,
            UsersCommand.class,
            ChatsCommand.class,
            SendersCommand.class,
            PairCommand.class,
            ApprovalsCommand.class,
            SessionsCommand.class,
            AgentsCommand.class,
            DashboardCommand.class,
            TasksCommand.class
        },
        footerHeading = "%n",
        footer = {
            "More commands, which ./cordon runs without a daemon:",
            "  secret set|list|rm NAME   the secret vault; values on stdin (docs/egress.md)",
            "  policy check FILE|schema|explain AGENT   an agent's policy (docs/policy.md)",
            "  usage [--days N] [--by agent|chat|model]   spending (docs/budgets.md)",
            "  audit verify|tail|export  the tamper-evident audit log (docs/audit.md)",
            "  demo escape               hostile agent vs a real sandbox (docs/security.md)",
            "  migrate --from sqlite --to postgres   move the store (docs/store.md)",
            "  fake-model                a scripted model server, to try Cordon offline",
            "",
            "The daemon starts on first use and keeps running (with your agents' sandboxes and"
                    + " schedules) until ./cordon stop. Its log is HOME/logs/daemon.out. Host check: ./cordon doctor."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:success",
            " 1:send: the agent's turn failed; its reply, saying why, went to stderr",
            " 2:no model is configured; the message says what to set",
            " 3:send: no reply within --timeout (it is kept for ./cordon chat);" + " status: the daemon is not running",
            " 4:the daemon could not be started or reached, or refused the request",
            " 6:approvals: there is no approval with that number",
            " 7:approvals: it was already decided",
            " 8:approvals: it expired (nobody answered in time)",
            "64:invalid command line",
            "70:internal error in cordon (a bug; please report it with the stack trace)"
        },
        exitCodeOnInvalidInput = Exit.USAGE,
        exitCodeOnExecutionException = Exit.SOFTWARE)
final class CordonCommand implements Callable<Integer> {

    @Option(
            names = "--home",
            paramLabel = "DIR",
            scope = ScopeType.INHERIT,
            description = "Cordon's home (agents, conversations, logs). Default: $CORDON_HOME, else ~/.cordon.")
    Path home;

    private final Context context;

    CordonCommand(Context context) {
        this.context = context;
    }

    /** Runs one command line and returns its exit code; prints errors, never throws. */
    static int run(String[] args, Context context) {
        CommandLine commandLine = new CommandLine(new CordonCommand(context));
        // The codes on the root's @Command are not inherited by subcommands (nor theirs: users grant).
        setExitCodes(commandLine);
        commandLine.setOut(new PrintWriter(context.out(), true, StandardCharsets.UTF_8));
        commandLine.setErr(new PrintWriter(context.err(), true, StandardCharsets.UTF_8));
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            if (e instanceof CliException cli) {
                context.err().println(cli.getMessage());
                return cli.exitCode();
            }
            context.err().println("cordon: internal error (a bug; please report it with this trace):");
            e.printStackTrace(context.err());
            return Exit.SOFTWARE;
        });
        return commandLine.execute(args);
    }

    private static void setExitCodes(CommandLine parent) {
        for (CommandLine sub : parent.getSubcommands().values()) {
            sub.getCommandSpec().exitCodeOnInvalidInput(Exit.USAGE);
            sub.getCommandSpec().exitCodeOnExecutionException(Exit.SOFTWARE);
            setExitCodes(sub);
        }
    }

    @Override
    public Integer call() {
        return new ChatSession(context, daemon(), ChatCommand.DEFAULT_AGENT).run();
    }

    Context context() {
        return context;
    }

    /** {@code --home}, else {@code $CORDON_HOME}, else {@code ~/.cordon}; absolute. */
    Path resolvedHome() {
        if (home != null) {
            return home.toAbsolutePath().normalize();
        }
        String fromEnv = context.env().getOrDefault("CORDON_HOME", "");
        if (!fromEnv.isBlank()) {
            return Path.of(fromEnv).toAbsolutePath().normalize();
        }
        return context.userHome().resolve(".cordon").toAbsolutePath().normalize();
    }

    Daemon daemon() {
        return new Daemon(context, resolvedHome());
    }

    /**
     * Ends the command with {@link Exit#NO_MODEL} when the daemon has no model: nothing could
     * answer. The daemon's own explanation says what to set.
     */
    static void requireModel(StatusReport status) {
        if (status.modelProblem() != null) {
            // The daemon's text says what to set and to run ./cordon again, which works because
            // Daemon.ensureRunning restarts a model-less daemon once the shell sets a model.
            throw new CliException(Exit.NO_MODEL, status.modelProblem().strip());
        }
    }

    /** The version in the jar's manifest; "development build" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = CordonCommand.class.getPackage().getImplementationVersion();
            return new String[] {"cordon " + (version == null ? "(development build)" : version)};
        }
    }
}
