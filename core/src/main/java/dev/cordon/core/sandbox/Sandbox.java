package dev.cordon.core.sandbox;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A running sandbox. Thread-safe. */
public interface Sandbox extends AutoCloseable {
    String id();

    /** Completes with the exit status of the sandboxed command once every process in it is gone. */
    CompletableFuture<Integer> exit();

    /** Whether the kernel killed a process inside for exceeding the memory limit. */
    default boolean oomKilled() {
        return false;
    }

    /**
     * What the sandbox has consumed so far; empty when the backend cannot tell. Cheap (a few small
     * file reads), callable from any thread, also after exit.
     */
    default Optional<ResourceUsage> usage() {
        return Optional.empty();
    }

    default boolean isAlive() {
        return !exit().isDone();
    }

    /** Kills every process in the sandbox and waits until they are gone. Idempotent; never throws. */
    @Override
    void close();
}
