package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** {@code glob}: files whose path matches a pattern, newest first. Stateless. */
final class GlobTool implements Tool {
    static final String NAME = "glob";
    static final int MAX_RESULTS = 1_000;

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("pattern", "Glob pattern, e.g. **/*.java or src/*.{ts,tsx}.")
            .optionalText("path", "Directory to search from (default: the workspace).")
            .build();

    private static final Comparator<FileWalk.Found> NEWEST_FIRST =
            Comparator.comparing(FileWalk.Found::modified).reversed().thenComparing(FileWalk.Found::path);

    private final Workspace workspace;
    private final int outputLimit;
    private final ToolSpec spec;

    GlobTool(Workspace workspace, int outputLimit) {
        this.workspace = workspace;
        this.outputLimit = outputLimit;
        this.spec = new ToolSpec(
                NAME,
                "Finds files whose path, relative to `path` (default: the workspace), matches a glob pattern such "
                        + "as `**/*.java` or `src/*.{ts,tsx}`. `*` and `?` stay within one directory; `**` "
                        + "matches any number of directories, including none. Returns matching files (not "
                        + "directories), newest first, at most " + Text.count(MAX_RESULTS) + ". Skips .git "
                        + "directories and directories it cannot read. Paths inside the workspace are shown "
                        + "relative to it.",
                SCHEMA.json());
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        try {
            InputSchema.Args args = SCHEMA.parse(input);
            Path root = args.has("path") ? workspace.resolve("path", args.string("path")) : workspace.root();
            return glob(root, args.string("pattern"));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private ToolOutput glob(Path root, String pattern) throws InvalidInputException {
        try {
            BasicFileAttributes attributes = Text.attributes(root);
            if (attributes == null) {
                return ToolOutput.error("path " + workspace.display(root) + " does not exist.");
            }
            if (!attributes.isDirectory()) {
                return ToolOutput.error("path " + workspace.display(root) + " is a file, not a directory.");
            }
        } catch (IOException e) {
            return ToolOutput.error("Cannot search " + workspace.display(root) + ": " + Text.describe(e));
        }
        Globs.Split split = Globs.split(pattern);
        PathMatcher matcher = Globs.compile("pattern", split.rest());
        Path base;
        try {
            base = root.resolve(split.literalPrefix()).normalize();
        } catch (InvalidPathException e) {
            throw new InvalidInputException("Invalid argument 'pattern': " + e.getReason() + ".");
        }
        if (!Files.isDirectory(base)) {
            return ToolOutput.ok(
                    "No files match " + pattern + " (" + workspace.display(base) + " is not a directory).");
        }
        FileWalk.Result result;
        try {
            result = FileWalk.files(base, Globs.maxDepth(split.rest()), matcher::matches);
        } catch (IOException e) {
            return ToolOutput.error("Cannot search " + workspace.display(base) + ": " + Text.describe(e));
        }
        if (Thread.currentThread().isInterrupted()) {
            return ToolOutput.error("glob was interrupted.");
        }
        List<FileWalk.Found> files =
                result.files().stream().sorted(NEWEST_FIRST).toList();
        StringBuilder out = new StringBuilder();
        if (files.isEmpty()) {
            out.append("No files match ")
                    .append(pattern)
                    .append(
                            root.equals(workspace.root())
                                    ? " in the workspace."
                                    : " under " + workspace.display(root) + ".");
        }
        for (FileWalk.Found f : files.subList(0, Math.min(files.size(), MAX_RESULTS))) {
            out.append(workspace.display(f.path())).append('\n');
        }
        if (files.size() > MAX_RESULTS) {
            out.append("[showing the ")
                    .append(Text.count(MAX_RESULTS))
                    .append(" newest of ")
                    .append(Text.count(files.size()))
                    .append(" matching files; use a narrower pattern or path to see the rest]\n");
        }
        if (result.unreadable() > 0) {
            out.append("[skipped ")
                    .append(Text.count(result.unreadable(), "entry", "entries"))
                    .append(" that could not be read]\n");
        }
        return ToolOutput.ok(Text.capHead(out.toString(), outputLimit));
    }
}
