package dev.cordon.server;

import dev.cordon.core.access.UserId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is calling the HTTP API (docs/dashboard.md). Three secrets, none kept in clear:
 *
 * <ul>
 *   <li>API tokens ({@code Authorization: Bearer}), one file line {@code sha256 user} each in
 *       {@code data/web-tokens} (mode 0600); the token itself is shown once, when made;
 *   <li>login codes, one use and {@link #LOGIN_CODE_LIFETIME}, in memory: {@code cordon dashboard}
 *       prints one as a link;
 *   <li>browser sessions, made by redeeming a code, in memory (a restart logs browsers out), each
 *       with its own CSRF token that every mutating call must echo in {@code X-CSRF-Token}.
 * </ul>
 *
 * Thread-safe.
 */
final class WebAuth {
    static final Duration LOGIN_CODE_LIFETIME = Duration.ofMinutes(5);
    static final Duration SESSION_LIFETIME = Duration.ofHours(12);

    /** An authenticated caller; {@code csrf} is null for a bearer token (no cookie, nothing to forge). */
    record Caller(UserId user, String csrf) {}

    /** A browser session just made from a login code. */
    record Login(String sessionId, Caller caller) {}

    private record Expiring(Caller caller, Instant expiresAt) {}

    private final Path tokenFile;
    private final Clock clock;
    private final SecureRandom random;
    private final Map<String, UserId> tokens = new ConcurrentHashMap<>();
    private final Map<String, Expiring> codes = new ConcurrentHashMap<>();
    private final Map<String, Expiring> sessions = new ConcurrentHashMap<>();

    WebAuth(Path tokenFile, Clock clock, SecureRandom random) {
        this.tokenFile = tokenFile;
        this.clock = clock;
        this.random = random;
        try {
            if (Files.exists(tokenFile)) {
                for (String line : Files.readAllLines(tokenFile)) {
                    String[] parts = line.strip().split(" ", 2);
                    if (parts.length == 2) {
                        tokens.put(parts[0], UserId.parse(parts[1]));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenFile, e);
        }
    }

    /** Whether {@code user} has an API token. */
    boolean hasToken(UserId user) {
        return tokens.containsValue(user);
    }

    /** A new API token for {@code user}, replacing its others; only its hash is written. Shown once. */
    synchronized String newToken(UserId user) {
        String token = "cordon_" + secret();
        tokens.values().removeIf(user::equals);
        tokens.put(sha256(token), user);
        List<String> lines = new ArrayList<>();
        tokens.forEach((hash, u) -> lines.add(hash + " " + u));
        try {
            Path tmp = tokenFile.resolveSibling(tokenFile.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, lines);
            Files.move(tmp, tokenFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + tokenFile, e);
        }
        return token;
    }

    /** A one-time login code for {@code user}, valid {@link #LOGIN_CODE_LIFETIME}. */
    String newLoginCode(UserId user) {
        sweep();
        String code = secret();
        codes.put(
                sha256(code),
                new Expiring(new Caller(user, null), clock.instant().plus(LOGIN_CODE_LIFETIME)));
        return code;
    }

    /** Spends a login code: a new browser session, or empty if the code is unknown, used or expired. */
    Optional<Login> redeem(String code) {
        if (code == null) {
            return Optional.empty();
        }
        return unexpired(codes.remove(sha256(code))).map(spent -> {
            String sessionId = secret();
            Caller caller = new Caller(spent.user(), secret());
            sessions.put(sha256(sessionId), new Expiring(caller, clock.instant().plus(SESSION_LIFETIME)));
            return new Login(sessionId, caller);
        });
    }

    Optional<Caller> bearer(String token) {
        return token == null
                ? Optional.empty()
                : Optional.ofNullable(tokens.get(sha256(token))).map(u -> new Caller(u, null));
    }

    Optional<Caller> session(String sessionId) {
        if (sessionId == null) {
            return Optional.empty();
        }
        return unexpired(sessions.get(sha256(sessionId)));
    }

    private Optional<Caller> unexpired(Expiring e) {
        return e == null || clock.instant().isAfter(e.expiresAt()) ? Optional.empty() : Optional.of(e.caller());
    }

    /** Forgets expired codes and sessions, so unused ones do not pile up; runs at each new one. */
    private void sweep() {
        Instant now = clock.instant();
        codes.values().removeIf(e -> now.isAfter(e.expiresAt()));
        sessions.values().removeIf(e -> now.isAfter(e.expiresAt()));
    }

    void logout(String sessionId) {
        if (sessionId != null) {
            sessions.remove(sha256(sessionId));
        }
    }

    /** Compares in constant time, so a CSRF token cannot be guessed byte by byte. */
    static boolean same(String expected, String given) {
        return given != null
                && MessageDigest.isEqual(
                        expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private String secret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
