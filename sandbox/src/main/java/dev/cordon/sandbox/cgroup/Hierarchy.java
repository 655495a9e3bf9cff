package dev.cordon.sandbox.cgroup;

import java.nio.file.Path;
import java.util.Set;

/**
 * One hierarchy that sandbox groups are made in.
 *
 * @param v2 whether it is the unified (v2) hierarchy
 * @param group the directory of this process's group in it (on v2, of the group that holds the
 *     daemon's {@code cordon-daemon} leaf once the daemon moved)
 * @param controllers the controllers Cordon uses from it
 */
record Hierarchy(boolean v2, Path group, Set<String> controllers) {
    /** Name of the parent group of all sandboxes, under {@link #group}. */
    static final String PARENT = "cordon";

    /** Name of the v2 leaf the daemon moves into so its group may hand controllers down. */
    static final String DAEMON_LEAF = "cordon-daemon";

    Path parent() {
        return group.resolve(PARENT);
    }

    boolean has(String controller) {
        return controllers.contains(controller);
    }
}
