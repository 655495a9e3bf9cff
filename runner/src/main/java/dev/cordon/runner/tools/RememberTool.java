package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import tools.jackson.databind.JsonNode;

/** {@code remember}: adds a line to the agent's memory ({@link Memory}). Thread-safe. */
final class RememberTool implements Tool {
    static final String NAME = "remember";

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("fact", "What to remember, in one short line.")
            .build();

    private static final ToolSpec SPEC = new ToolSpec(
            NAME,
            "Adds one line to your memory, /workspace/" + Memory.FILE + ", which is shown to you at the start of"
                    + " every conversation, also after restarts. Remember what will matter later (the user's"
                    + " preferences, names, decisions); to correct or condense it, edit that file. At most "
                    + Memory.MAX_BYTES / 1024 + " KiB.",
            SCHEMA.json());

    private final Memory memory;

    RememberTool(Memory memory) {
        this.memory = memory;
    }

    @Override
    public ToolSpec spec() {
        return SPEC;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        try {
            return memory.remember(SCHEMA.parse(input).string("fact"));
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
    }
}
