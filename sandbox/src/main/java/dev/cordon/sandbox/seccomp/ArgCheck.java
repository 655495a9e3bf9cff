package dev.cordon.sandbox.seccomp;

import java.util.List;

/**
 * When a rule's syscall is denied. Argument checks compare only the low 32 bits of an argument, so
 * they are used only for arguments the kernel itself truncates to 32 bits (clone's flags, ioctl's
 * request, personality's persona). That matters both ways: a 64-bit compare on a truncated argument
 * is bypassed by setting high bits (flatpak's TIOCSTI filter, CVE-2019-10063), and a 32-bit compare
 * on a full 64-bit argument would let high bits slip past an allowlist.
 */
sealed interface ArgCheck {
    /** Every call is denied. */
    record Always() implements ArgCheck {}

    /** Denied when any bit of {@code mask} is set in argument {@code arg}. */
    record AnyBitSet(int arg, int mask) implements ArgCheck {}

    /** Denied when argument {@code arg} equals one of {@code values}. */
    record EqualsAny(int arg, List<Integer> values) implements ArgCheck {
        public EqualsAny {
            values = List.copyOf(values);
        }
    }

    /** Denied unless argument {@code arg} equals one of {@code values} (an allowlist). */
    record EqualsNone(int arg, List<Integer> values) implements ArgCheck {
        public EqualsNone {
            values = List.copyOf(values);
        }
    }
}
