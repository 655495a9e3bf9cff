package dev.cordon.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.audit.AuditEvent.Decision;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins the canonical encoding of version 1: if one of these vectors changes, every existing log
 * stops verifying. docs/audit.md shows the same example.
 */
class CanonicalTest {
    static final AuditEvent EXAMPLE = AuditEvent.of(
                    Instant.parse("2030-01-02T03:04:05.678Z"), Actor.system("egress"), "egress.deny", Decision.DENY)
            .withAgent(new AgentName("ada"))
            .withSession(new SessionId(7))
            .withRule("egress.allow")
            .withDetails(Map.of("port", 443, "host", "evil.example", "tls", true));

    final Canonical canonical = new Canonical();

    @Test
    void theExampleEntryEncodesToExactlyTheDocumentedBytes() {
        String hex = HexFormat.of().formatHex(canonical.entryBytes(1, Canonical.ZERO, EXAMPLE));

        assertThat(hex)
                .isEqualTo(
                        "01" // version
                                + "0000000000000001" // seq
                                + "00".repeat(32) // prev_hash
                                + "000001b8e0949b2e" // time, epoch ms
                                + "00000006" + "73797374656d" // "system"
                                + "00000006" + "6567726573" + "73" // "egress"
                                + "01" + "00000003" + "616461" // agent "ada"
                                + "01" + "0000000000000007" // session 7
                                + "0000000b" + "6567726573732e64656e79" // "egress.deny"
                                + "00000004" + "64656e79" // "deny"
                                + "01" + "0000000c" + "6567726573732e616c6c6f77" // rule "egress.allow"
                                + "00" // no reason
                                + "00000003" // three details, sorted by key
                                + "00000004" + "686f7374" + "73" + "0000000c" + "6576696c2e6578616d706c65" // host
                                + "00000004" + "706f7274" + "69" + "00000000000001bb" // port 443
                                + "00000003" + "746c73" + "62" + "01"); // tls true
    }

    @Test
    void theExampleEntryHashesToItsPinnedSha256() {
        assertThat(Canonical.hex(canonical.entryHash(1, Canonical.ZERO, EXAMPLE)))
                .isEqualTo(PINNED_EXAMPLE_HASH);
    }

    /** Computed by an independent implementation of the spec in docs/audit.md, not by this code. */
    static final String PINNED_EXAMPLE_HASH = "e318075108af4d62be0a4400d1b5badb3a88251e94bede92eb8d174ebf7b01eb";

    @Test
    void everyFieldChangesTheHash() {
        byte[] base = canonical.entryHash(1, Canonical.ZERO, EXAMPLE);
        byte[] otherPrev = Canonical.ZERO.clone();
        otherPrev[31] = 1;
        List<byte[]> variants = List.of(
                canonical.entryHash(2, Canonical.ZERO, EXAMPLE),
                canonical.entryHash(1, otherPrev, EXAMPLE),
                canonical.entryHash(1, Canonical.ZERO, with(EXAMPLE.time().plusMillis(1))),
                canonical.entryHash(
                        1,
                        Canonical.ZERO,
                        new AuditEvent(
                                EXAMPLE.time(),
                                Actor.user("egress"),
                                EXAMPLE.agent(),
                                EXAMPLE.session(),
                                EXAMPLE.action(),
                                EXAMPLE.decision(),
                                EXAMPLE.rule(),
                                EXAMPLE.reason(),
                                EXAMPLE.details())),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withAgent(null)),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withAgent(new AgentName("adb"))),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withSession(null)),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withSession(new SessionId(8))),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withRule(null)),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withReason("")),
                canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withDetails(Map.of())),
                canonical.entryHash(
                        1,
                        Canonical.ZERO,
                        EXAMPLE.withDetails(Map.of("port", "443", "host", "evil.example", "tls", true))),
                canonical.entryHash(
                        1,
                        Canonical.ZERO,
                        EXAMPLE.withDetails(Map.of("port", 443, "host", "evil.example", "tls", false))));

        for (byte[] variant : variants) {
            assertThat(variant).isNotEqualTo(base);
        }
        assertThat(variants.stream().map(Canonical::hex).distinct()).hasSize(variants.size());
    }

    @Test
    void lengthPrefixesKeepNeighbouringFieldsApart() {
        // Without prefixes "ab" + "c" and "a" + "bc" would encode the same.
        AuditEvent one = EXAMPLE.withRule("ab").withReason("c");
        AuditEvent two = EXAMPLE.withRule("a").withReason("bc");

        assertThat(canonical.entryHash(1, Canonical.ZERO, one))
                .isNotEqualTo(canonical.entryHash(1, Canonical.ZERO, two));
    }

    @Test
    void absentAndEmptyAreDifferent() {
        assertThat(canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withReason(null)))
                .isNotEqualTo(canonical.entryHash(1, Canonical.ZERO, EXAMPLE.withReason("")));
    }

    @Test
    void theCheckpointEncodingIsPinned() {
        byte[] hash = new byte[32];
        hash[0] = (byte) 0xab;
        String hex = HexFormat.of().formatHex(canonical.checkpointBytes(5, hash, 1_000, 0, new byte[] {1, 2, 3}));

        assertThat(hex)
                .isEqualTo("0000001a" + HexFormat.of().formatHex("cordon-audit-checkpoint-v1".getBytes())
                        + "0000000000000005"
                        + "ab" + "00".repeat(31)
                        + "00000000000003e8"
                        + "0000000000000000"
                        + "00000003" + "010203");
    }

    @Test
    void hashesInTextMustBe64LowercaseHexDigits() {
        Canonical.checkHex("hash", "0123456789abcdef".repeat(4));
        for (String bad :
                new String[] {null, "", "0".repeat(63), "0".repeat(65), "A".repeat(64), "g".repeat(64), "/".repeat(64)
                }) {
            assertThatThrownBy(() -> Canonical.checkHex("hash", bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static AuditEvent with(Instant time) {
        return new AuditEvent(
                time,
                EXAMPLE.actor(),
                EXAMPLE.agent(),
                EXAMPLE.session(),
                EXAMPLE.action(),
                EXAMPLE.decision(),
                EXAMPLE.rule(),
                EXAMPLE.reason(),
                EXAMPLE.details());
    }
}
