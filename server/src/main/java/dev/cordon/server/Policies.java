package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.sandbox.SandboxException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agents' policies, hot-reloaded: {@code agents/<name>/policy.yaml} is read at every turn and
 * sandbox start, and a change applies to the next one. Every valid version is kept, in {@code
 * policies/<name>/<version>-<sha256 prefix>.yaml} (outside every sandbox), and audited as {@code
 * policy.change}. An invalid file is audited as refused and the last valid version stays in force;
 * with no valid version ever, the agent fails closed (no turn, no sandbox) until the file is fixed.
 * A missing file means the defaults of {@code cordon.yaml}. A file caught half-written (an editor
 * truncates, then writes) is not taken for a version: a fresh change is read until it settles.
 * Thread-safe.
 */
final class Policies {
    private static final Logger LOG = LoggerFactory.getLogger(Policies.class);
    private static final Duration SETTLE = Duration.ofMillis(20);
    private static final Duration SETTLE_WINDOW = Duration.ofSeconds(2);
    private static final Pattern VERSION = Pattern.compile("(\\d+)-([0-9a-f]{16})\\.yaml");

    private final Home home;
    private final Supplier<AgentPolicy.Defaults> defaults;
    private final AuditLog audit;
    private final Clock clock;
    private final Map<AgentName, Loaded> current = new ConcurrentHashMap<>();
    private final Set<String> refused = ConcurrentHashMap.newKeySet();

    /** A policy in force: the file's hash ("" for no file) and its version (0 for no file). */
    private record Loaded(String sha256, int version, AgentPolicy.Policy policy) {}

