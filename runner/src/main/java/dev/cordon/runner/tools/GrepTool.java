package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/** {@code grep}: a Java-regex search over files, line by line, in plain Java. Stateless. */
final class GrepTool implements Tool {
    static final String NAME = "grep";
    static final int MAX_RESULTS = 1_000;

    /**
     * How much of one line is searched. Lines are streamed, so this bounds memory on a huge
     * single-line file; matches beyond it are missed.
     */
    private static final int MAX_SEARCHED_LINE_CHARS = 1 << 20;

    private static final String FILES = "files_with_matches";
    private static final String CONTENT = "content";
    private static final String COUNT = "count";

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("pattern", "Java regular expression, matched against each line.")
            .optionalText("path", "File or directory to search (default: the workspace).")
            .optionalText("glob", "Only search files matching this glob, e.g. *.java or src/**/*.ts.")
            .optionalBoolean("case_insensitive", "Ignore case (default false).")
            .optionalChoice(
                    "output_mode",
                    List.of(FILES, CONTENT, COUNT),
                    "files_with_matches (default): matching file paths; content: file:line:text for each "
                            + "matching line; count: file:number of matching lines.")
            .build();

    private final Workspace workspace;
    private final int outputLimit;
    private final ToolSpec spec;

    GrepTool(Workspace workspace, int outputLimit) {
        this.workspace = workspace;
        this.outputLimit = outputLimit;
        this.spec = new ToolSpec(
                NAME,
                "Searches file contents for a Java regular expression, one line at a time (a match cannot span "
                        + "lines). `path` is a file or directory (default: the workspace); `glob` limits which "
                        + "files are searched (`*.java` matches file names at any depth, a pattern with `/` "
                        + "matches paths relative to `path`). output_mode: `files_with_matches` (default), "
                        + "`content` (`file:line:text`), or `count` (`file:count`). Skips binary files, "
                        + "unreadable files and .git directories. Stops after " + Text.count(MAX_RESULTS)
                        + " results; output is capped at " + Text.count(outputLimit) + " characters and lines "
                        + "at " + Text.count(Text.MAX_LINE_CHARS) + ".",
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
            Pattern pattern = compile(args.string("pattern"), args.bool("case_insensitive", false));
            Path root = args.has("path") ? workspace.resolve("path", args.string("path")) : workspace.root();
            PathMatcher filter = args.has("glob") ? Globs.compile("glob", args.string("glob")) : null;
            boolean byName = args.has("glob") && !args.string("glob").contains("/");
            return grep(root, pattern, filter, byName, args.string("output_mode", FILES));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private static Pattern compile(String regex, boolean caseInsensitive) throws InvalidInputException {
        try {
            return Pattern.compile(regex, caseInsensitive ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
        } catch (PatternSyntaxException e) {
            throw new InvalidInputException("Invalid argument 'pattern': not a valid Java regular expression ("
                    + e.getDescription() + " near index " + e.getIndex() + " of \"" + Text.clip(regex, 200)
                    + "\").");
        }
    }

    private ToolOutput grep(Path root, Pattern pattern, PathMatcher filter, boolean byName, String mode) {
        List<Path> files;
        int unreadable = 0;
        BasicFileAttributes attributes;
        try {
            attributes = Text.attributes(root);
        } catch (IOException e) {
            return ToolOutput.error("Cannot search " + workspace.display(root) + ": " + Text.describe(e));
        }
        if (attributes == null) {
            return ToolOutput.error("path " + workspace.display(root) + " does not exist.");
        } else if (attributes.isRegularFile()) {
            files = List.of(root);
        } else if (!attributes.isDirectory()) {
            return ToolOutput.error("path " + workspace.display(root) + " is not a regular file or directory.");
        } else {
            FileWalk.Result walk;
            try {
                walk = FileWalk.files(
                        root,
                        Integer.MAX_VALUE,
                        relative -> filter == null || filter.matches(byName ? relative.getFileName() : relative));
            } catch (IOException e) {
                return ToolOutput.error("Cannot search " + workspace.display(root) + ": " + Text.describe(e));
            }
            files = walk.files().stream()
                    .map(FileWalk.Found::path)
                    .sorted(Comparator.naturalOrder())
                    .toList();
            unreadable = walk.unreadable();
        }

        StringBuilder out = new StringBuilder();
        int results = 0;
        int binary = 0;
        int searched = 0;
        boolean capped = false;
        Matcher matcher = pattern.matcher("");
        for (Path file : files) {
            if (Thread.currentThread().isInterrupted()) {
                return ToolOutput.error("grep was interrupted.");
            }
            if (results >= MAX_RESULTS) {
                capped = true;
                break;
            }
            String name = workspace.display(file);
            long matching = 0;
            try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 65_536)) {
                if (Text.looksBinary(in)) {
                    binary++;
                    continue;
                }
                LineReader lines =
                        new LineReader(new InputStreamReader(in, StandardCharsets.UTF_8), MAX_SEARCHED_LINE_CHARS);
                long lineNumber = 0;
                for (String line = lines.next(); line != null; line = lines.next()) {
                    lineNumber++;
                    if (!matcher.reset(line).find()) {
                        continue;
                    }
                    matching++;
                    if (mode.equals(FILES)) {
                        break;
                    }
                    if (mode.equals(CONTENT)) {
                        if (results >= MAX_RESULTS) {
                            capped = true;
                            break;
                        }
                        out.append(name)
                                .append(':')
                                .append(lineNumber)
                                .append(':')
                                .append(Text.capLine(line, lines.dropped()))
                                .append('\n');
                        results++;
                    }
                }
                searched++;
            } catch (IOException e) {
                unreadable++;
                continue;
            }
            if (matching > 0 && !mode.equals(CONTENT)) {
                out.append(name);
                if (mode.equals(COUNT)) {
                    out.append(':').append(matching);
                }
                out.append('\n');
                results++;
            }
            if (capped) {
                break;
            }
        }

        if (results == 0) {
            out.append("No matches in ").append(Text.count(searched, "file")).append(" searched.\n");
        }
        if (capped) {
            out.append("[stopped after ")
                    .append(Text.count(MAX_RESULTS))
                    .append(mode.equals(CONTENT) ? " matching lines" : " files")
                    .append("; narrow the pattern, path or glob to see the rest]\n");
        }
        if (binary > 0 || unreadable > 0) {
            out.append("[skipped ");
            if (binary > 0) {
                out.append(Text.count(binary, "binary file"));
            }
            if (binary > 0 && unreadable > 0) {
                out.append(" and ");
            }
            if (unreadable > 0) {
                out.append(Text.count(unreadable, "entry", "entries")).append(" that could not be read");
            }
            out.append("]\n");
        }
        return ToolOutput.ok(Text.capHead(out.toString(), outputLimit));
    }
}
