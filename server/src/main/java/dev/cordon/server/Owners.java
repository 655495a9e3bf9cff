package dev.cordon.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Hands files to a sandbox uid. Only used when the daemon runs as root. */
final class Owners {
    private Owners() {}

    static void chown(Path path, int uid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Chowns a workspace tree. Symlinks are changed themselves, never followed: an agent could plant
     * a link to a host file in its workspace to get it handed over.
     */
    static void chownTree(Path root, int uid) throws IOException {
        if (((Integer) Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS)) == uid) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.forEach(p -> {
                try {
                    chown(p, uid);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