    Policies(Home home, Supplier<AgentPolicy.Defaults> defaults, AuditLog audit, Clock clock) {
        this.home = home;
        this.defaults = defaults;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The agent's policy in force now: its file if valid, else its last valid version.
     *
     * @throws SandboxException if the file is invalid and no version of it ever was (fail closed);
     *     the message names the file, the field and the reason
     */
    AgentPolicy.Policy current(Agent agent) {
        AgentName name = agent.name();
        Path file = home.agent(name).resolve("policy.yaml");
        byte[] bytes = read(file);
        String sha = bytes == null ? "" : sha256(bytes);
        Loaded known = current.get(name);
        if (known != null && known.sha256().equals(sha)) {
            return known.policy();
        }
        // Outside the lock: waiting for this file to settle must not hold up other agents' turns.
        bytes = settled(file, bytes);
        sha = bytes == null ? "" : sha256(bytes);
        synchronized (this) {
            known = current.get(name);
            if (known != null && known.sha256().equals(sha)) {
                return known.policy();
            }
            if (bytes == null) {
                Loaded none = new Loaded("", 0, AgentPolicy.none(defaults.get()));
                current.put(name, none);
                return none.policy();
            }
            AgentPolicy.Policy parsed;
            try {
                parsed = AgentPolicy.parse(file.toString(), new String(bytes, StandardCharsets.UTF_8), defaults.get());
            } catch (SandboxException e) {
                Optional<Loaded> fallback = known != null && known.version() > 0 ? Optional.of(known) : lastValid(name);
                if (refused.add(name.value() + ":" + sha)) {
                    record(
                            name,
                            Decision.DENY,
                            e.getMessage(),
                            sha,
                            fallback.map(Loaded::version).orElse(0));
                }
                if (fallback.isEmpty()) {
                    throw e;
                }
                LOG.warn(
                        "{}; version {} of the policy stays in force",
                        e.getMessage(),
                        fallback.get().version());
                current.put(
                        name,
                        new Loaded(sha, fallback.get().version(), fallback.get().policy()));
                return fallback.get().policy();
            }
            Loaded loaded = keep(name, bytes, sha, parsed);
            current.put(name, loaded);
            return parsed;
        }
    }

    /**
     * Drops what is remembered of a deleted agent's policy, so that a new agent of the same name
     * starts from its own file (or the defaults), never from the old one's last valid version.
     */
    synchronized void forget(AgentName name) {
        current.remove(name);
        refused.removeIf(key -> key.startsWith(name.value() + ":"));
    }

    /**
     * What is in force for {@code name} as a daemon would decide it now, without changing anything
     * (no version kept, nothing audited): for {@code cordon policy explain}.
     *
     * @param policy null if nothing valid is in force (the agent fails closed)
     * @param version the kept version in force; 0 for no file, -1 for a valid file the daemon has
     *     not kept yet (it will at the agent's next turn)
     * @param sha256 of the file in force ("" for none)
     * @param source the file the policy in force was read from (the agent's file or a kept version)
     * @param problem why the agent's file is not in force (it is invalid), else null
     */
    record InForce(AgentPolicy.Policy policy, int version, String sha256, Path source, String problem) {}

    static InForce inForce(Home home, AgentName name, AgentPolicy.Defaults defaults) {
        Path file = home.agent(name).resolve("policy.yaml");
        byte[] bytes = read(file);
        if (bytes == null) {
            return new InForce(AgentPolicy.none(defaults), 0, "", file, null);
        }
        String sha = sha256(bytes);
        Path dir = home.root().resolve("policies").resolve(name.value());
        try {
            AgentPolicy.Policy policy =
                    AgentPolicy.parse(file.toString(), new String(bytes, StandardCharsets.UTF_8), defaults);
            int version = versions(dir)
                    .filter(p -> matcher(p).group(2).equals(sha.substring(0, 16)))
                    .map(p -> Integer.parseInt(matcher(p).group(1)))
                    .reduce((a, b) -> b)
                    .orElse(-1);
            return new InForce(policy, version, sha, file, null);
        } catch (SandboxException e) {
            Optional<Loaded> fallback = lastValid(home, name, defaults);
            return fallback.map(l -> new InForce(
                            l.policy(),
                            l.version(),
                            l.sha256(),
                            versions(dir)
                                    .filter(p -> Integer.parseInt(matcher(p).group(1)) == l.version())
                                    .findFirst()
                                    .orElse(dir),
                            e.getMessage()))
                    .orElse(new InForce(null, 0, "", file, e.getMessage()));
        }
    }

    /** Stores {@code bytes} as a new version unless the newest kept version is the same file. */
    private Loaded keep(AgentName name, byte[] bytes, String sha, AgentPolicy.Policy parsed) {
        Path dir = home.root().resolve("policies").resolve(name.value());
        Optional<Path> newest = versions(dir).reduce((a, b) -> b);
        if (newest.isPresent() && matcher(newest.get()).group(2).equals(sha.substring(0, 16))) {
            return new Loaded(sha, Integer.parseInt(matcher(newest.get()).group(1)), parsed);
        }
        int version = newest.map(p -> Integer.parseInt(matcher(p).group(1)) + 1).orElse(1);
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(version + "-" + sha.substring(0, 16) + ".yaml"), bytes);
        } catch (IOException e) {
            throw new SandboxException(
                    "cannot keep version " + version + " of " + name + "'s policy in " + dir + ": " + e.getMessage(),
                    e);
        }
        record(name, Decision.ALLOW, null, sha, version);
        LOG.info("policy of {}: version {} in force", name, version);
        return new Loaded(sha, version, parsed);
    }

    /** The newest kept version that still parses (defaults may have changed since), if any. */
    private Optional<Loaded> lastValid(AgentName name) {
        return lastValid(home, name, defaults.get());
    }

    private static Optional<Loaded> lastValid(Home home, AgentName name, AgentPolicy.Defaults defaults) {
        Path dir = home.root().resolve("policies").resolve(name.value());
        for (Path p : versions(dir).toList().reversed()) {
            try {
                byte[] bytes = Files.readAllBytes(p);
                return Optional.of(new Loaded(
                        sha256(bytes),
                        Integer.parseInt(matcher(p).group(1)),
                        AgentPolicy.parse(p.toString(), new String(bytes, StandardCharsets.UTF_8), defaults)));
            } catch (IOException | SandboxException e) {
                LOG.warn("kept policy {} is unusable: {}", p, e.getMessage());
            }
        }
        return Optional.empty();
    }

    private static Stream<Path> versions(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files
                    .filter(p -> VERSION.matcher(p.getFileName().toString()).matches())
                    .sorted(java.util.Comparator.comparingInt(
                            p -> Integer.parseInt(matcher(p).group(1))))
                    .toList()
                    .stream();
        } catch (IOException e) {
            throw new SandboxException("cannot list the kept policies in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Matcher matcher(Path p) {
        Matcher m = VERSION.matcher(p.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalStateException("not a kept policy: " + p);
        }
        return m;
    }

    private void record(AgentName name, Decision decision, String reason, String sha, int version) {
        audit.append(AuditEvent.of(
                        clock.instant(), AuditEvent.Actor.system("policy"), AuditActions.POLICY_CHANGE, decision)
                .withAgent(name)
                .withReason(AuditEvent.clip(reason))
                .withDetails(Map.of("sha256", sha, decision == Decision.ALLOW ? "version" : "in_force", version)));
    }

    /**
     * A file written in place is truncated, then written: a read in between sees it empty or cut
     * short. So a file changed in the last {@link #SETTLE_WINDOW} counts only once two reads {@link
     * #SETTLE} apart agree and it is not empty, or the window has passed (an emptied file takes
     * effect then); an older file is read once.
     */
    private static byte[] settled(Path file, byte[] first) {
        byte[] last = first;
        for (int i = 0; i < 200 && recentlyModified(file); i++) {
            try {
                Thread.sleep(SETTLE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return last;
            }
            byte[] again = read(file);
            if (Arrays.equals(last, again) && (again == null || again.length > 0)) {
                return again;
            }
            last = again;
        }
        return last;
    }

    private static boolean recentlyModified(Path file) {
        try {
            Instant modified =
                    Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant();
            return modified.isAfter(Instant.now().minus(SETTLE_WINDOW));
        } catch (IOException e) {
            return false; // gone: nothing to wait for
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? Files.readAllBytes(file) : null;
        } catch (IOException e) {
            throw new SandboxException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
