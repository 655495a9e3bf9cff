package dev.cordon.core.sandbox;

/** A resource that a cgroup caps for one sandbox. */
public enum Limit {
    /** Resident memory plus swap, in bytes; the kernel OOM-kills inside the group when it is exceeded. */
    MEMORY,
    /** Processes and threads alive at once; {@code fork} and {@code clone} fail with EAGAIN beyond it. */
    PIDS,
    /** CPU time per 100 ms period; the group is throttled, never killed, beyond it. */
    CPU
}
