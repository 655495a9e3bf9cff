package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class SkillsTest {
    @TempDir
    Path agentRoot;

    @TempDir
    Path sharedRoot;

    private static void skill(Path root, String folder, String skillMd) throws Exception {
        Files.createDirectories(root.resolve(folder));
        Files.writeString(root.resolve(folder).resolve("SKILL.md"), skillMd);
    }

    @Test
    void skillsAreListedByNameAndDescriptionAndTheAgentsOwnWinOverSharedOnes() throws Exception {
        skill(sharedRoot, "pdf", "---\nname: pdf\ndescription: Read PDF files.\n---\nUse pdftotext.\n");
        skill(sharedRoot, "greet", "---\nname: greet\ndescription: Shared greeting.\n---\nSay hi.\n");
        skill(agentRoot, "greet", """
                ---
                name: greet
                description: >
                  Greet people the way
                  this agent's owner likes.
                license: MIT
                metadata:
                  author: owner
                ---
                Say "good day".
                """);

        Skills skills = Skills.scan(List.of(agentRoot, sharedRoot));

        assertThat(skills.problems()).isEmpty();
        assertThat(skills.section())
                .isEqualTo("\n\n## Skills\nEach skill is a folder of instructions (and files) for one kind of task."
                        + " Before such a task, load its instructions with the skill tool and follow them.\n"
                        + "- greet: Greet people the way this agent's owner likes.\n"
                        + "- pdf: Read PDF files.\n");
        assertThat(skills.section()).doesNotContain("good day").doesNotContain("pdftotext");
    }

    @Test
    void theSkillToolLoadsTheInstructionsAndListsTheFiles() throws Exception {
        skill(
                agentRoot,
                "report",
                "---\nname: report\ndescription: 'Write the weekly report.'\n---\n\nUse template.md.\n");
        Files.writeString(agentRoot.resolve("report/template.md"), "# Week\n");
        Files.createDirectories(agentRoot.resolve("report/scripts"));
        Files.writeString(agentRoot.resolve("report/scripts/collect.sh"), "echo\n");
        Tool tool = Tools.forSkills(Skills.scan(List.of(agentRoot))).getFirst();

        ToolOutput out = tool.run(JsonMapper.shared().readTree("{\"name\":\"report\"}"));
        ToolOutput unknown = tool.run(JsonMapper.shared().readTree("{\"name\":\"nope\"}"));

        assertThat(out.isError()).isFalse();
        assertThat(out.content())
                .isEqualTo("Skill report (" + agentRoot.resolve("report/SKILL.md") + "):\n\nUse template.md.\n\n"
                        + "Files in " + agentRoot.resolve("report") + ": scripts/collect.sh, template.md");
        assertThat(unknown.isError()).isTrue();
        assertThat(unknown.content()).isEqualTo("There is no skill named 'nope'. Skills: report.");
    }

    @Test
    void aSkillThatBreaksTheFormatIsLeftOutWithTheReason() throws Exception {
        skill(agentRoot, "nameless", "---\ndescription: x\n---\n");
        skill(agentRoot, "other", "---\nname: mismatch\ndescription: x\n---\n");
        skill(agentRoot, "bad-name", "---\nname: Bad_Name\ndescription: x\n---\n");
        skill(agentRoot, "no-desc", "---\nname: no-desc\n---\n");
        skill(agentRoot, "unclosed", "---\nname: unclosed\ndescription: x\n");
        skill(agentRoot, "plain", "# just markdown\n");
        skill(agentRoot, "good", "---\nname: good\ndescription: Fine.\n---\n");
        Files.createDirectories(agentRoot.resolve("empty"));

        Skills skills = Skills.scan(List.of(agentRoot));

        assertThat(skills.all()).extracting(Skills.Skill::name).containsExactly("good");
        assertThat(String.join("\n", skills.problems()))
                .contains("bad-name/SKILL.md: name 'Bad_Name' must be 1-64 lower case letters")
                .contains("empty/SKILL.md: cannot be read")
                .contains("nameless/SKILL.md: the front matter has no name")
                .contains("no-desc/SKILL.md: the front matter has no description")
                .contains("other/SKILL.md: name 'mismatch' is not the folder's name 'other'")
                .contains("plain/SKILL.md: does not start with a --- front matter block")
                .contains("unclosed/SKILL.md: the front matter has no closing --- line");
    }

    @Test
    void noSkillsMeansNoSectionAndNoTool(@TempDir Path missing) {
        Skills skills = Skills.scan(List.of(missing.resolve("absent")));

        assertThat(skills.section()).isEmpty();
        assertThat(Tools.forSkills(skills)).isEmpty();
    }

    @Test
    void frontMatterReadsQuotedAndBlockScalars() {
        assertThat(Skills.frontMatter("---\na: \"x: y\"\nb: |\n  one\n  two\nc: plain\n---\n"))
                .containsEntry("a", "x: y")
                .containsEntry("b", "one\ntwo")
                .containsEntry("c", "plain");
        assertThatThrownBy(() -> Skills.frontMatter("---\nnot a pair\n---\n"))
                .hasMessage("front matter line 2 is not 'key: value'");
    }
}
