package dev.cordon.runner.tools;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Kills a command together with everything it started.
 *
 * <p>{@code bash} runs each command under {@code setsid}, so the command leads a new session and
 * process group whose id is its pid; every process it forks (pipelines, {@code &} jobs, their
 * children) inherits that group unless it deliberately leaves it. Sending SIGKILL to the negative
 * group id reaches all of them at once, including jobs that were reparented away from the command
 * and so are no longer its descendants. As a fallback for processes that changed group (or when
 * {@code setsid} is missing) the current descendants are killed too, and their groups.
 *
 * <p>Java cannot signal a process group, so the group kill runs bash's builtin {@code kill}.
 */
final class ProcessGroups {
    private static final Duration SWEEP_LIMIT = Duration.ofSeconds(10);

    private ProcessGroups() {}

    /** Sends SIGKILL to the process's group, its descendants and their groups. Blocks briefly. */
    static void killAll(Process process, String bash) {
        // Snapshot before killing: once the parent dies its children are reparented and lost to us.
        List<ProcessHandle> descendants = process.descendants().toList();
        Set<Long> groups = new LinkedHashSet<>();
        groups.add(process.pid());
        for (ProcessHandle h : descendants) {
            processGroup(h.pid()).ifPresent(groups::add);
        }
        // Never our own group: without setsid the command's children share it, and so do we.
        processGroup(ProcessHandle.current().pid()).ifPresent(groups::remove);
        groups.removeIf(g -> g <= 1);
        signalGroups(groups, bash);
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        sweep(groups);
    }

    /**
     * Kills, one by one, whatever is still in {@code groups}, until nothing is or {@link
     * #SWEEP_LIMIT} passes. The group kill above needs a fork for bash's {@code kill}, and a fork
     * bomb at the sandbox's process limit leaves no room for one; killing by pid needs none, and
     * every pass frees slots faster than the bomb can refill them, so it ends in a few passes.
     */
    private static void sweep(Set<Long> groups) {
        long deadline = System.nanoTime() + SWEEP_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<ProcessHandle> left = ProcessHandle.allProcesses()
                    .filter(h -> h.pid() != ProcessHandle.current().pid())
                    .filter(h -> processGroup(h.pid()).stream().anyMatch(groups::contains))
                    .toList();
            if (left.isEmpty()) {
                return;
            }
            left.forEach(ProcessHandle::destroyForcibly);
            Thread.onSpinWait();
        }
    }

    /** The process group of {@code pid}, from {@code /proc/<pid>/stat}, if it can be read. */
    static OptionalLong processGroup(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so skip past the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ", 4);
            return fields.length >= 3 ? OptionalLong.of(Long.parseLong(fields[2])) : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    private static void signalGroups(Set<Long> groups, String bash) {
        if (groups.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of(bash, "-c", "kill -KILL -- \"$@\"", "kill"));
        groups.forEach(g -> command.add("-" + g));
        Process kill;
        try {
            kill = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return; // no shell to signal with: the per-process fallback in killAll still runs
        }
        // Wait even if interrupted (we are often here because of an interrupt), then restore the flag.
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                if (!kill.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    kill.destroyForcibly();
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
