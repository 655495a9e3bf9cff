package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;
import tools.jackson.databind.JsonNode;

/** {@code write}: creates or replaces a file. Thread-safe; serialises with {@code edit} per file. */
final class WriteTool implements Tool {
    static final String NAME = "write";

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("path", "File to write; relative paths are resolved against the workspace.")
            .requiredString("content", "The complete new content of the file.")
            .build();

    private static final ToolSpec SPEC = new ToolSpec(
            NAME,
            "Writes `content` to a file as UTF-8, replacing the file if it exists and creating missing parent "
                    + "directories. Relative paths are resolved against the workspace. To change part of an "
                    + "existing file, prefer edit.",
            SCHEMA.json());

    private final Workspace workspace;
    private final FileLocks locks;

    WriteTool(Workspace workspace, FileLocks locks) {
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
            return write(file, args.string("content"));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }

    private ToolOutput write(Path file, String content) {
        String name = workspace.display(file);
        if (Files.isDirectory(file)) {
            return ToolOutput.error(name + " is a directory; give the path of a file.");
        }
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Lock lock = locks.lockFor(file);
        lock.lock();
        try {
            Path parent = file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            boolean existed = Files.exists(file);
            Files.write(file, bytes);
            return ToolOutput.ok("Wrote " + Text.count(bytes.length, "byte") + " to " + name
                    + (existed ? " (replaced the previous content)." : " (new file)."));
        } catch (FileAlreadyExistsException e) {
            return ToolOutput.error("Cannot write " + name + ": " + e.getFile() + " exists and is not a directory.");
        } catch (IOException e) {
            return ToolOutput.error("Cannot write " + name + ": " + Text.describe(e));
        } finally {
            lock.unlock();
        }
    }
}
