package dev.cordon.runner.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Skills in the Agent Skills format: a folder holding {@code SKILL.md}, whose front matter gives
 * its {@code name} (the folder's name) and {@code description}, plus any files it refers to. The
 * system prompt lists each skill by name and description only; the {@code skill} tool loads one's
 * instructions when the model asks (docs/agents.md). Found once, when the runner starts, in its
 * roots in order (the agent's own skills first, then the shared ones; the first of a name wins).
 * The folders are mounted read-only: the agent cannot change a skill. Thread-safe once scanned.
 */
public final class Skills {
    /** Where the host mounts the agent's own skills and the shared ones in a sandbox. */
    public static final List<Path> SANDBOX_ROOTS = List.of(Path.of("/skills/agent"), Path.of("/skills/shared"));

    static final int MAX_SKILLS = 100;
    static final int MAX_DESCRIPTION = 1024;
    static final int MAX_SKILL_BYTES = 64 * 1024;
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    /** One skill as listed to the model. */
    public record Skill(String name, String description, Path folder) {}

    private final Map<String, Skill> skills;
    private final List<String> problems;

    private Skills(Map<String, Skill> skills, List<String> problems) {
        this.skills = skills;
        this.problems = List.copyOf(problems);
    }

    public static Skills none() {
        return new Skills(Map.of(), List.of());
    }

    /** Reads every {@code <root>/<folder>/SKILL.md}; a skill that breaks the format is left out, with why in {@link #problems}. */
    public static Skills scan(List<Path> roots) {
        Map<String, Skill> found = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            List<Path> folders;
            try (Stream<Path> list = Files.list(root)) {
                folders = list.filter(Files::isDirectory).sorted().toList();
            } catch (IOException e) {
                problems.add(root + ": " + Text.describe(e));
                continue;
            }
            for (Path folder : folders) {
                if (found.size() == MAX_SKILLS) {
                    problems.add(root + ": more than " + MAX_SKILLS + " skills; the rest are left out");
                    break;
                }
                try {
                    Skill skill = read(folder);
                    found.putIfAbsent(skill.name(), skill);
                } catch (IllegalArgumentException e) {
                    problems.add(folder.resolve("SKILL.md") + ": " + e.getMessage());
                }
            }
        }
        return new Skills(found, problems);
    }

    private static Skill read(Path folder) {
        String text;
        try {
            text = Files.readString(folder.resolve("SKILL.md"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot be read: " + Text.describe(e));
        }
        Map<String, String> meta = frontMatter(text);
        String name = meta.get("name");
        String description = meta.get("description");
        String folderName = folder.getFileName().toString();
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("the front matter has no name");
        }
        if (name.length() > 64 || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name '" + name
                    + "' must be 1-64 lower case letters, digits and single hyphens, not at either end");
        }
        if (!name.equals(folderName)) {
            throw new IllegalArgumentException("name '" + name + "' is not the folder's name '" + folderName + "'");
        }
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("the front matter has no description");
        }
        if (description.length() > MAX_DESCRIPTION) {
            throw new IllegalArgumentException("the description is longer than " + MAX_DESCRIPTION + " characters");
        }
        return new Skill(name, description.strip(), folder);
    }

    /**
     * The {@code key: value} pairs between the leading {@code ---} lines: plain or quoted scalars,
     * and {@code >} or {@code |} blocks of indented lines. Nested mappings are skipped.
     */
    static Map<String, String> frontMatter(String text) {
        List<String> lines = text.lines().toList();
        if (lines.isEmpty() || !lines.getFirst().strip().equals("---")) {
            throw new IllegalArgumentException("does not start with a --- front matter block");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.strip().equals("---")) {
                return meta;
            }
            if (line.isBlank() || line.startsWith(" ") || line.startsWith("\t") || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("front matter line " + (i + 1) + " is not 'key: value'");
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            if (value.startsWith(">") || value.startsWith("|")) {
                boolean folded = value.startsWith(">");
                List<String> block = new ArrayList<>();
                while (i + 1 < lines.size()
                        && (lines.get(i + 1).startsWith(" ") || lines.get(i + 1).isBlank())
                        && !lines.get(i + 1).strip().equals("---")) {
                    block.add(lines.get(++i).strip());
                }
                value = String.join(folded ? " " : "\n", block).strip();
            } else if (value.length() >= 2
                    && (value.startsWith("\"") && value.endsWith("\"")
                            || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            meta.put(key, value);
        }
        throw new IllegalArgumentException("the front matter has no closing --- line");
    }

    public List<Skill> all() {
        return List.copyOf(skills.values());
    }

    /** Why skills were left out, for the runner's log. */
    public List<String> problems() {
        return problems;
    }

    /** The skills as a system-prompt section, or "" without any. */
    public String section() {
        if (skills.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder("\n\n## Skills\n")
                .append("Each skill is a folder of instructions (and files) for one kind of task. Before such a")
                .append(" task, load its instructions with the skill tool and follow them.\n");
        skills.values()
                .forEach(s -> out.append("- ")
                        .append(s.name())
                        .append(": ")
                        .append(s.description().replaceAll("\\s*\\R\\s*", " "))
                        .append('\n'));
        return out.toString();
    }

    Optional<Skill> find(String name) {
        return Optional.ofNullable(skills.get(name));
    }
}
