package dev.cordon.core.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Wire;
import java.util.List;
import org.junit.jupiter.api.Test;

class TranscriptsTest {
    static final ChatMessage ASKS_FOR_TWO_TOOLS = new ChatMessage(
            Role.ASSISTANT,
            List.of(
                    new Part.Text("Let me look."),
                    new Part.ToolUse("t1", "bash", Wire.mapper().createObjectNode()),
                    new Part.ToolUse("t2", "read", Wire.mapper().createObjectNode())));

    @Test
    void unansweredToolCallsOfADeadTurnGetErrorResults() {
        List<ChatMessage> closed =
                Transcripts.closeOpenToolCalls(List.of(ChatMessage.user("hi"), ASKS_FOR_TWO_TOOLS), "sandbox died");

        assertThat(closed).hasSize(3);
        assertThat(closed.getLast().role()).isEqualTo(Role.USER);
        assertThat(closed.getLast().parts())
                .extracting(p -> ((Part.ToolResult) p).toolUseId())
                .containsExactly("t1", "t2");
        assertThat(closed.getLast().parts()).allSatisfy(p -> {
            assertThat(((Part.ToolResult) p).isError()).isTrue();
            assertThat(((Part.ToolResult) p).content()).contains("sandbox died");
        });
    }

    @Test
    void aTranscriptWithoutOpenToolCallsIsLeftAlone() {
        List<ChatMessage> answered = List.of(
                ChatMessage.user("hi"),
                ASKS_FOR_TWO_TOOLS,
                new ChatMessage(
                        Role.USER,
                        List.of(new Part.ToolResult("t1", "ok", false), new Part.ToolResult("t2", "ok", false))));

        assertThat(Transcripts.closeOpenToolCalls(answered, "x")).isSameAs(answered);
        assertThat(Transcripts.closeOpenToolCalls(List.of(), "x")).isEmpty();
    }

    static ChatMessage assistant(String text) {
        return new ChatMessage(Role.ASSISTANT, List.of(new Part.Text(text)));
    }

    static final ChatMessage RESULTS = new ChatMessage(
            Role.USER, List.of(new Part.ToolResult("t1", "ok", false), new Part.ToolResult("t2", "ok", false)));

    @Test
    void aTurnSendsTheNewestSummaryAsTextAndWhatCameAfterIt() {
        List<ChatMessage> stored = List.of(
                ChatMessage.user("old one"),
                assistant("old answer"),
                new ChatMessage(Role.USER, List.of(new Part.Summary("first summary"))),
                ChatMessage.user("middle"),
                new ChatMessage(Role.USER, List.of(new Part.Summary("second summary"))),
                ChatMessage.user("recent"),
                assistant("recent answer"));

        List<ChatMessage> live = Transcripts.live(stored);

        assertThat(live).hasSize(3);
        assertThat(live.getFirst().text())
                .startsWith("[Summary of the earlier conversation")
                .endsWith("]\nsecond summary");
        assertThat(live.subList(1, 3)).isEqualTo(stored.subList(5, 7));
        assertThat(Transcripts.live(stored.subList(0, 2))).isEqualTo(stored.subList(0, 2));
    }

    @Test
    void aFreshStartSendsNothingBeforeItNorItselfUntilALaterSummary() {
        List<ChatMessage> stored = List.of(
                ChatMessage.user("my name is Ada"),
                ChatMessage.assistant("Hello Ada."),
                ChatMessage.user("/new"),
                Transcripts.FRESH_START,
                ChatMessage.user("who am I?"));

        assertThat(Transcripts.live(stored)).containsExactly(ChatMessage.user("who am I?"));
        assertThat(Transcripts.live(stored.subList(0, 4))).isEmpty();
        assertThat(Transcripts.asksForNewConversation(" /New\n")).isTrue();
        assertThat(Transcripts.asksForNewConversation("/new@CordonBot")).isTrue();
        assertThat(Transcripts.asksForNewConversation("/new please")).isFalse();
        assertThat(Transcripts.asksForNewConversation("/newer")).isFalse();
        // A summary is a summary, however short; only the empty one is a fresh start.
        ChatMessage shortSummary = new ChatMessage(Role.USER, List.of(new Part.Summary("x")));
        assertThat(Transcripts.live(List.of(ChatMessage.user("a"), shortSummary)))
                .hasSize(1);
    }

    @Test
    void compactionCutsOnlyWhereATurnStartsAndKeepsAtLeastTheLastTurn() {
        List<ChatMessage> messages = List.of(
                ChatMessage.user("a".repeat(300)), // turn 1: 100 tokens
                assistant("b".repeat(300)),
                ChatMessage.user("c".repeat(300)), // turn 2
                ASKS_FOR_TWO_TOOLS,
                RESULTS, // a tool result is never a cut point
                assistant("d".repeat(300)),
                ChatMessage.user("e".repeat(30)), // turn 3: small
                assistant("f".repeat(30)));

        assertThat(Transcripts.keepFrom(messages, 25))
                .as("the last turn even if it alone is too big")
                .isEqualTo(6);
        assertThat(Transcripts.keepFrom(messages, 300)).as("turns 2 and 3 fit").isEqualTo(2);
        assertThat(Transcripts.keepFrom(messages, 1_000_000))
                .as("everything fits but turn 1 goes")
                .isEqualTo(2);
        assertThat(Transcripts.keepFrom(messages.subList(0, 2), 10))
                .as("one turn: nothing to summarize")
                .isZero();
    }

    @Test
    void tokensAreEstimatedAtThreeCharactersEach() {
        assertThat(Transcripts.estimateTokens(List.of(ChatMessage.user("x".repeat(300)), assistant("y".repeat(3)))))
                .isEqualTo(101);
    }
}
