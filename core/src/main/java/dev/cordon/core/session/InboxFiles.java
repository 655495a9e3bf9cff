package dev.cordon.core.session;

import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Ids.InboundId;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.Sizes;
import dev.cordon.core.store.Store.ReceivedFile;
import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ToolRules;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The files people sent with a turn's messages, on their way into the agent's workspace: the
 * listing the model reads with each message, and the pieces the runner writes ({@link
 * HostMessage.PutFile}). The host never writes into a workspace itself: the runner does, inside its
 * sandbox, whatever the backend (bubblewrap, a pod, a VM), so nothing here assumes the workspace is
 * a folder of this host's.
 */
final class InboxFiles {
    /** A kept file and where it goes: {@code path} relative to the workspace. */
    record Put(String path, String sha256) {}

    private InboxFiles() {}

    /** Where a file of message {@code id} goes, relative to the workspace. */
    static String path(InboundId id, String name) {
        return "inbox/" + id.value() + "/" + name;
    }

    /**
     * The message's text as the model reads it: the sender's words, then one line per file, kept
     * ({@code /workspace/inbox/12/a.pdf (application/pdf, 3 KiB)}) or not (which, and why).
     */
    static String text(Inbound message, List<ReceivedFile> files) {
        if (files == null || files.isEmpty()) {
            return message.text();
        }
        StringBuilder text = new StringBuilder(message.text().strip());
        if (!text.isEmpty()) {
            text.append("\n\n");
        }
        text.append("[Files sent with this message:");
        for (ReceivedFile f : files) {
            text.append("\n- ");
            if (f.kept()) {
                text.append(ToolRules.WORKSPACE)
                        .append('/')
                        .append(path(message.id(), f.name()))
                        .append(" (")
                        .append(f.mediaType())
                        .append(", ")
                        .append(Sizes.human(f.size()))
                        .append(')');
            } else {
                text.append(f.name()).append(" did not arrive: ").append(f.problem());
            }
        }
        return text.append(']').toString();
    }

    /** The kept files of a turn's messages, in order. */
    static List<Put> puts(Map<InboundId, List<ReceivedFile>> files) {
        List<Put> puts = new ArrayList<>();
        files.forEach((id, list) -> list.stream()
                .filter(ReceivedFile::kept)
                .forEach(f -> puts.add(new Put(path(id, f.name()), f.sha256()))));
        return puts;
    }

    /**
     * Sends each file to the runner in pieces; the runner answers each with {@link
     * dev.cordon.protocol.RunnerMessage.FileWritten} during the turn. Blocks while it sends.
     *
     * @return the files the vault no longer has (not sent), each as its path
     * @throws IOException if the channel breaks
     */
    static List<String> send(RunnerLink runner, FileVault vault, List<Put> puts) throws IOException {
        List<String> lost = new ArrayList<>();
        for (Put put : puts) {
            if (vault.path(put.sha256()).isEmpty()) {
                lost.add(put.path());
                continue;
            }
            try (InputStream in = vault.open(put.sha256())) {
                long offset = 0;
                byte[] piece = in.readNBytes(HostMessage.PutFile.CHUNK);
                while (true) {
                    byte[] next = in.readNBytes(HostMessage.PutFile.CHUNK);
                    boolean last = next.length == 0;
                    runner.send(new HostMessage.PutFile(put.path(), offset, piece, last));
                    if (last) {
                        break;
                    }
                    offset += piece.length;
                    piece = next;
                }
            }
        }
        return lost;
    }
}
