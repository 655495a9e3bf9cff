package dev.cordon.server;

import dev.cordon.core.file.FileVault;
import dev.cordon.core.store.Store;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the files of the home's vault that no stored message has needed for {@code
 * files.keep_days} (docs/agents.md, "How long files are kept"): a file an undelivered reply or an unhandled
 * message carries stays however old it is.
 */
final class FileRetention {
    private static final Logger LOG = LoggerFactory.getLogger(FileRetention.class);
    /** How often the vault is swept; the first sweep runs when the daemon starts. */
    static final Duration EVERY = Duration.ofHours(6);

    private final FileVault vault;
    private final Store store;
    private final Duration retention;
    private final Clock clock;

    FileRetention(FileVault vault, Store store, Duration retention, Clock clock) {
        this.vault = vault;
        this.store = store;
        this.retention = retention;
        this.clock = clock;
    }

    /** One sweep now. The store is read before the folder, so a message stored meanwhile has a newer file. */
    FileVault.Swept sweep() throws IOException {
        Instant before = clock.instant().minus(retention);
        return vault.sweep(before, store.filesInUse(before));
    }

    /** Sweeps now and every {@link #EVERY}, each time on a thread of its own (the timer is shared). */
    void schedule(ScheduledExecutorService timer) {
        timer.scheduleWithFixedDelay(
                () -> Thread.ofVirtual().name("file-retention").start(this::sweepLogged),
                0,
                EVERY.toMinutes(),
                TimeUnit.MINUTES);
    }

    /** "30 days", "36 hours": for the log, not {@code PT720H}. */
    static String words(Duration d) {
        long hours = d.toHours();
        return hours % 24 == 0
                ? hours / 24 + (hours == 24 ? " day" : " days")
                : hours + (hours == 1 ? " hour" : " hours");
    }

    private void sweepLogged() {
        try {
            FileVault.Swept swept = sweep();
            if (swept.files() > 0) {
                LOG.info(
                        "file vault {}: deleted {} file(s), {} bytes, that no message has needed for {} (files.keep_days)",
                        vault.dir(),
                        swept.files(),
                        swept.bytes(),
                        words(retention));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "file vault {}: cannot sweep it now, trying again in {}: {}",
                    vault.dir(),
                    words(EVERY),
                    e.toString());
        }
    }
}
