package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The system prompt an agent's turns send: the host's part (Cordon's words, the shared and the
 * agent's AGENTS.md), the skills and the agent's own memory, which the runner reads inside the
 * sandbox. Real daemon, real sandbox, fake model.
 */
class AgentPromptEndToEndTest extends DaemonTestBase {
    @BeforeEach
    void start() throws Exception {
        Files.writeString(home.resolve("AGENTS.md"), "Shared rule: be kind.\n");
        Files.writeString(home.resolve("agents/main/AGENTS.md"), "You are main, the owner's helper.\n");
        skill(home.resolve("skills"), "pdf", "Read PDF files.", "PDF-BODY-MARKER: use pdftotext.");
        skill(home.resolve("agents/main/skills"), "greet", "Greet people.", "GREET-BODY-MARKER: say good day.");
        Files.writeString(home.resolve("agents/main/skills/greet/phrases.txt"), "good day\n");
        startDaemon();
    }

    static void skill(Path root, String name, String description, String body) throws Exception {
        Files.createDirectories(root.resolve(name));
        Files.writeString(
                root.resolve(name).resolve("SKILL.md"),
                "---\nname: " + name + "\ndescription: " + description + "\n---\n" + body + "\n");
    }

    @Test
    void skillsAreListedByNameAndDescriptionAndOnlyTheOneAskedForIsLoaded() throws Exception {
        model.enqueue(
                Scripted.toolCall("skill", "{\"name\":\"greet\"}"),
                Scripted.toolCall("read", "{\"path\":\"/skills/agent/greet/phrases.txt\"}"),
                Scripted.text("Good day!"));

        assertThat(ask("greet me")).isEqualTo("Good day!");

        var requests = model.requests();
        assertThat(system(requests.getFirst())).contains("- greet: Greet people.\n- pdf: Read PDF files.\n");
        assertThat(requests.getFirst().body().toString())
                .doesNotContain("GREET-BODY-MARKER")
                .doesNotContain("PDF-BODY-MARKER");
        assertThat(requests.get(1).body().toString())
                .contains("GREET-BODY-MARKER: say good day.")
                .contains("Files in /skills/agent/greet: phrases.txt")
                .doesNotContain("PDF-BODY-MARKER");
        assertThat(requests.get(2).body().toString()).contains("good day\\n");
    }

    @Test
    void anAgentCannotChangeASkillNotEvenItsOwn() throws Exception {
        model.enqueue(
                Scripted.toolCall(
                        "bash",
                        "{\"command\":\"echo evil > /skills/shared/pdf/SKILL.md; echo evil > /skills/agent/greet/new.md;"
                                + " rm -f /skills/agent/greet/phrases.txt; echo done\"}"),
                Scripted.text("Tried."));

        ask("rewrite the skills");

        String result = model.requests().get(1).body().toString();
        assertThat(result).contains("Read-only file system");
        assertThat(Files.readString(home.resolve("skills/pdf/SKILL.md"))).contains("PDF-BODY-MARKER");
        assertThat(home.resolve("agents/main/skills/greet/new.md")).doesNotExist();
        assertThat(home.resolve("agents/main/skills/greet/phrases.txt")).exists();
    }

    static String system(RecordedRequest request) {
        return request.body().path("system").get(0).path("text").asString();
    }

    @Test
    void whatTheAgentRemembersIsInItsPromptAfterADaemonRestartAndTheSharedAndOwnInstructionsToo() throws Exception {
        model.enqueue(
                Scripted.toolCall("remember", "{\"fact\":\"The owner's cat is called Miso.\"}"),
                Scripted.text("Noted."));
        ask("my cat is called Miso");
        assertThat(Files.readString(home.resolve("agents/main/workspace/MEMORY.md")))
                .isEqualTo("- The owner's cat is called Miso.\n");

        daemon.close();
        startDaemon();
        model.enqueue(Scripted.text("Miso."));
        assertThat(ask("what is my cat called?")).isEqualTo("Miso.");

        String system = system(model.requests().getLast());
        assertThat(system)
                .contains("Shared rule: be kind.")
                .contains("You are main, the owner's helper.")
                .endsWith("## Your memory (/workspace/MEMORY.md, kept by you across conversations)\n"
                        + "- The owner's cat is called Miso.\n");
        assertThat(system.indexOf("Shared rule")).isLessThan(system.indexOf("You are main, the owner's"));
    }

    @Test
    void theSystemPromptIsTheSameBytesFromTurnToTurnUntilTheMemoryChanges() throws Exception {
        model.enqueue(
                Scripted.text("One."),
                Scripted.text("Two."),
                Scripted.toolCall("remember", "{\"fact\":\"Three matters.\"}"),
                Scripted.text("Three."),
                Scripted.text("Four."));
        ask("one");
        ask("two");
        ask("three");
        ask("four");

        var requests = model.requests();
        assertThat(system(requests.get(1))).isEqualTo(system(requests.get(0)));
        // Within the turn that remembered, both calls send the prompt read at the turn's start.
        assertThat(system(requests.get(3))).isEqualTo(system(requests.get(2))).isEqualTo(system(requests.get(0)));
        assertThat(system(requests.get(4)))
                .isNotEqualTo(system(requests.get(0)))
                .endsWith("- Three matters.\n");
        assertThat(requests.get(0)
                        .body()
                        .path("system")
                        .get(0)
                        .path("cache_control")
                        .path("type")
                        .asString())
                .isEqualTo("ephemeral");
    }

    @Test
    void aMemoryFileLinkedToAHostFileOutsideTheWorkspaceShowsNothingOfIt() throws Exception {
        // policy.yaml sits next to the workspace on the host; inside the sandbox ../policy.yaml is not it.
        Files.writeString(home.resolve("agents/main/policy.yaml"), "# marker-7f3a: host only\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"ln -s ../policy.yaml /workspace/MEMORY.md && echo linked\"}"),
                Scripted.text("Linked."),
                Scripted.text("Next."));
        ask("link it");
        ask("next");

        assertThat(Files.isSymbolicLink(home.resolve("agents/main/workspace/MEMORY.md")))
                .isTrue();
        assertThat(model.requests())
                .allSatisfy(r -> assertThat(r.body().toString()).doesNotContain("marker-7f3a"));
    }
}
