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
}
