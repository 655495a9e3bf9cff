package dev.cordon.core.message;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.dlp.DlpAction;
import dev.cordon.core.dlp.SecretScanner;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.MediaTypes;
import dev.cordon.core.file.WorkspaceFile;
import dev.cordon.core.store.Store.OutboundFile;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What {@code send_file} does with the agent's file before its message is stored: copies it out of
 * the workspace without following links ({@link WorkspaceFile}) into the host's {@link FileVault},
 * up to the size limit, and puts a text file through the data-loss guard like a reply (a binary
 * file is not scanned). Thread-safe.
 */
public final class FileSending {
    /** The default size limit: 20 MiB. */
    public static final long DEFAULT_MAX_BYTES = 20L * 1024 * 1024;

    private final FileVault vault;
    private final Function<Agent, Path> workspace;
    private final long maxBytes;
    private final SecretScanner guard;
    private final Function<Agent, DlpAction> action;

    /**
     * @param workspace the agent's workspace folder on the host
     * @param maxBytes the largest file an agent may send
     * @param action what the agent's policy does with a reply carrying a secret ({@code dlp.replies}):
     *     a text file carrying one is sent redacted, or refused
     */
    public FileSending(
            FileVault vault,
            Function<Agent, Path> workspace,
            long maxBytes,
            SecretScanner guard,
            Function<Agent, DlpAction> action) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive");
        }
        this.vault = vault;
        this.workspace = workspace;
        this.maxBytes = maxBytes;
        this.guard = guard;
        this.action = action;
    }

    /** A file taken for sending, and the secret kinds the guard redacted from it (empty if none). */
    record Taken(OutboundFile file, String redacted) {}

    /**
     * Takes {@code path} of {@code agent}'s workspace into the vault. Blocks while it reads.
     *
     * @throws WorkspaceFile.Refused if the file may not be sent (the message says why, for the agent)
     * @throws IOException if the host cannot read or store it
     */
    Taken take(Agent agent, String path) throws WorkspaceFile.Refused, IOException {
        WorkspaceFile.Copied copied = WorkspaceFile.copy(workspace.apply(agent), path, maxBytes, vault);
        FileVault.Blob blob = copied.blob();
        String redacted = "";
        Optional<String> text = readText(blob);
        if (text.isPresent()) {
            SecretScanner scanner = guard.snapshot();
            List<SecretScanner.Finding> found = scanner.scan(text.get());
            if (!found.isEmpty()) {
                String kinds = found.stream()
                        .map(SecretScanner.Finding::kind)
                        .distinct()
                        .collect(Collectors.joining(", "));
                if (action.apply(agent) == DlpAction.BLOCK) {
                    throw new WorkspaceFile.Refused(path + " holds what looks like " + kinds
                            + "; your policy (dlp.replies: block) keeps such files on the host");
                }
                byte[] clean = scanner.redact(text.get()).getBytes(StandardCharsets.UTF_8);
                try {
                    blob = vault.put(Channels.newChannel(new ByteArrayInputStream(clean)), Long.MAX_VALUE);
                } catch (FileVault.TooLarge e) {
                    throw new IllegalStateException(e);
                }
                redacted = kinds;
            }
        }
        String name = copied.name();
        return new Taken(new OutboundFile(name, MediaTypes.of(name), blob.size(), blob.sha256()), redacted);
    }

    /** The file's bytes as text, if it is text. */
    private Optional<String> readText(FileVault.Blob blob) throws IOException {
        try (InputStream in = vault.open(blob.sha256())) {
            return MediaTypes.text(in.readAllBytes());
        }
    }
}
