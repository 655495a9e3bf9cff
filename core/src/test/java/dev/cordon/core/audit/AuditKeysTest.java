package dev.cordon.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditKeysTest {
    @TempDir
    Path dir;

    @Test
    void theFirstUseCreatesAPrivateFile0600InA0700DirectoryAndAPublicFileBesideIt() throws Exception {
        Path file = dir.resolve("home/keys/audit-ed25519");

        KeyPair keys = AuditKeys.loadOrCreate(file);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                .isEqualTo("rwx------");
        assertThat(Files.readString(file))
                .startsWith("-----BEGIN PRIVATE KEY-----\n")
                .contains("-----BEGIN PUBLIC KEY-----");
        assertThat(AuditKeys.readPublicKey(AuditKeys.publicKeyFile(file))).isEqualTo(keys.getPublic());
        assertThat(AuditKeys.publicKeyFile(file)).hasFileName("audit-ed25519.pub");
        assertThat(keys.getPublic().getAlgorithm()).isIn("Ed25519", "EdDSA");
        assertThat(dir.resolve("home/keys/audit-ed25519.new")).doesNotExist();
    }

    @Test
    void laterUsesLoadTheSameKeyThatSigns() throws Exception {
        Path file = dir.resolve("audit-ed25519");
        KeyPair first = AuditKeys.loadOrCreate(file);

        KeyPair again = AuditKeys.loadOrCreate(file);

        assertThat(again.getPublic()).isEqualTo(first.getPublic());
        Signature signer = Signature.getInstance("Ed25519");
        signer.initSign(again.getPrivate());
        signer.update(new byte[] {1});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(first.getPublic());
        verifier.update(new byte[] {1});
        assertThat(verifier.verify(signature)).isTrue();
    }

    @Test
    void aMissingPublicFileIsWrittenAgain() throws Exception {
        Path file = dir.resolve("audit-ed25519");
        KeyPair keys = AuditKeys.loadOrCreate(file);
        Files.delete(AuditKeys.publicKeyFile(file));

        AuditKeys.loadOrCreate(file);

        assertThat(AuditKeys.readPublicKey(AuditKeys.publicKeyFile(file))).isEqualTo(keys.getPublic());
    }

    @Test
    void aKeyFileOthersCanReadIsRefusedWithTheFix() throws Exception {
        Path file = dir.resolve("audit-ed25519");
        AuditKeys.loadOrCreate(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> AuditKeys.loadOrCreate(file))
                .isInstanceOf(AuditException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("chmod 600");
    }

    @Test
    void aFileWhosePublicKeyIsNotItsPrivateKeysIsRefused() throws Exception {
        Path file = dir.resolve("audit-ed25519");
        AuditKeys.loadOrCreate(file);
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String text = Files.readString(file);
        String forged = text.substring(0, text.indexOf("-----BEGIN PUBLIC KEY-----")) + "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(other.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        Files.writeString(file, forged, StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> AuditKeys.loadOrCreate(file))
                .isInstanceOf(AuditException.class)
                .hasMessageContaining("does not belong to its private key");
    }

    @Test
    void aFileThatIsNotAKeyIsRefusedWithWhatToDo() throws Exception {
        Path file = dir.resolve("audit-ed25519");
        Files.writeString(file, "hello");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        assertThatThrownBy(() -> AuditKeys.loadOrCreate(file))
                .isInstanceOf(AuditException.class)
                .hasMessageContaining("has no PUBLIC KEY block");
    }
}
