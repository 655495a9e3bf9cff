package dev.cordon.sandbox.bwrap;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.cgroup.Cgroup;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one {@code /bin/sh} that becomes a sandbox's bwrap: started with an empty environment, it
 * joins the sandbox's cgroups first, then waits on its standard input for the line that
 * {@code exec}s bwrap with the seccomp filter on fd 3 and {@code /dev/null} as standard input. One
 * process (setsid → sh → bwrap keep the pid) from the cgroup join to the sandbox's end.
 *
 * <p>Why one shell that reads its last line from a pipe: it replaces two (the cgroup join and the
 * fd 3 redirect each had one), and it can be started before the bwrap command line is known. Joining
 * a cgroup makes the kernel wait for an RCU grace period when no other join happened in the last
 * few milliseconds (about 8 ms here), and spawning costs a few more: a spare shell prepared ahead
 * of time (see {@link BubblewrapBackend}) has paid both before its sandbox is asked for.
 *
 * <p>Only trusted text reaches the shell: the constant {@link #PRELUDE}, whose data (filter file,
 * {@code cgroup.procs} files) are positional parameters, and the {@code exec} line, whose every
 * word is single-quoted by {@link #quote} (inside single quotes a POSIX shell interprets no
 * character, newlines included). Not thread-safe: one thread hands the line over.
 */
final class Shell {
    /**
     * Joins every {@code cgroup.procs} file up to {@code --} ({@code $$} is the shell's pid, which
     * {@code exec} keeps) and remembers the filter file; exits 125 without running anything if a
     * join fails. Then the shell reads on.
     */
    static final String PRELUDE = "f=$1; shift; while [ \"$1\" != -- ]; do echo $$ > \"$1\""
            + " || { echo \"cordon: cannot join cgroup $1\" >&2; exit 125; }; shift; done; shift\n";

    /** The encoding the JDK uses for a process's arguments and file names. */
    private static final Charset ARGUMENT_CHARSET = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

    private final Process process;
    private final Cgroup cgroup;
    private final Limits limits;
    private final OutputStream script;

    /**
     * Wraps a started shell (from {@link #argv}) and sends it the {@link #PRELUDE}.
     *
     * @param cgroup the groups it joins, or null for none
     * @throws IOException if the shell is already gone
     */
    Shell(Process process, Cgroup cgroup, Limits limits) throws IOException {
        this.process = process;
        this.cgroup = cgroup;
        this.limits = limits;
        this.script = process.getOutputStream();
        script.write(PRELUDE.getBytes(ARGUMENT_CHARSET));
        script.flush();
    }

    /**
     * The shell's command line: {@code setsid} when given (a process group of its own for {@code
     * kill}), then {@code sh -s FILTER PROCS... --}; an empty FILTER when there is none.
     */
    static List<String> argv(Path setsid, Path sh, Path filter, Cgroup cgroup) {
        List<String> argv = new ArrayList<>();
        if (setsid != null) {
            argv.add(setsid.toString());
        }
        argv.addAll(List.of(sh.toString(), "-s", filter == null ? "" : filter.toString()));
        if (cgroup != null) {
            cgroup.procsFiles().forEach(p -> argv.add(p.toAbsolutePath().toString()));
        }
        argv.add("--");
        return argv;
    }

    /**
     * The line that turns the shell into bwrap: {@code exec 'bwrap' 'arg'... 3<"$f" </dev/null} (no
     * fd 3 without a filter).
     *
     * @throws SandboxException if an argument holds a NUL character, which no command line can carry
     */
    static String execLine(List<String> bwrapArgs, boolean filter) {
        StringBuilder line = new StringBuilder("exec");
        for (String arg : bwrapArgs) {
            line.append(' ').append(quote(arg));
        }
        if (filter) {
            line.append(" 3<\"$f\"");
        }
        return line.append(" </dev/null\n").toString();
    }

    /** {@code s} as one single-quoted shell word: {@code '} becomes {@code '\''}, nothing else changes. */
    static String quote(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new SandboxException("a sandbox argument contains a NUL character: " + s.replace('\0', '?'));
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    Process process() {
        return process;
    }

    /** The groups the shell is in, or null. */
    Cgroup cgroup() {
        return cgroup;
    }

    /** The limits its groups were created with. */
    Limits limits() {
        return limits;
    }

    /**
     * Sends {@code execLine} and closes the shell's input: it execs bwrap, or exits if the line
     * fails.
     *
     * @throws IOException if the shell is gone (its input pipe is closed)
     */
    void hand(String execLine) throws IOException {
        try (OutputStream out = script) {
            out.write(execLine.getBytes(ARGUMENT_CHARSET));
        }
    }

    /**
     * Kills the shell (it never ran anything but itself and the join) and removes its groups.
     * Never throws; blocks up to a few seconds.
     */
    void discard() {
        process.destroyForcibly();
        if (cgroup != null) {
            try {
                cgroup.close();
            } catch (SandboxException e) {
                org.slf4j.LoggerFactory.getLogger(Shell.class)
                        .warn("could not remove the cgroups of a spare shell: {}", e.getMessage());
            }
        }
    }
}
