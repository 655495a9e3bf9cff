package dev.cordon.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditEventTest {
    static final Instant T = Instant.parse("2030-01-02T03:04:05.678Z");

    static AuditEvent event(String action) {
        return AuditEvent.of(T, Actor.system("daemon"), action, Decision.INFO);
    }

    @Test
    void actionsAreLowercaseWordsJoinedByDots() {
        for (String ok : List.of("delivery", "sandbox.start", "egress.deny", "a.b_c.d9")) {
            assertThat(event(ok).action()).isEqualTo(ok);
        }
        for (String bad : List.of(
                "",
                "Sandbox.start",
                "sandbox.",
                ".start",
                "sandbox..start",
                "sandbox start",
                "9p.mount",
                "sandbox.9",
                "x".repeat(65))) {
            assertThatThrownBy(() -> event(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void timeIsKeptToTheMillisecond() {
        AuditEvent e = AuditEvent.of(T.plusNanos(999_999), Actor.system("daemon"), "delivery", Decision.INFO);

        assertThat(e.time()).isEqualTo(T);
    }

    @Test
    void detailsAreSortedUnmodifiableAndIntegersBecomeLongs() {
        Map<String, Object> given = new HashMap<>();
        given.put("zeta", 1);
        given.put("alpha", "x");
        given.put("mid", true);

        AuditEvent e = event("delivery").withDetails(given);

        assertThat(e.details().keySet()).containsExactly("alpha", "mid", "zeta");
        assertThat(e.details().get("zeta")).isEqualTo(1L);
        assertThatThrownBy(() -> e.details().put("more", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(event("delivery").withDetails(Map.of("n", 1)))
                .isEqualTo(event("delivery").withDetails(Map.of("n", 1L)));
    }

    @Test
    void detailsRefuseOtherTypesBadKeysAndTooMany() {
        assertThatThrownBy(() -> event("delivery").withDetails(Map.of("ratio", 0.5)))
                .hasMessageContaining("Double")
                .hasMessageContaining("use a String, Long, Integer or Boolean");
        assertThatThrownBy(() -> event("delivery").withDetails(Map.of("Host", "x")))
                .hasMessageContaining("'Host'");
        Map<String, Object> many = new HashMap<>();
        for (int i = 0; i <= AuditEvent.MAX_DETAILS; i++) {
            many.put("k" + i, i);
        }
        assertThatThrownBy(() -> event("delivery").withDetails(many)).hasMessageContaining("at most 32");
    }

    @Test
    void textMustBeWellFormedUnicodeAndBounded() {
        assertThat(event("delivery").withReason("emoji \uD83D\uDE00 ok").reason())
                .contains("\uD83D\uDE00");
        assertThatThrownBy(() -> event("delivery").withReason("half \uD83D a pair"))
                .hasMessageContaining("unpaired surrogate at index 5");
        assertThatThrownBy(() -> event("delivery").withReason("trailing \uDE00"))
                .hasMessageContaining("unpaired surrogate");
        assertThatThrownBy(() -> event("delivery").withReason("x".repeat(AuditEvent.MAX_TEXT + 1)))
                .hasMessageContaining("at most 4096");
        assertThatThrownBy(() -> event("delivery").withDetails(Map.of("body", "x".repeat(AuditEvent.MAX_TEXT + 1))))
                .hasMessageContaining("details value of 'body'");
        assertThatThrownBy(() -> Actor.user("")).hasMessageContaining("empty");
    }

    @Test
    void labelsRoundTrip() {
        for (Decision d : Decision.values()) {
            assertThat(Decision.ofLabel(d.label())).isEqualTo(d);
        }
        for (Actor.Kind k : Actor.Kind.values()) {
            assertThat(Actor.Kind.ofLabel(k.label())).isEqualTo(k);
        }
        assertThatThrownBy(() -> Decision.ofLabel("ALLOW")).isInstanceOf(IllegalArgumentException.class);
    }
}
