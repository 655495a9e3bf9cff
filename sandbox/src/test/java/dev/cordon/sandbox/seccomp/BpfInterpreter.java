package dev.cordon.sandbox.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Runs a seccomp program the way the kernel does, for the opcodes the compiler emits, and fails on
 * anything the kernel's checker would reject (unknown opcode, unaligned or out-of-range load, jump
 * past the end, falling off the end).
 */
final class BpfInterpreter {
    static final int SECCOMP_DATA_SIZE = 64;

    private BpfInterpreter() {}

    /** The program's verdict for a call of {@code nr} with {@code args} (missing ones are 0) under {@code arch}. */
    static int run(List<Instruction> program, int arch, int nr, long... args) {
        ByteBuffer data = ByteBuffer.allocate(SECCOMP_DATA_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(0, nr).putInt(4, arch).putLong(8, 0x7fff_0000_1000L);
        for (int i = 0; i < args.length; i++) {
            data.putLong(16 + 8 * i, args[i]);
        }
        int a = 0;
        int pc = 0;
        while (true) {
            if (pc >= program.size()) {
                throw new AssertionError("ran off the end of the program");
            }
            Instruction in = program.get(pc);
            int next = pc + 1;
            switch (in.code()) {
                case Instruction.LD_W_ABS -> {
                    if (in.k() < 0 || in.k() % 4 != 0 || in.k() + 4 > SECCOMP_DATA_SIZE) {
                        throw new AssertionError("bad load offset " + in.k() + " at " + pc);
                    }
                    a = data.getInt(in.k());
                }
                case Instruction.JMP_JA -> next += in.k();
                case Instruction.JMP_JEQ_K -> next += a == in.k() ? in.jt() : in.jf();
                case Instruction.JMP_JGE_K -> next += Integer.compareUnsigned(a, in.k()) >= 0 ? in.jt() : in.jf();
                case Instruction.JMP_JSET_K -> next += (a & in.k()) != 0 ? in.jt() : in.jf();
                case Instruction.RET_K -> {
                    return in.k();
                }
                default -> throw new AssertionError("opcode the kernel would reject: " + in + " at " + pc);
            }
            pc = next;
        }
    }
}
