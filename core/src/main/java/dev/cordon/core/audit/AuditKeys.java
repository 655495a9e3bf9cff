package dev.cordon.core.audit;

import dev.cordon.core.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;

/**
 * The audit log's Ed25519 signing key, in files.
 *
 * <p>The private key file holds both keys as PEM ({@code PRIVATE KEY} then {@code PUBLIC KEY}
 * blocks; {@code openssl pkey -in FILE} reads it), mode 0600. It is written once, atomically (a
 * temporary file, fsync, rename), so a crash never leaves half a key. Beside it, {@code FILE.pub}
 * holds the public key alone: copy it off the machine to verify the log with a key an attacker on
 * this machine cannot replace. The key belongs in the Cordon home, which no sandbox can see.
 *
 * <p>Thread-safe (no state); not safe against two processes creating the same key file at once.
 */
public final class AuditKeys {
    static final String ALGORITHM = "Ed25519";

    private AuditKeys() {}

    /**
     * Loads the key pair in {@code privateKeyFile}, or creates one there (mode 0600, parent
     * directories 0700) when the file does not exist. Rewrites {@code privateKeyFile.pub} when it is
     * missing or differs. Blocks on file I/O.
     *
     * @throws AuditException if the file is readable or writable by group or others (it says which
     *     chmod fixes it), is not an Ed25519 key written by Cordon, or cannot be read or written
     */
    public static KeyPair loadOrCreate(Path privateKeyFile) {
        Path file = privateKeyFile.toAbsolutePath().normalize();
        KeyPair keys;
        try {
            keys = load(file);
        } catch (NoSuchFileException e) {
            keys = create(file);
        } catch (IOException e) {
            throw new AuditException("cannot read audit key " + file + ": " + e, e);
        }
        writePublicIfNeeded(publicKeyFile(file), keys.getPublic());
        return keys;
    }

    /**
     * Reads a public key written by {@link #loadOrCreate} (the {@code .pub} file, or the private key
     * file itself), for verifying a log with a key kept elsewhere.
     *
     * @throws AuditException if the file cannot be read or holds no Ed25519 public key
     */
    public static PublicKey readPublicKey(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            return publicKey(pem(text, "PUBLIC KEY", file));
        } catch (IOException e) {
            throw new AuditException("cannot read audit public key " + file + ": " + e, e);
        }
    }

    /** Where the public key of {@code privateKeyFile} is written: the same name plus {@code .pub}. */
    public static Path publicKeyFile(Path privateKeyFile) {
        return privateKeyFile.resolveSibling(privateKeyFile.getFileName() + ".pub");
    }

    /** The public key as it appears in checkpoints: X.509 DER, base64. */
    static String encode(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    static PublicKey publicKey(byte[] x509) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(x509));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new AuditException("not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    private static KeyPair load(Path file) throws IOException {
        refuseOpenPermissions(file);
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        try {
            KeyFactory factory = KeyFactory.getInstance(ALGORITHM);
            KeyPair keys = new KeyPair(
                    factory.generatePublic(new X509EncodedKeySpec(pem(text, "PUBLIC KEY", file))),
                    factory.generatePrivate(new PKCS8EncodedKeySpec(pem(text, "PRIVATE KEY", file))));
            // The two blocks could come from different keys (a hand edit): a log signed with the
            // private key would then never verify with the public one.
            byte[] probe = "cordon-audit-key-check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(ALGORITHM);
            signer.initSign(keys.getPrivate());
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(ALGORITHM);
            verifier.initVerify(keys.getPublic());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new AuditException("audit key " + file + " holds a public key that does not belong to its"
                        + " private key; restore the file from a backup");
            }
            return keys;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new AuditException(
                    "audit key " + file + " is not an Ed25519 key written by Cordon (" + e.getMessage()
                            + "); restore it from a backup, or move it aside to start a new key (the log's"
                            + " old checkpoints then verify only with the old public key)",
                    e);
        }
    }

    private static void refuseOpenPermissions(Path file) throws IOException {
        Optional<String> open = PrivateFiles.openPermissions(file);
        if (open.isPresent()) {
            throw new AuditException("audit key " + file + " is accessible to group or others (" + open.get()
                    + "); run: chmod 600 " + file + " — and if others could read it, the key may be known: move it"
                    + " aside to start a new one");
        }
    }

    private static KeyPair create(Path file) {
        KeyPair keys;
        try {
            keys = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AuditException("this JDK cannot make Ed25519 keys: " + e.getMessage(), e);
        }
        String text = pem("PRIVATE KEY", keys.getPrivate().getEncoded())
                + pem("PUBLIC KEY", keys.getPublic().getEncoded());
        try {
            PrivateFiles.write(file, text.getBytes(StandardCharsets.US_ASCII));
            return keys;
        } catch (IOException e) {
            throw new AuditException("cannot create audit key " + file + ": " + e, e);
        }
    }

    private static void writePublicIfNeeded(Path pub, PublicKey key) {
        String text = pem("PUBLIC KEY", key.getEncoded());
        try {
            if (Files.exists(pub)
                    && Files.readString(pub, StandardCharsets.US_ASCII).equals(text)) {
                return;
            }
            Path temp = pub.resolveSibling(pub.getFileName() + ".new");
            Files.writeString(temp, text, StandardCharsets.US_ASCII);
            Files.move(temp, pub, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AuditException("cannot write audit public key " + pub + ": " + e, e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] pem(String text, String type, Path file) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = from < 0 ? -1 : text.indexOf(end, from);
        if (to < 0) {
            throw new AuditException("audit key file " + file + " has no " + type + " block");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
        } catch (IllegalArgumentException e) {
            throw new AuditException("audit key file " + file + " has a damaged " + type + " block", e);
        }
    }
}
