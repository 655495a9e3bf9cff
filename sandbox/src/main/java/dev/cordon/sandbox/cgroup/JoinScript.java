package dev.cordon.sandbox.cgroup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shell prefix that joins a cgroup and then becomes the real command. */
final class JoinScript {
    // "$$" is the shell's own pid, which exec keeps: the command becomes the process that joined.
    // Paths and the command travel as positional parameters, never pasted into the script, so no
    // character in them is interpreted by the shell. "--" ends the list of files (they are absolute
    // paths, so none can be "--").
    static final String SCRIPT = "while [ \"$1\" != -- ]; do"
            + " echo $$ > \"$1\" || { echo \"cordon: cannot join cgroup $1\" >&2; exit 125; };"
            + " shift; done; shift; exec \"$@\"";

    /** The wrapper's name in {@code ps} until it execs ({@code $0}). */
    static final String NAME = "cordon-cgroup-join";

    private JoinScript() {}

    static List<String> wrap(List<Path> procsFiles, List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", SCRIPT, NAME));
        for (Path file : procsFiles) {
            argv.add(file.toAbsolutePath().toString());
        }
        argv.add("--");
        argv.addAll(command);
        return List.copyOf(argv);
    }
}
