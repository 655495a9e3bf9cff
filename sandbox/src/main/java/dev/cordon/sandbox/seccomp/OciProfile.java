package dev.cordon.sandbox.seccomp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link DefaultPolicy} as the {@code linux.seccomp} object of an OCI runtime's {@code config.json}:
 * the same denylist, errnos and argument conditions that the BPF program of the bubblewrap backend
 * holds, for the runtime's libseccomp (runc) or its own filter (gVisor with {@code --oci-seccomp})
 * to compile.
 *
 * <p>Argument conditions compare the low 32 bits only ({@code SCMP_CMP_MASKED_EQ} with a 32-bit
 * mask), for the reason {@link ArgCheck} gives: a plain {@code SCMP_CMP_EQ} on ioctl's request would
 * be bypassed by setting high bits the kernel then drops. Only the native architecture is listed:
 * libseccomp refuses calls through any other ABI (i386 and x32 on x86_64), as the BPF program does.
 */
final class OciProfile {
    private static final long LOW_32 = 0xffff_ffffL;

    private OciProfile() {}

    static Map<String, Object> of(Architecture arch) {
        List<Object> syscalls = new ArrayList<>();
        for (DefaultPolicy.Entry entry : DefaultPolicy.ENTRIES) {
            String name = entry.syscall().name();
            if (arch.number(name).isEmpty()) {
                continue;
            }
            int errno = entry.syscall().errno().number();
            switch (entry.check()) {
                case ArgCheck.Always() -> syscalls.add(rule(name, errno, List.of()));
                case ArgCheck.AnyBitSet(int arg, int mask) -> {
                    // Denied when any bit of the mask is set: one rule per bit (rules for one call are ORed).
                    for (int bit = 0; bit < 32; bit++) {
                        long one = 1L << bit;
                        if ((mask & one) != 0) {
                            syscalls.add(rule(name, errno, List.of(masked(arg, one, one))));
                        }
                    }
                }
                case ArgCheck.EqualsAny(int arg, List<Integer> values) -> {
                    for (int value : values) {
                        syscalls.add(rule(name, errno, List.of(masked(arg, LOW_32, value & LOW_32))));
                    }
                }
                case ArgCheck.EqualsNone(int arg, List<Integer> values) -> {
                    // Denied unless one of the values: a bit that none of them has is set, and the whole
                    // argument is not one of them either (0xffffffff, the query, has every bit).
                    long allowedBits = 0;
                    for (int value : values) {
                        if ((value & LOW_32) != LOW_32) {
                            allowedBits |= value & LOW_32;
                        }
                    }
                    for (int bit = 0; bit < 32; bit++) {
                        long one = 1L << bit;
                        if ((allowedBits & one) == 0) {
                            List<Object> args = new ArrayList<>(List.of(masked(arg, one, one)));
                            for (int value : values) {
                                if ((value & one) != 0) {
                                    args.add(Map.of("index", arg, "value", value & LOW_32, "op", "SCMP_CMP_NE"));
                                }
                            }
                            syscalls.add(rule(name, errno, args));
                        }
                    }
                }
            }
        }
        Map<String, Object> profile = new LinkedHashMap<>();
        profile.put("defaultAction", "SCMP_ACT_ALLOW");
        profile.put("architectures", List.of(arch == Architecture.X86_64 ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64"));
        profile.put("syscalls", syscalls);
        return profile;
    }

    private static Map<String, Object> masked(int arg, long mask, long value) {
        return Map.of("index", arg, "value", mask, "valueTwo", value, "op", "SCMP_CMP_MASKED_EQ");
    }

    private static Map<String, Object> rule(String name, int errno, List<Object> args) {
        Map<String, Object> rule = new LinkedHashMap<>();
        rule.put("names", List.of(name));
        rule.put("action", "SCMP_ACT_ERRNO");
        rule.put("errnoRet", errno);
        if (!args.isEmpty()) {
            rule.put("args", args);
        }
        return rule;
    }
}
