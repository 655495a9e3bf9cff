package dev.cordon.core.channel;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

class FittingTest {
    static OutgoingMessage message(String text, List<String> options) {
        return new OutgoingMessage(7, "#chat", 0, null, text, false, "turn:1", options);
    }

    /** Records what it was asked to deliver; answers from a script, then Delivered. */
    static final class Recording implements ChannelAdapter {
        final List<OutgoingMessage> sent = new ArrayList<>();
        final Deque<DeliveryResult> script = new ArrayDeque<>();
        final Capabilities capabilities;

        Recording(Capabilities capabilities) {
            this.capabilities = capabilities;
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public Capabilities capabilities() {
            return capabilities;
        }

        @Override
        public DeliveryResult deliver(OutgoingMessage message) {
            sent.add(message);
            DeliveryResult next = script.poll();
            return next != null ? next : new DeliveryResult.Delivered("p" + sent.size());
        }
    }

    @Test
    void textWithinTheLimitGoesAsOneMessageUnderItsOwnKey() {
        List<OutgoingMessage> parts = Fitting.parts(message("short", List.of()), Capabilities.text(10));

        assertThat(parts).singleElement().satisfies(p -> {
            assertThat(p.text()).isEqualTo("short");
            assertThat(p.idempotencyKey()).isEqualTo("turn:1");
        });
    }

    @Test
    void longTextIsSplitAtLineBreaksThenSpacesAndEachPartHasItsOwnKey() {
        String text = "first line here\nsecond line is a bit longer than that";

        List<OutgoingMessage> parts = Fitting.parts(message(text, List.of()), Capabilities.text(20));

        assertThat(parts)
                .extracting(OutgoingMessage::text)
                .containsExactly("first line here", "second line is a bit", "longer than that");
        assertThat(parts)
                .extracting(OutgoingMessage::idempotencyKey)
                .containsExactly("turn:1#1/3", "turn:1#2/3", "turn:1#3/3");
        assertThat(parts).allSatisfy(p -> assertThat(p.text().length()).isLessThanOrEqualTo(20));
    }

    @Test
    void textWithoutBreaksIsCutAtTheLimitButNeverInsideASurrogatePair() {
        String text = "abcd" + "\uD83D\uDE00" + "efgh";

        List<String> pieces = Fitting.split(text, 5);

        assertThat(String.join("", pieces)).isEqualTo(text);
        assertThat(pieces.getFirst()).isEqualTo("abcd");
        assertThat(pieces)
                .allSatisfy(p -> assertThat(Character.isHighSurrogate(p.charAt(p.length() - 1)))
                        .isFalse());
    }

    @Test
    void optionsBecomeANumberedListWhereTheChannelHasNoButtons() {
        List<OutgoingMessage> parts = Fitting.parts(message("Allow it?", List.of("yes", "no")), Capabilities.TEXT);

        assertThat(parts).singleElement().satisfies(p -> {
            assertThat(p.text()).isEqualTo("Allow it?\n\n1. yes\n2. no\n(Answer with a number.)");
            assertThat(p.options()).isEmpty();
        });
    }

    @Test
    void optionsStayButtonsWhereTheChannelHasThem() {
        Capabilities buttons = new Capabilities(false, false, false, false, true, false, 0);

        List<OutgoingMessage> parts = Fitting.parts(message("Allow it?", List.of("yes", "no")), buttons);

        assertThat(parts).singleElement().satisfies(p -> {
            assertThat(p.text()).isEqualTo("Allow it?");
            assertThat(p.options()).containsExactly("yes", "no");
        });
    }

    @Test
    void aRetriedSplitReplySendsOnlyThePartsNotYetConfirmed() {
        Recording channel = new Recording(Capabilities.text(5));
        channel.script.add(new DeliveryResult.Delivered("a"));
        channel.script.add(new DeliveryResult.RetryLater(Duration.ofSeconds(1), "rate limited"));
        Fitting fitting = new Fitting();
        OutgoingMessage reply = message("one two three", List.of());

        assertThat(fitting.deliver(channel, reply)).isInstanceOf(DeliveryResult.RetryLater.class);
        DeliveryResult retried = fitting.deliver(channel, reply);

        assertThat(retried).isEqualTo(new DeliveryResult.Delivered("a,p3,p4"));
        assertThat(channel.sent).extracting(OutgoingMessage::text).containsExactly("one", "two", "two", "three");
    }

    @Test
    void aPermanentFailureOfOnePartFailsTheReplyAndSaysWhichPart() {
        Recording channel = new Recording(Capabilities.text(5));
        channel.script.add(new DeliveryResult.Delivered("a"));
        channel.script.add(new DeliveryResult.Failed("no such nick"));

        DeliveryResult result = new Fitting().deliver(channel, message("one two", List.of()));

        assertThat(result).isEqualTo(new DeliveryResult.Failed("part 2 of 2: no such nick"));
    }
}
