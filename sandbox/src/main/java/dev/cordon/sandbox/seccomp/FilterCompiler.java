package dev.cordon.sandbox.seccomp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compiles a denylist into a classic-BPF seccomp program. The layout, in order:
 *
 * <ol>
 *   <li>the architecture check: any call not of the native ABI (i386 {@code int 0x80} on x86_64,
 *       arm32 on aarch64) kills the process, because its syscall numbers mean different calls;
 *   <li>on x86_64, x32 ABI numbers (bit 30 set) kill the process, for the same reason;
 *   <li>one {@code jeq} per rule on the syscall number, jumping to an errno return or to the rule's
 *       argument block;
 *   <li>a jump to allow for everything else;
 *   <li>the argument blocks, then the shared returns: errno(s), kill, and allow last.
 * </ol>
 *
 * All jumps go forward (the kernel rejects anything else); a conditional jump reaches at most 255
 * instructions ahead, which {@link #compile} checks.
 */
final class FilterCompiler {
    static final int X32_SYSCALL_BIT = 0x40000000;
    /** BPF_MAXINSNS: the kernel refuses longer programs. */
    static final int MAX_INSTRUCTIONS = 4096;

    private static final String ALLOW = "allow";
    private static final String KILL = "kill";

    private final List<Pending> code = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    private FilterCompiler() {}

    /**
     * Compiles {@code rules} for {@code arch}. Rules naming a syscall the architecture lacks are
     * skipped (iopl on aarch64).
     *
     * @throws IllegalArgumentException if a rule names a syscall no supported architecture has, or
     *     two rules name the same syscall
     */
    static List<Instruction> compile(Architecture arch, List<Rule> rules) {
        Set<String> seen = new HashSet<>();
        for (Rule rule : rules) {
            if (!Architecture.knows(rule.syscall())) {
                throw new IllegalArgumentException("unknown syscall in seccomp policy: " + rule.syscall());
            }
            if (!seen.add(rule.syscall())) {
                throw new IllegalArgumentException("syscall listed twice in seccomp policy: " + rule.syscall());
            }
        }
        FilterCompiler c = new FilterCompiler();
        c.emit(arch, rules);
        return c.resolve();
    }

    private void emit(Architecture arch, List<Rule> rules) {
        load(Instruction.OFFSET_ARCH);
        jump(Instruction.JMP_JEQ_K, arch.auditArch(), null, KILL);
        load(Instruction.OFFSET_NR);
        if (arch.hasX32()) {
            // -1 is no call at all: the kernel answers ENOSYS. It has bit 30 set but is not x32, so
            // let it through rather than kill a process that probes with syscall(-1).
            jump(Instruction.JMP_JEQ_K, -1, ALLOW, null);
            jump(Instruction.JMP_JGE_K, X32_SYSCALL_BIT, KILL, null);
        }
        List<Rule> conditional = new ArrayList<>();
        Set<Integer> errnos = new TreeSet<>();
        for (Rule rule : rules) {
            OptionalInt nr = arch.number(rule.syscall());
            if (nr.isEmpty()) {
                continue;
            }
            errnos.add(rule.errno());
            if (rule.check() instanceof ArgCheck.Always) {
                jump(Instruction.JMP_JEQ_K, nr.getAsInt(), errnoLabel(rule.errno()), null);
            } else {
                conditional.add(rule);
                jump(Instruction.JMP_JEQ_K, nr.getAsInt(), ruleLabel(rule), null);
            }
        }
        jumpAlways(ALLOW);
        for (Rule rule : conditional) {
            label(ruleLabel(rule));
            String deny = errnoLabel(rule.errno());
            switch (rule.check()) {
                case ArgCheck.Always() -> throw new IllegalStateException("unconditional rule in argument blocks");
                case ArgCheck.AnyBitSet(int arg, int mask) -> {
                    load(Instruction.argLow(arg));
                    jump(Instruction.JMP_JSET_K, mask, deny, ALLOW);
                }
                case ArgCheck.EqualsAny(int arg, List<Integer> values) -> {
                    load(Instruction.argLow(arg));
                    for (int v : values) {
                        jump(Instruction.JMP_JEQ_K, v, deny, null);
                    }
                    jumpAlways(ALLOW);
                }
                case ArgCheck.EqualsNone(int arg, List<Integer> values) -> {
                    load(Instruction.argLow(arg));
                    for (int v : values) {
                        jump(Instruction.JMP_JEQ_K, v, ALLOW, null);
                    }
                    jumpAlways(deny);
                }
            }
        }
        for (int errno : errnos) {
            label(errnoLabel(errno));
            ret(Instruction.SECCOMP_RET_ERRNO | errno);
        }
        label(KILL);
        ret(Instruction.SECCOMP_RET_KILL_PROCESS);
        label(ALLOW);
        ret(Instruction.SECCOMP_RET_ALLOW);
    }

    private static String errnoLabel(int errno) {
        return "errno:" + errno;
    }

    private static String ruleLabel(Rule rule) {
        return "rule:" + rule.syscall();
    }

    private void label(String name) {
        if (labels.putIfAbsent(name, code.size()) != null) {
            throw new IllegalStateException("label defined twice: " + name);
        }
    }

    private void load(int offset) {
        code.add(new Pending(Instruction.LD_W_ABS, offset, null, null, null));
    }

    private void ret(int action) {
        code.add(new Pending(Instruction.RET_K, action, null, null, null));
    }

    /** A conditional jump; a {@code null} target means the next instruction. */
    private void jump(int op, int k, String ifTrue, String ifFalse) {
        code.add(new Pending(op, k, ifTrue, ifFalse, null));
    }

    private void jumpAlways(String target) {
        code.add(new Pending(Instruction.JMP_JA, 0, null, null, target));
    }

    private List<Instruction> resolve() {
        if (code.size() > MAX_INSTRUCTIONS) {
            throw new IllegalStateException("seccomp program too long: " + code.size() + " instructions");
        }
        List<Instruction> out = new ArrayList<>(code.size());
        for (int pc = 0; pc < code.size(); pc++) {
            Pending p = code.get(pc);
            if (p.always() != null) {
                out.add(new Instruction(p.op(), 0, 0, offset(pc, p.always(), Integer.MAX_VALUE)));
            } else {
                out.add(new Instruction(p.op(), offset(pc, p.ifTrue(), 255), offset(pc, p.ifFalse(), 255), p.k()));
            }
        }
        return List.copyOf(out);
    }

    private int offset(int pc, String target, int max) {
        if (target == null) {
            return 0;
        }
        Integer at = labels.get(target);
        if (at == null) {
            throw new IllegalStateException("undefined label " + target);
        }
        int distance = at - pc - 1;
        if (distance < 0 || distance > max) {
            throw new IllegalStateException(
                    "jump from " + pc + " to " + target + " (" + at + ") is out of classic-BPF range");
        }
        return distance;
    }

    /** An instruction whose jump targets are still labels. */
    private record Pending(int op, int k, String ifTrue, String ifFalse, String always) {}
}
