package dev.cordon.cli;

import dev.cordon.protocol.control.ApprovalView;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cordon approvals list|show|approve|deny}: the owner's answers to what agents ask. Whoever
 * runs this can open the daemon's control socket, so answers count as {@code terminal:owner}.
 */
@Command(
        name = "approvals",
        description = {
            "List, inspect and answer what your agents ask permission for (docs/approvals.md).",
            "Requests wait until answered or until approvals.timeout_seconds pass (then they are denied)."
        },
        mixinStandardHelpOptions = true,
        subcommands = {
            ApprovalsCommand.ListCommand.class,
            ApprovalsCommand.ShowCommand.class,
            ApprovalsCommand.ApproveCommand.class,
            ApprovalsCommand.DenyCommand.class
        })
final class ApprovalsCommand implements Callable<Integer> {
    @ParentCommand
    CordonCommand root;

    /** Without a subcommand: the pending list. */
    @Override
    public Integer call() {
        return list(false);
    }

    int list(boolean all) {
        ControlEvent event = ask(new ControlRequest.ApprovalList(all));
        PrintStream out = root.context().out();
        if (!(event instanceof ControlEvent.ApprovalListing listing)) {
            throw unexpected(event);
        }
        List<ApprovalView> approvals = listing.approvals();
        if (approvals.isEmpty()) {
            out.println(all ? "No approvals yet." : "No approvals are pending.");
            return Exit.OK;
        }
        approvals.forEach(a -> out.println(ApprovalCards.line(a)));
        if (!all) {
            out.println("Show one in full: ./cordon approvals show ID");
        }
        return Exit.OK;
    }

    /** Sends one request and returns the daemon's answer; an {@code ApprovalProblem} ends the command. */
    ControlEvent ask(ControlRequest request) {
        Daemon daemon = root.daemon();
        daemon.ensureRunning();
        try (ControlConnection connection = daemon.connect()) {
            connection.send(request);
            ControlEvent event = daemon.expect(connection, ControlEvent.class, "an answer");
            if (event instanceof ControlEvent.ApprovalProblem problem) {
                throw new CliException(exitCode(problem.problem()), problem.message());
            }
            return event;
        }
    }

    static int exitCode(String problem) {
        return switch (problem) {
            case "unknown" -> Exit.NO_SUCH_APPROVAL;
            case "already_decided" -> Exit.ALREADY_DECIDED;
            case "expired" -> Exit.EXPIRED;
            case "invalid" -> Exit.USAGE;
            default -> Exit.UNREACHABLE;
        };
    }

    static CliException unexpected(ControlEvent event) {
        return new CliException(
                Exit.UNREACHABLE,
                "The daemon answered with " + event.getClass().getSimpleName()
                        + "; are the daemon and the command from the same build?");
    }

    @Command(
            name = "list",
            description = "List pending approvals (--all: the history too).",
            mixinStandardHelpOptions = true)
    static final class ListCommand implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Option(names = "--all", description = "Show decided and expired approvals too (the newest 200).")
        boolean all;

        @Override
        public Integer call() {
            return parent.list(all);
        }
    }

    @Command(
            name = "show",
            description = "Show one approval in full: every field and the whole payload.",
            mixinStandardHelpOptions = true)
    static final class ShowCommand implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Parameters(paramLabel = "ID", description = "The approval's number, as listed (with or without #).")
        String id;

        @Override
        public Integer call() {
            ControlEvent event = parent.ask(new ControlRequest.ApprovalShow(parseId(id)));
            if (!(event instanceof ControlEvent.ApprovalCard card)) {
                throw unexpected(event);
            }
            ApprovalCards.card(card.approval()).forEach(parent.root.context().out()::println);
            return Exit.OK;
        }
    }

    @Command(name = "approve", description = "Grant a pending approval.", mixinStandardHelpOptions = true)
    static final class ApproveCommand implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Parameters(paramLabel = "ID", description = "The approval's number.")
        String id;

        @Option(
                names = "--scope",
                paramLabel = "once|session|always",
                defaultValue = "once",
                description = "once: this request only (default); session: the same request again in this"
                        + " session; always: the same request in any session of this agent.")
        String scope;

        @Option(
                names = "--uses",
                paramLabel = "N",
                description = "At most N requests in all, counting this one (session and always only).")
        Integer uses;

        @Option(
                names = "--expires",
                paramLabel = "DURATION",
                description = "The grant stops applying after this long: 90s, 30m, 1h, 7d.")
        String expires;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Words for the record.")
        String reason;

        @Override
        public Integer call() {
            String s = scope.toLowerCase(Locale.ROOT);
            if (!List.of("once", "session", "always").contains(s)) {
                throw new CliException(Exit.USAGE, "--scope must be once, session or always, not '" + scope + "'.");
            }
            if (uses != null && uses < 1) {
                throw new CliException(Exit.USAGE, "--uses must be 1 or more.");
            }
            if (uses != null && uses > 1 && s.equals("once")) {
                throw new CliException(
                        Exit.USAGE,
                        "--scope once is one use; with --uses " + uses + " choose --scope session or always.");
            }
            long seconds = expires == null ? 0 : seconds(expires);
            ControlEvent event = parent.ask(
                    new ControlRequest.ApprovalApprove(parseId(id), s, uses == null ? 0 : uses, seconds, reason));
            return decided(parent, event);
        }
    }

    @Command(name = "deny", description = "Deny a pending approval.", mixinStandardHelpOptions = true)
    static final class DenyCommand implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Parameters(paramLabel = "ID", description = "The approval's number.")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; the agent is told.")
        String reason;

        @Override
        public Integer call() {
            return decided(parent, parent.ask(new ControlRequest.ApprovalDeny(parseId(id), reason)));
        }
    }

    private static int decided(ApprovalsCommand parent, ControlEvent event) {
        if (!(event instanceof ControlEvent.ApprovalDecided decided)) {
            throw unexpected(event);
        }
        parent.root
                .context()
                .out()
                .println("#" + decided.approval().id() + " " + ApprovalCards.flat(decided.message()));
        return Exit.OK;
    }

    static long parseId(String text) {
        String digits = text.startsWith("#") ? text.substring(1) : text;
        try {
            long id = Long.parseLong(digits);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CliException(
                Exit.USAGE, "'" + text + "' is not an approval number; ./cordon approvals list shows them.");
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhd])");

    /** "90s", "30m", "1h", "7d" in seconds. */
    static long seconds(String text) {
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new CliException(Exit.USAGE, "--expires '" + text + "' is not a duration like 90s, 30m, 1h or 7d.");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> n;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n * 86_400;
        };
    }
}
