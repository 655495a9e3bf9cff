package dev.cordon.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class AuditJsonTest {

    @Test
    void detailsRoundTripWithEveryTypeAndAwkwardCharacters() {
        Map<String, Object> details = AuditEvent.of(Instant.EPOCH, Actor.system("d"), "delivery", Decision.INFO)
                .withDetails(Map.of(
                        "text",
                        "quote \" backslash \\ newline \n tab \t nul \u0000 bell \u0007 ls \u2028 zoë \uD83D\uDE00",
                        "max",
                        Long.MAX_VALUE,
                        "min",
                        Long.MIN_VALUE,
                        "yes",
                        true,
                        "no",
                        false))
                .details();

        String json = AuditJson.details(details);

        assertThat(json).doesNotContain("\n").doesNotContain("\u0000");
        assertThat(AuditJson.parseDetails(json)).isEqualTo(details);
        assertThat(new JsonMapper().readTree(json).get("text").stringValue()).isEqualTo(details.get("text"));
        assertThat(AuditJson.details(Map.of())).isEqualTo("{}");
        assertThat(AuditJson.parseDetails("{}")).isEmpty();
    }

    @Test
    void parseDetailsRefusesWhatTheLogNeverWrites() {
        for (String bad : List.of(
                "[1]",
                "{\"a\":1.5}",
                "{\"a\":{\"b\":1}}",
                "{\"a\":null}",
                "{\"a\":[1]}",
                "{\"a\":1,\"a\":2}",
                "{\"a\":99999999999999999999}",
                "{\"a\":1} x",
                "not json",
                "{\"a\":")) {
            assertThatThrownBy(() -> AuditJson.parseDetails(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void jsonlUsesOcsfStyleNames() {
        AuditEvent event = AuditEvent.of(
                        Instant.parse("2030-01-02T03:04:05.678Z"),
                        Actor.user("telegram:4711"),
                        "egress.deny",
                        Decision.DENY)
                .withAgent(new AgentName("ada"))
                .withSession(new SessionId(7))
                .withRule("egress.allow[0]")
                .withReason("host not on the allowlist")
                .withDetails(Map.of("host", "evil.example", "port", 443));
        AuditEntry entry = new AuditEntry(42, event, "ab".repeat(32), "cd".repeat(32));

        String line = AuditJson.jsonl(entry);
        JsonNode json = new JsonMapper().readTree(line);

        assertThat(line).doesNotContain("\n");
        assertThat(json.get("time").longValue()).isEqualTo(1893553445678L);
        assertThat(json.get("activity_name").stringValue()).isEqualTo("egress.deny");
        assertThat(json.get("action").stringValue()).isEqualTo("Denied");
        assertThat(json.get("action_id").intValue()).isEqualTo(2);
        assertThat(json.at("/actor/user/uid").stringValue()).isEqualTo("telegram:4711");
        assertThat(json.at("/actor/user/type").stringValue()).isEqualTo("user");
        assertThat(json.at("/session/uid").stringValue()).isEqualTo("7");
        assertThat(json.at("/policy/name").stringValue()).isEqualTo("egress.allow[0]");
        assertThat(json.get("message").stringValue()).isEqualTo("host not on the allowlist");
        assertThat(json.at("/metadata/uid").stringValue()).isEqualTo("cd".repeat(32));
        assertThat(json.at("/metadata/sequence").longValue()).isEqualTo(42);
        assertThat(json.at("/metadata/log_name").stringValue()).isEqualTo("cordon-audit");
        assertThat(json.at("/metadata/product/name").stringValue()).isEqualTo("Cordon");
        assertThat(json.at("/unmapped/agent").stringValue()).isEqualTo("ada");
        assertThat(json.at("/unmapped/decision").stringValue()).isEqualTo("deny");
        assertThat(json.at("/unmapped/details/port").longValue()).isEqualTo(443);
        assertThat(json.at("/unmapped/prev_hash").stringValue()).isEqualTo("ab".repeat(32));
    }

    @Test
    void anInfoEventWithoutOptionalFieldsLeavesTheirNamesOut() {
        AuditEvent event = AuditEvent.of(Instant.EPOCH, Actor.system("daemon"), "sandbox.start", Decision.INFO);

        JsonNode json =
                new JsonMapper().readTree(AuditJson.jsonl(new AuditEntry(1, event, "0".repeat(64), "1".repeat(64))));

        assertThat(json.has("action")).isFalse();
        assertThat(json.has("action_id")).isFalse();
        assertThat(json.has("session")).isFalse();
        assertThat(json.has("policy")).isFalse();
        assertThat(json.has("message")).isFalse();
        assertThat(json.at("/unmapped/agent").isMissingNode()).isTrue();
        assertThat(json.at("/unmapped/decision").stringValue()).isEqualTo("info");
    }
}
