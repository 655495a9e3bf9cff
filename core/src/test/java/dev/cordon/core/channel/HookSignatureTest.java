package dev.cordon.core.channel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HookSignatureTest {
    static final byte[] GITHUB_SECRET = "It's a Secret to Everybody".getBytes(StandardCharsets.UTF_8);
    static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.UTF_8);

    @Test
    void matchesGitHubsPublishedTestVector() {
        // docs.github.com, "Validating webhook deliveries": the expected X-Hub-Signature-256.
        String expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

        assertThat("sha256=" + HookSignature.hmacSha256Hex(GITHUB_SECRET, HELLO))
                .isEqualTo(expected);
        assertThat(HookSignature.verifies(expected, GITHUB_SECRET, HELLO)).isTrue();
        assertThat(HookSignature.verifies(
                        expected.toUpperCase(java.util.Locale.ROOT).replace("SHA256", "sha256"), GITHUB_SECRET, HELLO))
                .isTrue();
    }

    @Test
    void aSignatureOverPartsIsTheSignatureOverTheirConcatenation() {
        assertThat(HookSignature.hmacSha256Hex(
                        GITHUB_SECRET,
                        "Hello, ".getBytes(StandardCharsets.UTF_8),
                        "World!".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(HookSignature.hmacSha256Hex(GITHUB_SECRET, HELLO));
    }

    @Test
    void wrongMissingOrTruncatedSignaturesDoNotVerify() {
        String good = "sha256=" + HookSignature.hmacSha256Hex(GITHUB_SECRET, HELLO);
        assertThat(HookSignature.verifies(null, GITHUB_SECRET, HELLO)).isFalse();
        assertThat(HookSignature.verifies("", GITHUB_SECRET, HELLO)).isFalse();
        assertThat(HookSignature.verifies(good.substring(0, 20), GITHUB_SECRET, HELLO))
                .isFalse();
        assertThat(HookSignature.verifies(good.replace("sha256=", "sha1="), GITHUB_SECRET, HELLO))
                .isFalse();
        assertThat(HookSignature.verifies(good, "another".getBytes(StandardCharsets.UTF_8), HELLO))
                .isFalse();
    }

    @Test
    void aRequestsHeadersAreFoundInAnyCase() {
        HookRequest r =
                new HookRequest("POST", "", Map.of("X-Hub-Signature-256", List.of("sha256=ab")), Map.of(), new byte[0]);
        assertThat(r.header("x-hub-signature-256")).contains("sha256=ab");
        assertThat(r.header("X-HUB-SIGNATURE-256")).contains("sha256=ab");
        assertThat(r.header("x-other")).isEmpty();
    }
}
