package dev.cordon.egress.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaultTest {
    static final List<Vault.Binding> GITHUB = List.of(new Vault.Binding("api.github.com", null, "Authorization", null));

    @TempDir
    Path dir;

    Vault vault() {
        return Vault.open(dir.resolve("secrets/vault.json"), dir.resolve("keys/vault.key"));
    }

    @Test
    void aSecretRoundTripsAndNeitherFileShowsItOrIsReadableByOthers() throws Exception {
        vault().put("GITHUB_TOKEN", "s3cret-value-123".getBytes(StandardCharsets.UTF_8), GITHUB);

        Vault reopened = vault();
        assertThat(reopened.reveal("GITHUB_TOKEN"))
                .hasValueSatisfying(v -> assertThat(new String(v)).isEqualTo("s3cret-value-123"));
        assertThat(reopened.list()).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("GITHUB_TOKEN");
            assertThat(e.bindings()).isEqualTo(GITHUB);
        });
        assertThat(Files.readString(dir.resolve("secrets/vault.json"))).doesNotContain("s3cret");
        for (Path f : List.of(dir.resolve("secrets/vault.json"), dir.resolve("keys/vault.key"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                    .isEqualTo("rw-------");
        }
        assertThat(reopened.remove("GITHUB_TOKEN")).isTrue();
        assertThat(reopened.reveal("GITHUB_TOKEN")).isEmpty();
        assertThat(reopened.remove("GITHUB_TOKEN")).isFalse();
    }

    @Test
    void aCiphertextMovedToAnotherNameDoesNotDecrypt() throws Exception {
        Vault v = vault();
        v.put("A_TOKEN", "value-of-a".getBytes(StandardCharsets.UTF_8), GITHUB);
        v.put("B_TOKEN", "value-of-b".getBytes(StandardCharsets.UTF_8), GITHUB);
        Path file = dir.resolve("secrets/vault.json");
        // Swap the names in the file: each ciphertext now sits under the other's name.
        String json = Files.readString(file)
                .replace("\"A_TOKEN\"", "\"TMP\"")
                .replace("\"B_TOKEN\"", "\"A_TOKEN\"")
                .replace("\"TMP\"", "\"B_TOKEN\"");
        Files.writeString(file, json);

        assertThatThrownBy(() -> vault().reveal("A_TOKEN"))
                .isInstanceOf(VaultException.class)
                .hasMessageContaining("does not decrypt")
                .hasMessageContaining("cordon secret set A_TOKEN");
    }

    @Test
    void aKeyOthersCanReadIsRefused() throws Exception {
        vault().put("GITHUB_TOKEN", "s3cret-value-123".getBytes(StandardCharsets.UTF_8), GITHUB);
        Files.setPosixFilePermissions(dir.resolve("keys/vault.key"), PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> vault().reveal("GITHUB_TOKEN"))
                .isInstanceOf(VaultException.class)
                .hasMessageContaining("accessible to group or others")
                .hasMessageContaining("chmod 600");
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        Vault v = vault();
        assertThatThrownBy(() -> v.put("github-token", new byte[] {1}, GITHUB)).hasMessageContaining("upper case");
        assertThatThrownBy(() -> v.put("T", new byte[0], GITHUB)).hasMessageContaining("empty");
        assertThatThrownBy(() -> new Vault.Binding("*.github.com", null, "Authorization", null))
                .hasMessageContaining("one exact host name");
        assertThatThrownBy(() -> new Vault.Binding("api.github.com", null, "Authorization", "key"))
                .hasMessageContaining("exactly one header or one query parameter");
        assertThat(Files.exists(dir.resolve("secrets/vault.json"))).isFalse();
    }

    @Test
    void aSecretWithoutBindingsIsKeptForTheHostOnly() {
        Vault v = vault();
        v.put("PG_PASSWORD", "db-pass-123".getBytes(StandardCharsets.UTF_8), List.of());

        assertThat(v.entry("PG_PASSWORD").orElseThrow().bindings()).isEmpty();
        assertThat(new String(v.reveal("PG_PASSWORD").orElseThrow(), StandardCharsets.UTF_8))
                .isEqualTo("db-pass-123");
    }

    @Test
    void aMissingKeyForAVaultWithSecretsSaysWhatToDo() throws Exception {
        vault().put("GITHUB_TOKEN", "s3cret-value-123".getBytes(StandardCharsets.UTF_8), GITHUB);
        Files.delete(dir.resolve("keys/vault.key"));

        assertThatThrownBy(() -> vault().revealAll())
                .hasMessageContaining("is missing")
                .hasMessageContaining("backup");
    }
}
