package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.locks.Lock;
import tools.jackson.databind.JsonNode;

/**
 * {@code edit}: exact string replacement in a text file. Thread-safe; the read-modify-write holds
 * the file's lock so parallel edits of one file are applied one after another.
 */
final class EditTool implements Tool {
    static final String NAME = "edit";

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("path", "File to edit; relative paths are resolved against the workspace.")
            .requiredString("old_string", "Exact text to replace, including whitespace and indentation.")
            .requiredString("new_string", "Text to put in its place (may be empty to delete).")
            .optionalBoolean("replace_all", "Replace every occurrence instead of exactly one (default false).")
            .build();

    private static final ToolSpec SPEC = new ToolSpec(
            NAME,
            "Replaces exact text in a UTF-8 text file. `old_string` must match the file exactly, including "
                    + "whitespace and indentation, and must occur exactly once unless `replace_all` is true, "
                    + "which replaces every occurrence. Fails if old_string is not found, occurs more than once "
                    + "without replace_all (add surrounding lines to make it unique), or equals new_string. "
                    + "Read the file first to copy the text exactly. Use write to create files.",
            SCHEMA.json());

    private final Workspace workspace;
    private final FileLocks locks;

    EditTool(Workspace workspace, FileLocks locks) {
        this.workspace = workspace;
        this.locks = locks;
    }

    @Override
    public ToolSpec spec() {
        return SPEC;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        try {
            InputSchema.Args args = SCHEMA.parse(input);
            Path file = workspace.resolve("path", args.string("path"));
            String oldString = args.string("old_string");
            String newString = args.string("new_string");
            if (oldString.isEmpty()) {
                return ToolOutput.error(
                        "Invalid argument 'old_string': must not be empty; to create a file use write.");
            }
            if (oldString.equals(newString)) {
                return ToolOutput.error("old_string and new_string are identical, so there is nothing to change.");
            }
            return edit(file, oldString, newString, args.bool("replace_all", false));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private ToolOutput edit(Path file, String oldString, String newString, boolean replaceAll) {
        String name = workspace.display(file);
        try {
            BasicFileAttributes attributes = Text.attributes(file);
            if (attributes == null) {
                return ToolOutput.error("File not found: " + name + ". To create a file use write.");
            }
            if (attributes.isDirectory()) {
                return ToolOutput.error(name + " is a directory, not a file.");
            }
            if (!attributes.isRegularFile()) {
                return ToolOutput.error(name + " is not a regular file (a device, pipe or socket).");
            }
        } catch (IOException e) {
            return ToolOutput.error("Cannot edit " + name + ": " + Text.describe(e));
        }
        Lock lock = locks.lockFor(file);
        lock.lock();
        try {
            byte[] bytes = Files.readAllBytes(file);
            String content;
            try {
                // Strict decoding: re-encoding replaced characters would silently corrupt the file.
                content = StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes))
                        .toString();
            } catch (CharacterCodingException e) {
                return ToolOutput.error(name + " is not valid UTF-8 text; edit only changes UTF-8 text files.");
            }
            if (content.indexOf('\0') >= 0) {
                return ToolOutput.error(
                        name + " looks like a binary file (it contains NUL bytes); edit only " + "changes text files.");
            }
            int occurrences = occurrences(content, oldString);
            if (occurrences == 0) {
                String hint = content.contains("\r\n") && oldString.contains("\n") && !oldString.contains("\r\n")
                        ? " The file uses CRLF (\\r\\n) line endings; old_string must use them too."
                        : " Read the file to copy the exact text, including whitespace and indentation.";
                return ToolOutput.error("old_string was not found in " + name + "." + hint);
            }
            if (occurrences > 1 && !replaceAll) {
                return ToolOutput.error("old_string occurs " + occurrences + " times in " + name
                        + "; include more surrounding lines so it matches exactly once, or set replace_all to "
                        + "true to replace all " + occurrences + ".");
            }
            String updated;
            if (replaceAll) {
                updated = content.replace(oldString, newString);
            } else {
                int at = content.indexOf(oldString);
                updated = content.substring(0, at) + newString + content.substring(at + oldString.length());
            }
            Files.writeString(file, updated, StandardCharsets.UTF_8);
            return ToolOutput.ok("Replaced " + Text.count(occurrences, "occurrence") + " in " + name + ".");
        } catch (IOException e) {
            return ToolOutput.error("Cannot edit " + name + ": " + Text.describe(e));
        } finally {
            lock.unlock();
        }
    }

    private static int occurrences(String content, String needle) {
        int count = 0;
        for (int at = content.indexOf(needle); at >= 0; at = content.indexOf(needle, at + needle.length())) {
            count++;
        }
        return count;
    }
}
