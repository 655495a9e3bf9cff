package dev.cordon.sandbox.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One classic-BPF instruction, {@code struct sock_filter}: a 16-bit opcode, two 8-bit jump offsets
 * (counted from the next instruction) and a 32-bit constant.
 */
record Instruction(int code, int jt, int jf, int k) {
    // Opcodes (linux/bpf_common.h), only the ones a seccomp filter here needs.
    static final int LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS: A = seccomp_data[k..k+4)
    static final int JMP_JA = 0x05; // BPF_JMP | BPF_JA: pc += k
    static final int JMP_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    static final int JMP_JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K (unsigned)
    static final int JMP_JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K: A & k != 0
    static final int RET_K = 0x06; // BPF_RET | BPF_K

    // Return values (linux/seccomp.h). The action sits in the high 16 bits, its data in the low 16.
    static final int SECCOMP_RET_KILL_PROCESS = 0x80000000;
    static final int SECCOMP_RET_ERRNO = 0x00050000;
    static final int SECCOMP_RET_ALLOW = 0x7fff0000;

    // Offsets into struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }.
    static final int OFFSET_NR = 0;
    static final int OFFSET_ARCH = 4;

    static final int BYTES = 8;

    Instruction {
        if ((code & ~0xffff) != 0 || (jt & ~0xff) != 0 || (jf & ~0xff) != 0) {
            throw new IllegalArgumentException("field out of range in " + this);
        }
    }

    /**
     * Offset of the low 32 bits of syscall argument {@code index}; valid because every supported
     * architecture is little-endian.
     */
    static int argLow(int index) {
        if (index < 0 || index > 5) {
            throw new IllegalArgumentException("syscalls have arguments 0..5, not " + index);
        }
        return 16 + 8 * index;
    }

    /** The program as the kernel (and bwrap's {@code --seccomp}) reads it: 8 bytes each, native order. */
    static byte[] encode(List<Instruction> program) {
        ByteBuffer out = ByteBuffer.allocate(program.size() * BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Instruction i : program) {
            out.putShort((short) i.code()).put((byte) i.jt()).put((byte) i.jf()).putInt(i.k());
        }
        return out.array();
    }

    /** The inverse of {@link #encode}. */
    static List<Instruction> decode(byte[] bytes) {
        if (bytes.length % BYTES != 0) {
            throw new IllegalArgumentException("not a whole number of instructions: " + bytes.length + " bytes");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Instruction[] program = new Instruction[bytes.length / BYTES];
        for (int i = 0; i < program.length; i++) {
            program[i] = new Instruction(
                    Short.toUnsignedInt(in.getShort()),
                    Byte.toUnsignedInt(in.get()),
                    Byte.toUnsignedInt(in.get()),
                    in.getInt());
        }
        return List.of(program);
    }

    @Override
    public String toString() {
        return String.format("{0x%02x, %d, %d, 0x%08x}", code, jt, jf, k);
    }
}
