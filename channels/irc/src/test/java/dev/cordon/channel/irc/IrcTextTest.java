package dev.cordon.channel.irc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IrcTextTest {
    @Test
    void aLineWithTagsPrefixAndTrailingParameterIsParsed() {
        IrcLine line = IrcLine.parse("@msgid=abc;time=x :alice!~a@host PRIVMSG #cordon :cordon: hi there");

        assertThat(line.tags()).containsEntry("msgid", "abc");
        assertThat(line.nick()).isEqualTo("alice");
        assertThat(line.command()).isEqualTo("PRIVMSG");
        assertThat(line.params()).containsExactly("#cordon", "cordon: hi there");
    }

    @Test
    void aNumericWithoutTrailingIsParsed() {
        IrcLine line = IrcLine.parse(":irc.test 433 * cordon :Nickname already in use");

        assertThat(line.command()).isEqualTo("433");
        assertThat(line.params()).containsExactly("*", "cordon", "Nickname already in use");
    }

    @Test
    void longTextIsSplitAtSpacesIntoLinesWithinTheByteLimit() {
        String text = "word ".repeat(300).strip();
        int max = IrcText.maxTextBytes("cordon", "#cordon");

        List<String> lines = IrcText.lines(text, max);

        assertThat(lines).hasSizeGreaterThan(1);
        assertThat(lines).allSatisfy(l -> {
            assertThat(l.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(max);
            assertThat(l).doesNotStartWith(" ").doesNotEndWith(" ");
        });
        assertThat(String.join(" ", lines)).isEqualTo(text);
    }

    @Test
    void multiByteTextIsNeverCutInsideACharacter() {
        String text = "ü€😀".repeat(200);

        List<String> lines = IrcText.lines(text, 100);

        assertThat(String.join("", lines)).isEqualTo(text);
        assertThat(lines)
                .allSatisfy(l ->
                        assertThat(l.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(100));
    }

    @Test
    void aReplyCannotEndALineEarlyOrSendACtcpRequest() {
        List<String> lines = IrcText.lines("hi\r\nQUIT :bye\u0001DCC SEND x\u0001\n\nok", 400);

        assertThat(lines).containsExactly("hi", "QUIT :byeDCC SEND x", "ok");
        assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain("\r", "\n", "\u0001"));
    }

    @Test
    void settingsNeverShowThePasswordAndNameTheFieldThatIsWrong() {
        IrcSettings s = new IrcSettings("irc.example.org", 6697, true, "bot", List.of("#A"), "hunter2");

        assertThat(s.toString()).doesNotContain("hunter2").contains("password set", "#a");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> new IrcSettings("irc.example.org", 6697, true, "bot", List.of("ops"), null))
                .hasMessageContaining("channels: 'ops' is not an IRC channel name");
    }

    @Test
    void thePacerLetsABurstThroughThenOneLinePerInterval() {
        AtomicLong now = new AtomicLong();
        Pacer pacer = new Pacer(3, Duration.ofSeconds(1), now::get);

        assertThat(List.of(pacer.take(), pacer.take(), pacer.take())).containsOnly(Duration.ZERO);
        assertThat(pacer.take()).isEqualTo(Duration.ofSeconds(1));
        assertThat(pacer.take()).isEqualTo(Duration.ofSeconds(2));
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertThat(pacer.take()).isEqualTo(Duration.ZERO);
    }
}
