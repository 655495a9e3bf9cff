package dev.cordon.core.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * The canonical byte encoding of entries and checkpoints, and their SHA-256. This is the format the
 * hash chain and the signatures are computed over, so it must never change for version 1: a change
 * needs a new version byte (and verify must keep reading version 1). Specified in {@code
 * docs/audit.md}; {@code CanonicalTest} pins it with fixed vectors.
 *
 * <p>Why a byte encoding of our own rather than hashing JSON: JSON has many spellings of one value
 * (key order, spaces, escapes, number forms), and a store such as PostgreSQL's {@code jsonb} picks
 * its own. Length-prefixed fields in a fixed order have exactly one encoding per entry, and no
 * two entries share one (a prefix tells where each field ends, so "ab"+"c" differs from "a"+"bc").
 *
 * <p>Not thread-safe: each thread that hashes holds its own instance (it reuses a buffer).
 */
final class Canonical {
    static final byte VERSION = 1;
    static final int HASH_BYTES = 32;
    static final byte[] ZERO = new byte[HASH_BYTES];
    static final String ZERO_HEX = "0".repeat(2 * HASH_BYTES);
    /** Domain separation: a checkpoint signature can never be mistaken for a signature of anything else. */
    static final String CHECKPOINT_DOMAIN = "cordon-audit-checkpoint-v1";

    private static final HexFormat HEX = HexFormat.of();

    private final MessageDigest sha256;
    private byte[] buf = new byte[512];
    private int len;

    Canonical() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** SHA-256 of the entry's canonical encoding. */
    byte[] entryHash(long seq, byte[] prevHash, AuditEvent e) {
        encodeEntry(seq, prevHash, e);
        sha256.update(buf, 0, len);
        return sha256.digest();
    }

    /** The entry's canonical encoding (a copy), for tests and the documentation's example. */
    byte[] entryBytes(long seq, byte[] prevHash, AuditEvent e) {
        encodeEntry(seq, prevHash, e);
        return Arrays.copyOf(buf, len);
    }

    /** The bytes a checkpoint's signature covers. */
    byte[] checkpointBytes(long seq, byte[] hash, long timeMillis, long previousSeq, byte[] publicKey) {
        len = 0;
        string(CHECKPOINT_DOMAIN);
        i64(seq);
        raw(hash);
        i64(timeMillis);
        i64(previousSeq);
        bytes(publicKey);
        return Arrays.copyOf(buf, len);
    }

    private void encodeEntry(long seq, byte[] prevHash, AuditEvent e) {
        if (prevHash.length != HASH_BYTES) {
            throw new IllegalArgumentException("prevHash has " + prevHash.length + " bytes, not " + HASH_BYTES);
        }
        len = 0;
        u8(VERSION);
        i64(seq);
        raw(prevHash);
        i64(e.time().toEpochMilli());
        string(e.actor().kind().label());
        string(e.actor().id());
        optionalString(e.agent() == null ? null : e.agent().value());
        if (e.session() == null) {
            u8(0);
        } else {
            u8(1);
            i64(e.session().value());
        }
        string(e.action());
        string(e.decision().label());
        optionalString(e.rule());
        optionalString(e.reason());
        // AuditEvent keeps details sorted by key; keys are ASCII, so String order is byte order.
        u32(e.details().size());
        for (Map.Entry<String, Object> d : e.details().entrySet()) {
            string(d.getKey());
            switch (d.getValue()) {
                case String s -> {
                    u8('s');
                    string(s);
                }
                case Long l -> {
                    u8('i');
                    i64(l);
                }
                case Boolean b -> {
                    u8('b');
                    u8(b ? 1 : 0);
                }
                default ->
                    throw new IllegalStateException(
                            "AuditEvent let a " + d.getValue().getClass() + " in");
            }
        }
    }

    private void optionalString(String s) {
        if (s == null) {
            u8(0);
        } else {
            u8(1);
            string(s);
        }
    }

    private void string(String s) {
        bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private void bytes(byte[] b) {
        u32(b.length);
        raw(b);
    }

    private void raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    private void u8(int v) {
        ensure(1);
        buf[len++] = (byte) v;
    }

    private void u32(int v) {
        ensure(4);
        for (int shift = 24; shift >= 0; shift -= 8) {
            buf[len++] = (byte) (v >>> shift);
        }
    }

    private void i64(long v) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[len++] = (byte) (v >>> shift);
        }
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    static byte[] unhex(String hex) {
        return HEX.parseHex(hex);
    }

    /** Checks a hash in its text form: 64 lowercase hex digits. */
    static void checkHex(String what, String hex) {
        if (hex == null || hex.length() != 2 * HASH_BYTES) {
            throw new IllegalArgumentException(what + " must be " + 2 * HASH_BYTES + " hex digits, was " + hex);
        }
        int bad = 0;
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            // No early exit, no branches per digit: this runs twice per entry read.
            bad |= ((c - '0') | ('9' - c)) & ((c - 'a') | ('f' - c));
        }
        if (bad < 0) {
            throw new IllegalArgumentException(what + " must be lowercase hex digits, was " + hex);
        }
    }
}
