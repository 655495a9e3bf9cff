package dev.cordon.runner.tools;

import java.nio.file.Path;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Striped locks keyed by normalized absolute path, so that two parallel {@code edit} calls on one
 * file cannot both read the old content and lose one change. Paths that alias through symlinks are
 * not unified; it is a guardrail, not a guarantee. Thread-safe.
 */
final class FileLocks {
    private static final int STRIPES = 64;

    private final Lock[] stripes = new Lock[STRIPES];

    FileLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    Lock lockFor(Path path) {
        return stripes[Math.floorMod(path.toAbsolutePath().normalize().hashCode(), STRIPES)];
    }
}
