package dev.cordon.sandbox.mounts;

import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.sandbox.mounts.MountException.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The operator's list of host directories under which agents may have folders mounted, and the
 * check every mount request goes through. It is built from the daemon's own configuration, never
 * from anything an agent can write; an agent's policy can only ask for what it allows. See
 * docs/mounts.md for each rule and why.
 *
 * <p>Immutable and safe to share between threads. {@link #of} and the checks read the host
 * filesystem (resolving symlinks, listing one directory) and so block briefly; they change nothing
 * on disk. Every refusal is a {@link MountException} whose message names the path and the rule.
 *
 * <p>A check is true at the moment it runs. Call it right before each sandbox starts, not once
 * when the policy is loaded: a folder may have been replaced by a symlink since.
 */
public final class MountAllowlist {
    /** Host directories no entry may be or lie inside: the OS, its secrets, its live state. */
    private static final List<Path> SYSTEM_TREES = paths(
            "/proc",
            "/sys",
            "/dev",
            "/etc",
            "/boot",
            "/root",
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/run",
            "/var/run",
            "/var/lib",
            "/var/log");

    /**
     * Directories no entry may be, though folders inside them may: they hold everyone's files at once
     * (every user's home with its keys, every process's sockets in /tmp, such as ssh-agent's).
     */
    private static final List<Path> SYSTEM_EXACT = paths("/", "/home", "/tmp", "/var", "/var/tmp");

    private final List<AllowedRoot> roots;

    private MountAllowlist(List<AllowedRoot> roots) {
        this.roots = List.copyOf(roots);
    }

    /** An allowlist that allows nothing: every request is refused with rule {@code allowlist}. */
    public static MountAllowlist none() {
        return new MountAllowlist(List.of());
    }

    /**
     * Validates the operator's entries and resolves each to its real path. An entry must be an
     * absolute path to an existing directory; must not be or lie inside a host system directory
     * ({@code /proc /sys /dev /etc /boot /root /usr /bin /sbin /lib* /run /var/run /var/lib
     * /var/log}) nor be {@code / /home /tmp /var /var/tmp}; must not be inside or contain the
     * Cordon home; must not have a credential-like component; and must not equal or nest with
     * another entry (nesting would make it unclear which mode applies). Each check is made on the
     * path as written and again on its real path, so a symlink cannot route around it.
     *
     * @param entries as the operator wrote them, in order
     * @param cordonHome the daemon's home (its database, sockets, agents' workspaces); need not exist
     * @throws MountException on the first invalid entry, naming it and the rule; nothing is built
     */
    public static MountAllowlist of(List<AllowedRoot> entries, Path cordonHome) {
        Objects.requireNonNull(cordonHome, "cordonHome");
        Path homeLexical = cordonHome.toAbsolutePath().normalize();
        Path homeReal = realOrLexical(homeLexical);
        List<Path> systemTrees = withRealPaths(SYSTEM_TREES);
        List<Path> systemExact = withRealPaths(SYSTEM_EXACT);
        List<AllowedRoot> resolved = new ArrayList<>();
        for (AllowedRoot entry : entries) {
            Path path = entry.path();
            EntryRefusal refuse = new EntryRefusal(path);
            if (!path.isAbsolute()) {
                throw refuse.by(Rule.ENTRY, "not an absolute path", "write the full path, starting with /");
            }
            Path lexical = path.normalize();
            checkSystem(lexical, systemTrees, systemExact, refuse);
            checkHome(lexical, homeLexical, homeReal, refuse);
            Path real;
            try {
                real = path.toRealPath();
            } catch (NoSuchFileException e) {
                throw refuse.by(Rule.ENTRY, "does not exist", "create it, or remove the entry");
            } catch (IOException e) {
                throw refuse.by(Rule.ENTRY, "cannot be resolved (" + e + ")", "check its permissions");
            }
            if (!real.equals(lexical)) {
                refuse = new EntryRefusal(path + " (resolves to " + real + ")");
            }
            if (!Files.isDirectory(real)) {
                throw refuse.by(Rule.ENTRY, "not a directory", "list the directory that holds it");
            }
            checkSystem(real, systemTrees, systemExact, refuse);
            checkHome(real, homeLexical, homeReal, refuse);
            Optional<CredentialNames.Match> credential =
                    CredentialNames.inPath(lexical).or(() -> CredentialNames.inPath(real));
            if (credential.isPresent()) {
                throw refuse.by(
                        Rule.CREDENTIALS,
                        "credential-like path component " + credential.get().describe(),
                        "secrets never enter a sandbox; the egress proxy injects credentials where an agent needs them");
            }
            for (AllowedRoot earlier : resolved) {
                if (real.equals(earlier.path())) {
                    throw refuse.by(Rule.ENTRY, "listed twice (as " + earlier.path() + ")", "keep one of them");
                }
                if (real.startsWith(earlier.path()) || earlier.path().startsWith(real)) {
                    throw refuse.by(
                            Rule.ENTRY,
                            "nested with entry " + earlier.path() + ", so which mode applies would be unclear",
                            "list only one of them, or two folders side by side");
                }
            }
            resolved.add(new AllowedRoot(real, entry.mode(), entry.allowCredentials()));
        }
        return new MountAllowlist(resolved);
    }

    /** The entries, each resolved to its real path, in the operator's order. */
    public List<AllowedRoot> roots() {
        return roots;
    }

    /**
     * Decides one request. The host path is resolved to its real path (every symlink followed) and
     * then must: lie under an entry, by whole components ({@code /srv/data2} is not under {@code
     * /srv/data}); be a directory or a regular file; have no credential-like component, neither as
     * written nor as resolved; and, if a directory, hold no credential-like entry at its top level
     * unless the entry says {@code allowCredentials}. The target must be a normal absolute path
     * (no {@code ..}, {@code .}, {@code //}) that neither is, lies inside, nor contains a path the
     * sandbox needs ({@code / /usr /bin /sbin /lib* /etc /proc /sys /dev /tmp /workspace
     * /run/cordon /opt/cordon}). Read-write is granted only when the entry is read-write <em>and</em>
     * {@code policyAllowsWrite}; a read-write request that either refuses is refused, never
     * downgraded to read-only.
     *
     * @param request what the agent's policy asks for
     * @param policyAllowsWrite whether the agent's policy grants writes to host folders
     * @return the mount to add to the sandbox spec: its source is the real path that was checked
     * @throws MountException naming the host path, the target and the rule that refused
     */
    public Mount check(MountRequest request, boolean policyAllowsWrite) {
        Refusal refuse = new Refusal(request);
        Path host = request.hostPath();
        if (!host.isAbsolute()) {
            throw refuse.by(Rule.HOST_PATH, "host path is not absolute", "write the full path, starting with /");
        }
        Path real;
        try {
            real = host.toRealPath();
        } catch (NoSuchFileException e) {
            throw refuse.by(
                    Rule.HOST_PATH,
                    "host path does not exist (or a symlink on the way to it is dangling)",
                    "create it, or fix the path in the agent's policy");
        } catch (IOException e) {
            throw refuse.by(Rule.HOST_PATH, "host path cannot be resolved (" + e + ")", "check its permissions");
        }
        String resolves = real.equals(host.normalize()) ? "" : "resolves to " + real + ", which ";
        AllowedRoot root = roots.stream()
                .filter(r -> real.startsWith(r.path()))
                .findFirst()
                .orElseThrow(() -> roots.isEmpty()
                        ? refuse.by(
                                Rule.ALLOWLIST,
                                "no host folder may be mounted (the operator's mount allowlist is empty)",
                                "ask the operator to add a directory to sandbox.mount_allowlist in cordon.yaml")
                        : refuse.by(
                                Rule.ALLOWLIST,
                                (resolves.isEmpty() ? "host path " : resolves) + "is not under any allowed directory ("
                                        + describe(roots) + ")",
                                "mount a folder under one of them, or ask the operator to allow this one"));
        Optional<CredentialNames.Match> credential =
                CredentialNames.inPath(host.normalize()).or(() -> CredentialNames.inPath(real));
        if (credential.isPresent()) {
            throw refuse.by(
                    Rule.CREDENTIALS,
                    (resolves.isEmpty() ? "" : resolves + "has a ") + "credential-like path component "
                            + credential.get().describe(),
                    "secrets never enter a sandbox; the egress proxy injects credentials where an agent needs them");
        }
        boolean directory = Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS);
        if (!directory && !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            // A socket, fifo or device: a way to talk to a host process, not a folder of files.
            throw refuse.by(
                    Rule.HOST_PATH,
                    (resolves.isEmpty() ? "host path " : resolves) + "is neither a directory nor a regular file",
                    "mount the folder of files the agent needs");
        }
        if (directory && !root.allowCredentials()) {
            Optional<CredentialNames.Match> inside;
            try {
                inside = CredentialNames.atTopLevelOf(real);
            } catch (IOException e) {
                throw refuse.by(
                        Rule.HOST_PATH,
                        "cannot list " + real + " to look for credentials (" + e + ")",
                        "check its permissions");
            }
            if (inside.isPresent()) {
                throw refuse.by(
                        Rule.CREDENTIALS,
                        "holds a credential-like entry " + inside.get().describe() + " at its top level",
                        "mount a subfolder without it, or, if it holds no secret, set allow_credentials: true on"
                                + " allowlist entry " + root.path());
            }
        }
        Optional<String> badTarget = Targets.problem(request.target());
        if (badTarget.isPresent()) {
            throw refuse.by(Rule.TARGET, badTarget.get(), "choose a target such as /mnt/<name>");
        }
        return new Mount(real, request.target(), mode(request, root, policyAllowsWrite, refuse));
    }

    /**
     * Decides all of an agent's requests together: each as {@link #check}, and then no two targets
     * may be equal or nested, and no target may equal, lie inside or contain a target of {@code
     * systemMounts} (the daemon's own mounts for this sandbox, such as a Java home outside /usr).
     *
     * @param requests in the policy's order
     * @param policyAllowsWrite as for {@link #check}, for every request
     * @param systemMounts the mounts the daemon adds itself; only their targets are read
     * @return the mounts to append to the spec, in the order of {@code requests}
     * @throws MountException on the first refusal; nothing is returned for the others
     */
    public List<Mount> checkAll(List<MountRequest> requests, boolean policyAllowsWrite, List<Mount> systemMounts) {
        List<Mount> granted = new ArrayList<>();
        for (MountRequest request : requests) {
            Mount mount = check(request, policyAllowsWrite);
            Refusal refuse = new Refusal(request);
            for (Mount system : systemMounts) {
                if (Targets.overlap(mount.target(), system.target())) {
                    throw refuse.by(
                            Rule.TARGET,
                            "target overlaps the sandbox's own mount at " + system.target(),
                            "choose a target such as /mnt/<name>");
                }
            }
            for (int i = 0; i < granted.size(); i++) {
                if (Targets.overlap(mount.target(), granted.get(i).target())) {
                    throw refuse.by(
                            Rule.TARGET,
                            "target overlaps the mount of " + requests.get(i).hostPath() + " at "
                                    + requests.get(i).target(),
                            "give each mount its own target, side by side");
                }
            }
            granted.add(mount);
        }
        return List.copyOf(granted);
    }

    private static Mode mode(MountRequest request, AllowedRoot root, boolean policyAllowsWrite, Refusal refuse) {
        return switch (request.mode()) {
            case READ_ONLY -> Mode.READ_ONLY;
            case READ_WRITE -> {
                boolean rootAllows = root.mode() == Mode.READ_WRITE;
                if (rootAllows && policyAllowsWrite) {
                    yield Mode.READ_WRITE;
                }
                String entry = "allowlist entry " + root.path() + " is read-only";
                String policy = "the agent's policy does not allow writes to host folders";
                String why;
                String who;
                if (rootAllows) {
                    why = policy;
                    who = "the agent's policy";
                } else if (policyAllowsWrite) {
                    why = entry;
                    who = "the operator (mode: rw on the allowlist entry)";
                } else {
                    why = entry + ", and " + policy;
                    who = "both the operator and the agent's policy";
                }
                throw refuse.by(
                        Rule.READ_WRITE,
                        "read-write refused: " + why,
                        "ask for mode ro, or have " + who + " allow writes");
            }
        };
    }

    private static void checkSystem(Path path, List<Path> trees, List<Path> exact, EntryRefusal refuse) {
        for (Path tree : trees) {
            if (path.startsWith(tree)) {
                throw refuse.by(
                        Rule.SYSTEM_PATH,
                        (path.equals(tree) ? "is " : "is inside ") + "the host system directory " + tree,
                        "allow a directory made for agents' data, such as /srv/<name>");
            }
        }
        if (exact.contains(path)) {
            throw refuse.by(
                    Rule.SYSTEM_PATH,
                    "is " + path + ", which holds every user's or process's files at once",
                    "allow a folder inside it instead");
        }
    }

    private static void checkHome(Path path, Path homeLexical, Path homeReal, EntryRefusal refuse) {
        for (Path home : List.of(homeLexical, homeReal)) {
            if (path.startsWith(home) || home.startsWith(path)) {
                throw refuse.by(
                        Rule.CORDON_HOME,
                        (path.startsWith(home) ? "is inside" : "contains") + " the Cordon home " + home
                                + ", where the database, sockets and every agent's workspace live",
                        "allow a directory outside it");
            }
        }
    }

    private static List<Path> paths(String... paths) {
        return Stream.of(paths).map(Path::of).toList();
    }

    /** Each path and, where it is a symlink or under one (/var/run, /lib), its real path too. */
    private static List<Path> withRealPaths(List<Path> paths) {
        List<Path> all = new ArrayList<>(paths);
        for (Path p : paths) {
            Path real = realOrLexical(p);
            if (!all.contains(real)) {
                all.add(real);
            }
        }
        return all;
    }

    private static Path realOrLexical(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    private static String describe(List<AllowedRoot> roots) {
        return roots.stream()
                .map(r -> r.path() + (r.mode() == Mode.READ_WRITE ? " rw" : " ro"))
                .collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return "MountAllowlist[" + describe(roots) + "]";
    }

    private record Refusal(MountRequest request) {
        MountException by(Rule rule, String why, String next) {
            return new MountException(
                    rule,
                    "mount " + request.hostPath() + " -> " + request.target() + " refused: " + why + " (rule: "
                            + rule.label() + "); " + next);
        }
    }

    private record EntryRefusal(Object entry) {
        MountException by(Rule rule, String why, String next) {
            return new MountException(
                    rule,
                    "mount allowlist entry " + entry + " refused: " + why + " (rule: " + rule.label() + "); " + next);
        }
    }
}
