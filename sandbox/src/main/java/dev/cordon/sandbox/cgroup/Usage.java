package dev.cordon.sandbox.cgroup;

/**
 * What a sandbox's group has consumed, read from the kernel's counters at one moment. A value is -1
 * when this host does not report it (for example {@code memory.peak} before Linux 5.19).
 *
 * @param memoryBytes memory charged to the group now (page cache and tmpfs pages included)
 * @param memoryPeakBytes the most ever charged to the group
 * @param pids processes and threads alive in the group now
 * @param cpuNanos CPU time used by everything that ever ran in the group, user plus system
 */
public record Usage(long memoryBytes, long memoryPeakBytes, long pids, long cpuNanos) {}
