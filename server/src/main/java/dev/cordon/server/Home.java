package dev.cordon.server;

import dev.cordon.core.AgentName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The layout of a Cordon home ({@code ~/.cordon} by default). The home is mode 0700: it holds the
 * database, the control socket and the logs, and no sandbox ever sees any of it except its own
 * agent's workspace and its own run directory.
 */
record Home(Path root) {
    Home {
        root = root.toAbsolutePath().normalize();
    }

    void create() throws IOException {
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        for (Path dir : new Path[] {data(), agents(), run().resolve("sandboxes"), logs().resolve("sandboxes")}) {
            Files.createDirectories(dir);
        }
    }

    Path data() {
        return root.resolve("data");
    }

    Path database() {
        return data().resolve("cordon.db");
    }

    /** The audit log's Ed25519 signing key (0600); its public half sits beside it. */
    Path auditKey() {
        return root.resolve("keys").resolve("audit-ed25519");
    }

    /** The secret vault: encrypted values and their bindings (docs/egress.md). */
    Path vault() {
        return root.resolve("secrets").resolve("vault.json");
    }

    /** The vault's AES key (0600). Back it up with the vault: without it no secret decrypts. */
    Path vaultKey() {
        return root.resolve("keys").resolve("vault.key");
    }

    /**
     * The key file links are signed with (0600). Replicas need the same one: a link one sends is
     * opened on whichever serves it (docs/deploy-kubernetes.md).
     */
    Path fileLinksKey() {
        return root.resolve("keys").resolve("file-links.key");
    }

    Path agents() {
        return root.resolve("agents");
    }

    Path agent(AgentName name) {
        return agents().resolve(name.value());
    }

    Path workspace(AgentName name) {
        return agent(name).resolve("workspace");
    }

    Path run() {
        return root.resolve("run");
    }

    Path controlSocket() {
        return run().resolve("control.sock");
    }

    Path pidFile() {
        return run().resolve("daemon.pid");
    }

    Path sandboxRunDir(String sandboxId) {
        return run().resolve("sandboxes").resolve(sandboxId);
    }

    Path logs() {
        return root.resolve("logs");
    }

    Path sandboxLog(String sandboxId) {
        return logs().resolve("sandboxes").resolve(sandboxId + ".log");
    }
}
