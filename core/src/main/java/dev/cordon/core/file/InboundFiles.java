package dev.cordon.core.file;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.store.Store.ReceivedFile;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.Channels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fetches the files people send into the host's {@link FileVault}, each up to the host's limit
 * ({@code files.max_mb}, the limit an agent's {@code send_file} has too). A file that is too large
 * or cannot be fetched is not an error: it becomes a {@link ReceivedFile} with the problem in
 * words for the agent, and the message that carried it is stored all the same. Thread-safe; blocks
 * while it downloads.
 *
 * <p>A download that fails for a reason that may pass (the platform's 408, 429 or 5xx, {@link
 * Attachment.Unavailable}; a refused or reset connection; a timeout; a body cut short) is tried
 * again, {@link #ATTEMPTS} times in all, after 1 s and 2 s or the platform's {@code Retry-After} up
 * to {@link #MAX_WAIT}. One that will not pass (a 404, a refused token, a file too large) is not.
 * The waits are bounded because the adapter's intake waits with them.
 */
public final class InboundFiles {
    /** Tries per file, the first included. */
    public static final int ATTEMPTS = 3;

    /** The longest wait between tries, whatever the platform's {@code Retry-After} says. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(5);

    private final FileVault vault;
    private final long maxBytes;
    private final Duration firstWait;

    /** The rule a file too large for the host was refused by, for the audit log. */
    public static final String RULE = "files.max_mb";

    private static final String TOO_LARGE = "larger than ";

    /** Files into {@code vault}, each at most {@code maxBytes}. */
    public InboundFiles(FileVault vault, long maxBytes) {
        this(vault, maxBytes, Duration.ofSeconds(1));
    }

    /** As above, with the wait before the second try {@code firstWait} (doubling after): tests pass a short one. */
    InboundFiles(FileVault vault, long maxBytes, Duration firstWait) {
        this.vault = vault;
        this.maxBytes = maxBytes;
        this.firstWait = firstWait;
    }

    /** A host that keeps no files (no vault): each file is noted as not kept, its message stored. */
    public static InboundFiles none() {
        return new InboundFiles(null, 0);
    }

    /**
     * {@code message} as it is held for an admin's decision (sender policy {@code approval}): its
     * files are not fetched, so its text ends with a note naming them; the message itself when it
     * has none.
     */
    public static NewInbound noteUnkept(NewInbound message) {
        if (message.files().isEmpty()) {
            return message;
        }
        String names = String.join(
                ", ",
                FileNames.distinct(
                        message.files().stream().map(InboundFile::name).toList()));
        String text = (message.text().strip() + "\n\n[Files sent with this message were not kept while the sender"
                        + " waited for an admin: " + names + ". Ask for them again.]")
                .strip();
        return new NewInbound(
                message.channel(),
                message.platformChatId(),
                message.platformMessageId(),
                message.senderId(),
                text,
                message.mentioned(),
                message.threadId(),
                message.replyToPlatformMessageId(),
                message.files());
    }

    /** {@link #RULE} if {@code file} was refused as too large, else null (it was not kept for another reason, or was kept). */
    public static String ruleOf(ReceivedFile file) {
        return file.problem() != null && file.problem().startsWith(TOO_LARGE) ? RULE : null;
    }

    /** The largest file kept, in bytes. */
    public long maxBytes() {
        return maxBytes;
    }

    /**
     * Fetches each file, in order, with its name sanitised and distinct from the others'. Never
     * throws for a file's sake: what went wrong is in that file's {@link ReceivedFile#problem}.
     */
    public List<ReceivedFile> receive(List<InboundFile> files) {
        List<String> names =
                FileNames.distinct(files.stream().map(InboundFile::name).toList());
        List<ReceivedFile> received = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            received.add(receive(files.get(i), names.get(i)));
        }
        return received;
    }

    private ReceivedFile receive(InboundFile file, String name) {
        String type = file.mediaType().isBlank() ? MediaTypes.of(name) : file.mediaType();
        if (vault == null) {
            return new ReceivedFile(name, type, file.size(), null, "not kept: this host has no file vault");
        }
        if (file.size() > maxBytes) {
            // The platform says so: no need to download what would be thrown away.
            return new ReceivedFile(name, type, file.size(), null, tooLarge());
        }
        Duration wait = firstWait;
        for (int attempt = 1; ; attempt++) {
            try (InputStream in = file.bytes().open()) {
                FileVault.Blob blob = vault.put(Channels.newChannel(in), maxBytes);
                return new ReceivedFile(name, type, blob.size(), blob.sha256(), null);
            } catch (FileVault.TooLarge e) {
                return new ReceivedFile(name, type, file.size(), null, tooLarge());
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                if (attempt == ATTEMPTS || !mayPass(e)) {
                    return new ReceivedFile(
                            name,
                            type,
                            file.size(),
                            null,
                            "could not be fetched" + (attempt > 1 ? " (" + attempt + " tries)" : "") + ": " + why);
                }
                Duration asked = e instanceof Attachment.Unavailable u ? u.retryAfter() : null;
                Duration pause = asked == null ? wait : asked.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : asked;
                wait = wait.multipliedBy(2);
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return new ReceivedFile(name, type, file.size(), null, "could not be fetched: " + why);
                }
            }
        }
    }

    /** Whether a failed download may work if tried again. */
    private static boolean mayPass(Exception e) {
        return e instanceof Attachment.Unavailable
                || e instanceof SocketException // refused, reset
                || e instanceof SocketTimeoutException
                || e instanceof HttpTimeoutException
                || e instanceof EOFException; // a body cut short
    }

    private String tooLarge() {
        return TOO_LARGE + Sizes.human(maxBytes) + ", this host's limit (files.max_mb in cordon.yaml)";
    }
}
