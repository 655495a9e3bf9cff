package dev.cordon.core.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretScannerTest {
    final SecretScanner scanner = new SecretScanner(() -> Map.of(
            "DB_PASSWORD", "correct-horse-battery".getBytes(StandardCharsets.UTF_8),
            "PIN", "1234".getBytes(StandardCharsets.UTF_8)));

    @Test
    void findsVaultValuesAndCommonFormatsAndNamesThemWithoutTheValue() {
        String text = "pw correct-horse-battery and sk-ant-api03-" + "x".repeat(30) + " and AKIAIOSFODNN7EXAMPLE"
                + " and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"
                + " and -----BEGIN RSA PRIVATE KEY-----";

        assertThat(scanner.scan(text))
                .extracting(SecretScanner.Finding::kind)
                .containsExactly(
                        "the vault secret DB_PASSWORD",
                        "an Anthropic API key",
                        "an AWS access key id",
                        "a JSON Web Token",
                        "a private key");
    }

    @Test
    void shortVaultValuesAndOrdinaryTextAreLeftAlone() {
        assertThat(scanner.scan("my pin is 1234, see sk-short and AKIA123")).isEmpty();
    }

    @Test
    void redactionReplacesEachFindingWithItsKind() {
        assertThat(scanner.redact("use correct-horse-battery or ghp_" + "a".repeat(36) + "!"))
                .isEqualTo("use [redacted: the vault secret DB_PASSWORD] or [redacted: a GitHub token]!");
    }

    @Test
    void aStreamHoldsBackWhatCouldStillBecomeASecret() {
        // The word being written: a credential format has no spaces.
        assertThat(scanner.holdBack("the key is AKIAIOSFOD")).isEqualTo("AKIAIOSFOD".length());
        assertThat(scanner.holdBack("done. ")).isZero();
        // The start of a vault value, even across a word boundary the value itself contains.
        assertThat(scanner.holdBack("pw correct-")).isEqualTo("correct-".length());
        assertThat(scanner.holdBack("pw correct horse")).isEqualTo("horse".length());
        // An unfinished private-key header, which has spaces in it.
        assertThat(scanner.holdBack("here: -----BEGIN RSA PRIVATE ")).isEqualTo("-----BEGIN RSA PRIVATE ".length());
        // A vault value shorter than the minimum is not looked for, so nothing waits for it.
        assertThat(scanner.holdBack("my pin 12 ")).isZero();
    }
}
