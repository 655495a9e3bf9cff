package dev.cordon.core.sandbox;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/**
 * The caps one sandbox runs under. Zero means unlimited for that resource.
 *
 * @param memoryBytes memory plus swap, in bytes (at least 4 MiB when set: below that not even the
 *     sandbox's shell starts)
 * @param maxPids processes and threads alive at once, bwrap itself included
 * @param cpuMillicores CPU time as thousandths of one CPU: 1000 is one full core, 200 is a fifth of
 *     one; at least 10 when set (the kernel's quota floor is 1 ms per 100 ms period)
 */
public record Limits(long memoryBytes, int maxPids, int cpuMillicores) {
    /** No cap at all: the group still accounts usage and lets the sandbox backend kill everything. */
    public static final Limits UNLIMITED = new Limits(0, 0, 0);

    /** What a sandbox gets when its policy says nothing: 1 GiB, 512 pids, one core. */
    public static final Limits DEFAULTS = new Limits(1L << 30, 512, 1000);

    public Limits {
        if (memoryBytes < 0 || maxPids < 0 || cpuMillicores < 0) {
            throw new IllegalArgumentException(
                    "limits must be 0 (unlimited) or positive: " + memoryBytes + ", " + maxPids + ", " + cpuMillicores);
        }
        if (memoryBytes != 0 && memoryBytes < 4L << 20) {
            throw new IllegalArgumentException("memory limit " + memoryBytes + " is below 4 MiB");
        }
        if (cpuMillicores != 0 && cpuMillicores < 10) {
            throw new IllegalArgumentException("CPU limit " + cpuMillicores + " is below 10 millicores");
        }
    }

    /** The resources these limits cap (those that are not 0). */
    public Set<Limit> required() {
        Set<Limit> required = EnumSet.noneOf(Limit.class);
        if (memoryBytes != 0) {
            required.add(Limit.MEMORY);
        }
        if (maxPids != 0) {
            required.add(Limit.PIDS);
        }
        if (cpuMillicores != 0) {
            required.add(Limit.CPU);
        }
        return required;
    }

    /**
     * These limits with {@code dropped} set to unlimited: what an operator's explicit opt-out turns a
     * policy into when the host cannot enforce some of it.
     */
    public Limits without(Collection<Limit> dropped) {
        return new Limits(
                dropped.contains(Limit.MEMORY) ? 0 : memoryBytes,
                dropped.contains(Limit.PIDS) ? 0 : maxPids,
                dropped.contains(Limit.CPU) ? 0 : cpuMillicores);
    }
}
