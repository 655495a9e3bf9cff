package dev.cordon.runner.tools;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * Lists the regular files under a directory for {@code glob} and {@code grep}. Does not follow
 * symlinked directories (no cycles, no escaping the tree by accident) but lists symlinks to regular
 * files; skips {@code .git} directories; skips what it cannot read and counts it rather than
 * failing. Stops early, with the interrupt flag still set, if the thread is interrupted.
 */
final class FileWalk {
    record Found(Path path, FileTime modified) {}

    record Result(List<Found> files, int unreadable) {}

    /** Something under the tree that may be included. */
    interface Filter {
        boolean accept(Path relative);
    }

    private FileWalk() {}

    /**
     * @param maxDepth how many levels below {@code base} to look (1 = only its own entries)
     * @throws IOException only if {@code base} itself cannot be walked
     */
    static Result files(Path base, int maxDepth, Filter filter) throws IOException {
        List<Found> found = new ArrayList<>();
        int[] unreadable = {0};
        Files.walkFileTree(base, EnumSet.noneOf(java.nio.file.FileVisitOption.class), maxDepth, new FileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (Thread.currentThread().isInterrupted()) {
                    return FileVisitResult.TERMINATE;
                }
                boolean git = !dir.equals(base)
                        && dir.getFileName() != null
                        && dir.getFileName().toString().equals(".git");
                return git ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                BasicFileAttributes target = attrs;
                if (attrs.isSymbolicLink()) {
                    try {
                        target = Files.readAttributes(file, BasicFileAttributes.class);
                    } catch (IOException e) {
                        return FileVisitResult.CONTINUE; // dangling link
                    }
                }
                if (target.isRegularFile() && filter.accept(base.relativize(file))) {
                    found.add(new Found(file, target.lastModifiedTime()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                unreadable[0]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                if (e != null) {
                    unreadable[0]++;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Result(found, unreadable[0]);
    }
}
