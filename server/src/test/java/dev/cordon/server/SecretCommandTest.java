package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.egress.vault.Vault;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretCommandTest {
    @TempDir
    Path root;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String stdin, String... args) {
        out.reset();
        err.reset();
        return SecretCommand.run(
                new Home(root),
                List.of(args),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void aValueFromStdinIsStoredEncryptedWithItsBindingsAndListedWithoutIt() throws Exception {
        int rc = run(
                "tok-123456789\n",
                "set",
                "GITHUB_TOKEN",
                "--bind",
                "api.github.com/repos:header=Authorization",
                "--bind",
                "uploads.github.com:header=Authorization");

        assertThat(rc).as(err.toString()).isZero();
        assertThat(out.toString()).contains("stored GITHUB_TOKEN", "cordon-secret-GITHUB_TOKEN");
        Vault vault = Vault.open(new Home(root).vault(), new Home(root).vaultKey());
        assertThat(new String(vault.reveal("GITHUB_TOKEN").orElseThrow(), StandardCharsets.UTF_8))
                .as("the newline echo adds is not part of the secret")
                .isEqualTo("tok-123456789");
        assertThat(Files.readString(new Home(root).vault())).doesNotContain("tok-123456789");

        assertThat(run("", "list")).isZero();
        assertThat(out.toString())
                .contains("GITHUB_TOKEN", "header Authorization to api.github.com/repos", "uploads.github.com")
                .doesNotContain("tok-123456789");
        assertThat(run("", "rm", "GITHUB_TOKEN")).isZero();
        assertThat(run("", "rm", "GITHUB_TOKEN")).isEqualTo(1);
    }

    @Test
    void aHostOnlySecretIsStoredWithoutBindingsOnlyWhenAskedFor() throws Exception {
        assertThat(run("db-pass-123\n", "set", "PG_PASSWORD", "--host-only"))
                .as(err.toString())
                .isZero();

        assertThat(out.toString()).contains("stored PG_PASSWORD for the host only");
        Vault vault = Vault.open(new Home(root).vault(), new Home(root).vaultKey());
        assertThat(vault.entry("PG_PASSWORD").orElseThrow().bindings()).isEmpty();
        assertThat(run("", "list")).isZero();
        assertThat(out.toString()).contains("PG_PASSWORD  host only").doesNotContain("db-pass-123");
    }

    @Test
    void badArgumentsSayWhatIsWrongAndStoreNothing() {
        assertThat(run("v", "set", "GITHUB_TOKEN", "--bind", "api.github.com")).isEqualTo(1);
        assertThat(err.toString()).contains("expected HOST[/PATH]:header=NAME");
        assertThat(run("v", "set", "GITHUB_TOKEN", "--bind", "api.github.com:cookie=x"))
                .isEqualTo(1);
        assertThat(err.toString()).contains("header=NAME or query=NAME");
        assertThat(run("v", "set", "lower", "--bind", "a.com:header=X")).isEqualTo(1);
        assertThat(err.toString()).contains("upper case");
        assertThat(run("v", "set", "GITHUB_TOKEN")).isEqualTo(1);
        assertThat(err.toString()).contains("at least one binding");
        assertThat(run("", "frobnicate")).isEqualTo(2);
        assertThat(Files.exists(new Home(root).vault())).isFalse();
    }
}
