package dev.cordon.runner.tools;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Turns the model's path arguments into paths and paths back into short names. Relative paths
 * resolve against the workspace; absolute paths are taken as they are, because the sandbox, not
 * this class, decides what is visible.
 */
record Workspace(Path root) {
    Workspace {
        root = root.toAbsolutePath().normalize();
    }

    /**
     * @throws InvalidInputException if {@code value} is not a valid path (for example, it holds a
     *     NUL character)
     */
    Path resolve(String argument, String value) throws InvalidInputException {
        try {
            return root.resolve(value).normalize();
        } catch (InvalidPathException e) {
            throw new InvalidInputException(
                    "Invalid argument '" + argument + "': not a valid path (" + e.getReason() + ").");
        }
    }

    /** Workspace-relative for paths inside the workspace, absolute otherwise. */
    String display(Path path) {
        Path p = path.toAbsolutePath().normalize();
        if (p.equals(root)) {
            return ".";
        }
        return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
    }
}
