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
}
