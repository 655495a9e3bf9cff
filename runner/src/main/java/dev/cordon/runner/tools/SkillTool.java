package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/** {@code skill}: loads one skill's instructions ({@link Skills}) and lists its files. Thread-safe. */
final class SkillTool implements Tool {
    static final String NAME = "skill";
    private static final int MAX_FILES = 50;

    private static final InputSchema SCHEMA = InputSchema.builder(NAME)
            .requiredText("name", "The skill's name, as the system prompt lists it.")
            .build();

    private static final ToolSpec SPEC = new ToolSpec(
            NAME,
            "Loads a skill's instructions (its SKILL.md without the front matter) and lists the files in its"
                    + " folder, which you can read with read. Load a skill before a task it covers.",
            SCHEMA.json());

    private final Skills skills;

    SkillTool(Skills skills) {
        this.skills = skills;
    }

    @Override
    public ToolSpec spec() {
        return SPEC;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        String name;
        try {
            name = SCHEMA.parse(input).string("name");
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
        var skill = skills.find(name);
        if (skill.isEmpty()) {
            return ToolOutput.error("There is no skill named '" + name + "'. Skills: "
                    + String.join(
                            ", ", skills.all().stream().map(Skills.Skill::name).toList()) + ".");
        }
        Path folder = skill.get().folder();
        Path file = folder.resolve("SKILL.md");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(Skills.MAX_SKILL_BYTES + 1);
            String text = new String(bytes, 0, Math.min(bytes.length, Skills.MAX_SKILL_BYTES), StandardCharsets.UTF_8);
            StringBuilder out = new StringBuilder("Skill ")
                    .append(name)
                    .append(" (")
                    .append(file)
                    .append("):\n\n")
                    .append(body(text));
            if (bytes.length > Skills.MAX_SKILL_BYTES) {
                out.append("\n[cut at ")
                        .append(Skills.MAX_SKILL_BYTES / 1024)
                        .append(" KiB; read the file for the rest]");
            }
            List<String> files = files(folder);
            if (!files.isEmpty()) {
                out.append("\n\nFiles in ").append(folder).append(": ").append(String.join(", ", files));
            }
            return ToolOutput.ok(out.toString());
        } catch (IOException e) {
            return ToolOutput.error("Cannot read " + file + ": " + Text.describe(e));
        }
    }

    /** The text after the front matter's closing {@code ---}. */
    private static String body(String text) {
        List<String> lines = text.lines().toList();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).strip().equals("---")) {
                return String.join("\n", lines.subList(i + 1, lines.size())).strip();
            }
        }
        return text.strip();
    }

    private static List<String> files(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder, 4)) {
            return walk.filter(Files::isRegularFile)
                    .map(p -> folder.relativize(p).toString())
                    .filter(p -> !p.equals("SKILL.md"))
                    .sorted()
                    .limit(MAX_FILES)
                    .toList();
        }
    }
}
