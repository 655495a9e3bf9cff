package dev.cordon.core.channel;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 signatures of webhook bodies, as GitHub, Meta and Cordon's own signed webhooks use
 * them. Comparison is constant-time ({@link MessageDigest#isEqual}): a comparison that stops at
 * the first wrong byte tells a caller, by its timing, how much of a forged signature was right.
 */
public final class HookSignature {
    private HookSignature() {}

    /** Lower-case hex HMAC-SHA256 of {@code parts}, one after another, with {@code key}. */
    public static String hmacSha256Hex(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return HexFormat.of().formatHex(mac.doFinal());
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /**
     * Whether {@code given} (as sent, e.g. {@code sha256=ab12...}) equals {@code "sha256=" +}
     * the hex HMAC of {@code parts} with {@code key}; case of the hex digits is ignored. A null
     * {@code given} never matches.
     */
    public static boolean verifies(String given, byte[] key, byte[]... parts) {
        if (given == null) {
            return false;
        }
        byte[] expected = ("sha256=" + hmacSha256Hex(key, parts)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] actual = given.strip().toLowerCase(Locale.ROOT).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, actual);
    }
}
