package dev.cordon.sandbox.seccomp;

/** The error numbers the filter returns for a denied call (the same on x86_64 and aarch64). */
public enum Errno {
    /** "Operation not permitted": what a process without the needed capability gets anyway. */
    EPERM(1),
    /** "Function not implemented": tells libc to fall back to an older call. */
    ENOSYS(38);

    private final int number;

    Errno(int number) {
        this.number = number;
    }

    /** The value a caller sees in {@code errno}. */
    public int number() {
        return number;
    }
}
