package dev.cordon.core.message;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How an answer to {@code ask_user} picks one of its options. */
class QuestionsPickTest {
    static final List<String> OPTIONS = List.of("Blue", "Red", "Let me think");

    @Test
    void aNumberAsTypedUnderANumberedListPicksThatOption() {
        assertThat(Questions.pick("2", OPTIONS)).isEqualTo(2);
        assertThat(Questions.pick(" 3. ", OPTIONS)).isEqualTo(3);
    }

    @Test
    void theOptionsOwnTextAsAButtonPressReportsItPicksItWhateverItsCase() {
        assertThat(Questions.pick("Red", OPTIONS)).isEqualTo(2);
        assertThat(Questions.pick("  let me THINK ", OPTIONS)).isEqualTo(3);
    }

    @Test
    void anythingElseIsAnAnswerInTheirOwnWords() {
        assertThat(Questions.pick("4", OPTIONS)).isZero();
        assertThat(Questions.pick("0", OPTIONS)).isZero();
        assertThat(Questions.pick("Red, but darker", OPTIONS)).isZero();
        assertThat(Questions.pick("", OPTIONS)).isZero();
        assertThat(Questions.pick("1", List.of())).isZero();
    }

    @Test
    void anOptionThatIsANumberIsPickedByItsTextBeforeItsPosition() {
        assertThat(Questions.pick("2", List.of("1", "2"))).isEqualTo(2);
        assertThat(Questions.pick("10", List.of("10", "20"))).isEqualTo(1);
    }
}
