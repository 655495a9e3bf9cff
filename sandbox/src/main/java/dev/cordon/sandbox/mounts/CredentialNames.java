package dev.cordon.sandbox.mounts;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Names under which tools keep secrets: SSH and GPG keys, cloud and cluster credentials, package
 * registry tokens, dotenv files, private keys. A mount must not carry one into a sandbox (design
 * invariant 4: no secret ever enters a sandbox). Matching is case-insensitive; this is a denylist
 * of well-known names, a tripwire against the obvious mistake, not proof that a folder holds no
 * secret.
 */
final class CredentialNames {
    private CredentialNames() {}

    /**
     * Consecutive path components. A single-component pattern may start or end with {@code *}
     * ({@code *.pem}, {@code id_rsa*}); a multi-component one is literal, so that it can be looked
     * up with {@link Path#resolve} instead of a recursive listing.
     */
    record Pattern(List<String> parts) {
        Pattern {
            parts = List.copyOf(parts);
            if (parts.size() > 1 && parts.stream().anyMatch(p -> p.contains("*"))) {
                throw new IllegalArgumentException("multi-component patterns are literal: " + parts);
            }
        }

        static Pattern of(String text) {
            return new Pattern(List.of(text.split("/")));
        }

        String text() {
            return String.join("/", parts);
        }

        /** Whether the whole pattern matches {@code components} from {@code start}. */
        boolean matches(List<String> components, int start) {
            return matches(components, start, parts.size());
        }

        /** Whether the first {@code count} parts match {@code components} from {@code start}. */
        boolean matches(List<String> components, int start, int count) {
            for (int i = 0; i < count; i++) {
                if (!matches(parts.get(i), components.get(start + i))) {
                    return false;
                }
            }
            return true;
        }

        private static boolean matches(String glob, String name) {
            String n = name.toLowerCase(Locale.ROOT);
            if (glob.startsWith("*")) {
                return n.endsWith(glob.substring(1));
            }
            if (glob.endsWith("*")) {
                return n.startsWith(glob.substring(0, glob.length() - 1));
            }
            return n.equals(glob);
        }
    }

    /** Where a pattern matched: {@code found} is the name (or relative path) as it is on disk. */
    record Match(Pattern pattern, String found) {
        /** {@code '.ssh'}, or {@code 'id_rsa.pub' (matches 'id_rsa*')}. */
        String describe() {
            String text = pattern.text();
            return found.equalsIgnoreCase(text) ? "'" + found + "'" : "'" + found + "' (matches '" + text + "')";
        }
    }

    /** Lower case; see docs/mounts.md for why each is here. */
    static final List<Pattern> PATTERNS = List.of(
                    // directories of keys and tokens
                    ".ssh",
                    ".gnupg",
                    ".aws",
                    ".azure",
                    ".kube",
                    ".docker",
                    ".password-store",
                    ".config/gcloud",
                    ".config/gh",
                    ".local/share/keyrings",
                    ".terraform.d/credentials.tfrc.json",
                    ".cargo/credentials",
                    ".cargo/credentials.toml",
                    ".m2/settings.xml",
                    ".m2/settings-security.xml",
                    // single files holding tokens or passwords
                    ".npmrc",
                    ".pypirc",
                    ".netrc",
                    ".git-credentials",
                    ".pgpass",
                    ".my.cnf",
                    ".s3cfg",
                    ".boto",
                    ".vault-token",
                    ".env",
                    ".env.*",
                    // private keys
                    "id_rsa*",
                    "id_dsa*",
                    "id_ecdsa*",
                    "id_ed25519*",
                    "*.pem",
                    "*.key",
                    "*.p12",
                    "*.pfx",
                    "*.ppk")
            .stream()
            .map(Pattern::of)
            .toList();

    static List<String> components(Path path) {
        List<String> names = new ArrayList<>(path.getNameCount());
        for (Path name : path) {
            names.add(name.toString());
        }
        return names;
    }

    /** The first pattern that matches consecutive components anywhere in {@code path}. */
    static Optional<Match> inPath(Path path) {
        List<String> c = components(path);
        for (int start = 0; start < c.size(); start++) {
            for (Pattern p : PATTERNS) {
                if (start + p.parts().size() <= c.size() && p.matches(c, start)) {
                    return Optional.of(new Match(
                            p,
                            String.join("/", c.subList(start, start + p.parts().size()))));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The first credential-like entry that mounting {@code dir} would expose at its top level: a
     * child whose name matches ({@code dir/.ssh}), or the rest of a multi-component pattern that
     * {@code dir} starts or continues ({@code dir/.config/gcloud}; {@code .config} +
     * {@code gcloud}). Deeper entries are not looked for. Symlinks among them are not followed:
     * their names are what the sandbox sees.
     *
     * @throws IOException if {@code dir} cannot be listed
     */
    static Optional<Match> atTopLevelOf(Path dir) throws IOException {
        List<String> c = components(dir);
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path child : children) {
                List<String> withChild = new ArrayList<>(c);
                withChild.add(child.getFileName().toString());
                for (Pattern p : PATTERNS) {
                    int start = withChild.size() - p.parts().size();
                    if (start >= 0 && p.matches(withChild, start)) {
                        return Optional.of(new Match(p, String.join("/", withChild.subList(start, withChild.size()))));
                    }
                }
            }
        }
        for (Pattern p : PATTERNS) {
            int k = p.parts().size();
            // i parts of the pattern are already the last components of dir; the rest lie below it.
            // i = k - 1 (one part below) was covered by the listing above.
            for (int i = 0; i <= k - 2; i++) {
                if (c.size() >= i && p.matches(c, c.size() - i, i)) {
                    String rest = String.join("/", p.parts().subList(i, k));
                    if (Files.exists(dir.resolve(rest), LinkOption.NOFOLLOW_LINKS)) {
                        List<String> found = new ArrayList<>(c.subList(c.size() - i, c.size()));
                        found.add(rest);
                        return Optional.of(new Match(p, String.join("/", found)));
                    }
                }
            }
        }
        return Optional.empty();
    }
}
