package dev.cordon.egress.vault;

import dev.cordon.core.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@link Vault} in one JSON file of encrypted values, with a 256-bit key in a file of its own. */
final class FileVault implements Vault {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final int MAX_VALUE = 64 * 1024;

    private record Stored(Entry entry, byte[] nonce, byte[] ciphertext) {}

    private final Path file;
    private final Path keyFile;
    private final Clock clock;

    FileVault(Path file, Path keyFile, Clock clock) {
        this.file = file;
        this.keyFile = keyFile;
        this.clock = clock;
    }

    @Override
    public synchronized void put(String name, byte[] value, List<Binding> bindings) {
        requireName(name);
        if (value.length == 0) {
            throw new IllegalArgumentException("the value of " + name + " is empty");
        }
        if (value.length > MAX_VALUE) {
            throw new IllegalArgumentException("the value of " + name + " is larger than " + MAX_VALUE / 1024 + " KiB");
        }
        byte[] key = key(true);
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] ciphertext = crypt(Cipher.ENCRYPT_MODE, key, nonce, name, value);
        Map<String, Stored> all = read();
        all.put(name, new Stored(new Entry(name, List.copyOf(bindings), clock.instant()), nonce, ciphertext));
        write(all);
    }

    @Override
    public synchronized boolean remove(String name) {
        Map<String, Stored> all = read();
        if (all.remove(name) == null) {
            return false;
        }
        write(all);
        return true;
    }

    @Override
    public synchronized List<Entry> list() {
        return read().values().stream().map(Stored::entry).toList();
    }

    @Override
    public synchronized Optional<Entry> entry(String name) {
        return Optional.ofNullable(read().get(name)).map(Stored::entry);
    }

    @Override
    public synchronized Optional<byte[]> reveal(String name) {
        Stored s = read().get(name);
        if (s == null) {
            return Optional.empty();
        }
        return Optional.of(crypt(Cipher.DECRYPT_MODE, key(false), s.nonce(), name, s.ciphertext()));
    }

    @Override
    public synchronized Map<String, byte[]> revealAll() {
        Map<String, Stored> all = read();
        if (all.isEmpty()) {
            return Map.of();
        }
        byte[] key = key(false);
        Map<String, byte[]> values = new LinkedHashMap<>();
        all.forEach((name, s) -> values.put(name, crypt(Cipher.DECRYPT_MODE, key, s.nonce(), name, s.ciphertext())));
        return values;
    }

    private byte[] crypt(int mode, byte[] key, byte[] nonce, String name, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            // The name is authenticated with the value: a ciphertext moved to another name fails.
            cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new VaultException(
                    mode == Cipher.DECRYPT_MODE
                            ? "secret " + name + " in " + file + " does not decrypt with the key in " + keyFile
                                    + " (the file or the key was changed or replaced); set it again with"
                                    + " cordon secret set " + name
                            : "cannot encrypt secret " + name + ": " + e.getMessage(),
                    e);
        }
    }

    private byte[] key(boolean create) {
        try {
            if (Files.exists(keyFile)) {
                Optional<String> open = PrivateFiles.openPermissions(keyFile);
                if (open.isPresent()) {
                    throw new VaultException("the vault key " + keyFile + " is accessible to group or others ("
                            + open.get() + "); run: chmod 600 " + keyFile
                            + ", and if others could read it, treat every secret as leaked and rotate them");
                }
                byte[] key = Files.readAllBytes(keyFile);
                if (key.length != KEY_BYTES) {
                    throw new VaultException("the vault key " + keyFile + " is " + key.length + " bytes, not "
                            + KEY_BYTES + "; restore it from a backup");
                }
                return key;
            }
            if (!create) {
                throw new VaultException("the vault key " + keyFile + " is missing while " + file
                        + " holds secrets; restore the key from a backup, or remove " + file
                        + " and set the secrets again");
            }
            byte[] key = new byte[KEY_BYTES];
            RANDOM.nextBytes(key);
            PrivateFiles.write(keyFile, key);
            return key;
        } catch (IOException e) {
            throw new VaultException("cannot read or create the vault key " + keyFile + ": " + e, e);
        }
    }

    private Map<String, Stored> read() {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return new LinkedHashMap<>();
        } catch (IOException | JacksonException e) {
            throw new VaultException(
                    "cannot read the vault " + file + ": " + e.getMessage() + "; restore it from a backup", e);
        }
        Map<String, Stored> all = new LinkedHashMap<>();
        try {
            if (root.path("version").asInt() != 1) {
                throw new VaultException("the vault " + file + " has version " + root.path("version")
                        + ", which this Cordon does not know");
            }
            for (JsonNode s : root.path("secrets")) {
                List<Binding> bindings = new ArrayList<>();
                for (JsonNode b : s.path("bindings")) {
                    bindings.add(new Binding(
                            b.path("host").asString(),
                            b.path("path_prefix").asString(),
                            b.hasNonNull("header") ? b.get("header").asString() : null,
                            b.hasNonNull("query") ? b.get("query").asString() : null));
                }
                String name = s.path("name").asString();
                all.put(
                        name,
                        new Stored(
                                new Entry(
                                        name,
                                        List.copyOf(bindings),
                                        Instant.parse(s.path("updated").asString())),
                                Base64.getDecoder().decode(s.path("nonce").asString()),
                                Base64.getDecoder().decode(s.path("ciphertext").asString())));
            }
        } catch (RuntimeException e) {
            if (e instanceof VaultException v) {
                throw v;
            }
            throw new VaultException(
                    "the vault " + file + " is malformed (" + e.getMessage() + "); restore it from a backup", e);
        }
        return all;
    }

    private void write(Map<String, Stored> all) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ArrayNode secrets = root.putArray("secrets");
        for (Stored s : all.values()) {
            ObjectNode n = secrets.addObject();
            n.put("name", s.entry().name());
            n.put("updated", s.entry().updated().toString());
            n.put("nonce", Base64.getEncoder().encodeToString(s.nonce()));
            n.put("ciphertext", Base64.getEncoder().encodeToString(s.ciphertext()));
            ArrayNode bindings = n.putArray("bindings");
            for (Binding b : s.entry().bindings()) {
                ObjectNode bn = bindings.addObject();
                bn.put("host", b.host());
                bn.put("path_prefix", b.pathPrefix());
                if (b.header() != null) {
                    bn.put("header", b.header());
                } else {
                    bn.put("query", b.query());
                }
            }
        }
        try {
            PrivateFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        } catch (IOException e) {
            throw new VaultException("cannot write the vault " + file + ": " + e, e);
        }
    }

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("secret names are upper case letters, digits and underscores,"
                    + " starting with a letter (like GITHUB_TOKEN), not '" + name + "'");
        }
    }
}
