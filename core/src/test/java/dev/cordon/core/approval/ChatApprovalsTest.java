package dev.cordon.core.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.Ids.ChatId;
import dev.cordon.core.Ids.SessionId;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The card an approval is in a chat, and how a chat's answer picks one of its options. */
class ChatApprovalsTest {

    @Test
    void aNumberOrAnOptionsTextPicksItAndAnythingElseIsNoAnswer() {
        assertThat(ChatApprovals.choice("1")).isEqualTo(1);
        assertThat(ChatApprovals.choice(" allow for this SESSION ")).isEqualTo(2);
        assertThat(ChatApprovals.choice("Allow always")).isEqualTo(3);
        assertThat(ChatApprovals.choice("4")).isEqualTo(4);
        assertThat(ChatApprovals.choice("Deny")).isEqualTo(4);
        assertThat(ChatApprovals.choice("5")).isZero();
        assertThat(ChatApprovals.choice("yes")).isZero();
        assertThat(ChatApprovals.choice("1.")).isZero();
    }

    @Test
    void theCardShowsThePayloadInFullWithHiddenCharactersAsMarkers() {
        Approval a = new Approval(
                new ApprovalId(12),
                new AgentId(1),
                new AgentName("main"),
                new SessionId(3),
                new ChatId(4),
                "tool.bash",
                "{}",
                "run a shell command",
                Map.of("command", "rm -rf build/\u202Etxt.exe\u001b[2J"),
                Instant.parse("2030-01-02T03:04:05Z"),
                Instant.parse("2030-01-02T03:14:05Z"),
                Approval.Status.PENDING,
                null,
                null,
                null,
                null,
                0,
                0,
                null);

        assertThat(ChatApprovals.card(a)).isEqualTo("""
                        Approval #12 · main asks: tool.bash
                        run a shell command
                          command: rm -rf build/⟨U+202E⟩txt.exe⟨U+001B⟩[2J
                        Denied if nobody answers by 2030-01-02T03:14:05Z. Only an owner or an admin of main may\
                         answer.""");
    }
}
