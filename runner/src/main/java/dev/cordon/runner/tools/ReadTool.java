package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import tools.jackson.databind.JsonNode;

/** {@code read}: a text file with line numbers, a window of lines at a time. Stateless. */
final class ReadTool implements Tool {
    static final String NAME = "read";
    static final int DEFAULT_LINES = 2_000;

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("path", "File to read; relative paths are resolved against the workspace.")
            .optionalInteger("offset", 1, Long.MAX_VALUE, "1-based line number to start at (default 1).")
            .optionalInteger("limit", 1, Long.MAX_VALUE, "Maximum number of lines to return (default 2000).")
            .build();

    private final Workspace workspace;
    private final int outputLimit;
    private final ToolSpec spec;

    ReadTool(Workspace workspace, int outputLimit) {
        this.workspace = workspace;
        this.outputLimit = outputLimit;
        this.spec = new ToolSpec(
                NAME,
                "Reads a UTF-8 text file and returns its lines numbered like `cat -n` (1-based). Returns up to "
                        + Text.count(DEFAULT_LINES) + " lines from the start by default; set `offset` (first line, "
                        + "1-based) and `limit` (number of lines) to read another part. Lines longer than "
                        + Text.count(Text.MAX_LINE_CHARS) + " characters are cut, and the output stops at "
                        + Text.count(outputLimit) + " characters; when more remains, the output says which offset "
                        + "to continue from. Relative paths are resolved against the workspace. Fails on "
                        + "directories and binary files.",
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
            Path file = workspace.resolve("path", args.string("path"));
            return read(file, args.integer("offset", 1), args.integer("limit", DEFAULT_LINES));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private ToolOutput read(Path file, long offset, long limit) {
        String name = workspace.display(file);
        StringBuilder out = new StringBuilder();
        long lineNumber = 0;
        long lastShown = 0;
        String stoppedBecause = null;
        try {
            BasicFileAttributes attributes = Text.attributes(file);
            if (attributes == null) {
                return ToolOutput.error("File not found: " + name);
            }
            if (attributes.isDirectory()) {
                return ToolOutput.error(name + " is a directory, not a file; use glob to list its files.");
            }
            if (!attributes.isRegularFile()) {
                return ToolOutput.error(name + " is not a regular file (a device, pipe or socket).");
            }
        } catch (IOException e) {
            return ToolOutput.error("Cannot read " + name + ": " + Text.describe(e));
        }
        try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 65_536)) {
            if (Text.looksBinary(in)) {
                return ToolOutput.error(
                        name + " looks like a binary file (it contains NUL bytes); read shows " + "text files only.");
            }
            // Malformed UTF-8 is replaced with U+FFFD rather than failing: a mostly-text file is still worth reading.
            LineReader lines = new LineReader(new InputStreamReader(in, StandardCharsets.UTF_8), Text.MAX_LINE_CHARS);
            for (String line = lines.next(); line != null; line = lines.next()) {
                lineNumber++;
                if (lineNumber < offset) {
                    continue;
                }
                if (lineNumber - offset >= limit) {
                    stoppedBecause = "limit";
                    break;
                }
                String numbered = numbered(lineNumber, Text.capLine(line, lines.dropped()));
                if (lastShown > 0 && out.length() + numbered.length() > outputLimit) {
                    stoppedBecause = "size";
                    break;
                }
                out.append(numbered);
                lastShown = lineNumber;
            }
        } catch (IOException e) {
            return ToolOutput.error("Cannot read " + name + ": " + Text.describe(e));
        }
        if (lineNumber == 0) {
            return ToolOutput.ok("(" + name + " is empty)");
        }
        if (lastShown == 0) {
            return ToolOutput.error("offset " + offset + " is past the end of " + name + ", which has "
                    + Text.count(lineNumber, "line") + ".");
        }
        if (stoppedBecause != null) {
            String why = stoppedBecause.equals("size")
                    ? "output reached " + Text.count(outputLimit) + " characters"
                    : "limit of " + Text.count(limit, "line") + " reached";
            out.append("[showing lines ")
                    .append(offset)
                    .append('-')
                    .append(lastShown)
                    .append("; ")
                    .append(why)
                    .append(". The file continues: read again with offset=")
                    .append(lastShown + 1)
                    .append(" for more.]");
        }
        return ToolOutput.ok(out.toString());
    }

    /** {@code cat -n} style: the number right-aligned in six columns, a tab, the line. */
    private static String numbered(long lineNumber, String line) {
        String n = Long.toString(lineNumber);
        return " ".repeat(Math.max(0, 6 - n.length())) + n + "\t" + line + "\n";
    }
}
