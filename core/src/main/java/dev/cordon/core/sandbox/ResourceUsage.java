package dev.cordon.core.sandbox;

/**
 * What a sandbox has consumed, read from the kernel at one moment. A value is -1 when the backend
 * or host does not report it.
 *
 * @param memoryBytes memory charged to the sandbox now (page cache and tmpfs pages included)
 * @param memoryPeakBytes the most ever charged to it
 * @param pids processes and threads alive in it now
 * @param cpuNanos CPU time used by everything that ever ran in it, user plus system
 * @param pidsLimitHits how often a fork or clone failed because the sandbox was at its process limit
 */
public record ResourceUsage(long memoryBytes, long memoryPeakBytes, long pids, long cpuNanos, long pidsLimitHits) {}
