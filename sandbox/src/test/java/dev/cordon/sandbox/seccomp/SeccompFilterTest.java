package dev.cordon.sandbox.seccomp;

import static dev.cordon.sandbox.seccomp.Instruction.SECCOMP_RET_ALLOW;
import static dev.cordon.sandbox.seccomp.Instruction.SECCOMP_RET_ERRNO;
import static dev.cordon.sandbox.seccomp.Instruction.SECCOMP_RET_KILL_PROCESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The BPF program itself: decoded from the bytes bwrap receives and run through an interpreter. */
class SeccompFilterTest {
    static final int AUDIT_ARCH_I386 = 0x40000003;
    static final int AUDIT_ARCH_ARM = 0x40000028;
    static final int EPERM = SECCOMP_RET_ERRNO | 1;
    static final int ENOSYS = SECCOMP_RET_ERRNO | 38;
    static final Set<String> X86_ONLY = Set.of("iopl", "ioperm", "uselib");

    static List<Instruction> program(Architecture arch) {
        return Instruction.decode(Seccomp.defaultFilter(arch));
    }

    static int verdict(Architecture arch, String syscall, long... args) {
        int nr = arch.number(syscall).orElseThrow();
        return BpfInterpreter.run(program(arch), arch.auditArch(), nr, args);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void programChecksTheArchitectureBeforeAnythingElse(Architecture arch) {
        List<Instruction> p = program(arch);
        assertThat(p.get(0)).isEqualTo(new Instruction(Instruction.LD_W_ABS, 0, 0, Instruction.OFFSET_ARCH));
        Instruction check = p.get(1);
        assertThat(check.code()).isEqualTo(Instruction.JMP_JEQ_K);
        assertThat(check.k()).isEqualTo(arch.auditArch());
        assertThat(check.jt()).isZero();
        assertThat(p.get(2 + check.jf())).isEqualTo(new Instruction(Instruction.RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS));
        assertThat(p.get(2)).isEqualTo(new Instruction(Instruction.LD_W_ABS, 0, 0, Instruction.OFFSET_NR));
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyJumpLandsInsideTheProgramAndItEndsByAllowing(Architecture arch) {
        List<Instruction> p = program(arch);
        for (int pc = 0; pc < p.size(); pc++) {
            Instruction in = p.get(pc);
            switch (in.code()) {
                case Instruction.JMP_JA -> assertThat(pc + 1 + (long) in.k()).isLessThan(p.size());
                case Instruction.JMP_JEQ_K, Instruction.JMP_JGE_K, Instruction.JMP_JSET_K -> {
                    assertThat(pc + 1 + in.jt()).as("jt at %d", pc).isLessThan(p.size());
                    assertThat(pc + 1 + in.jf()).as("jf at %d", pc).isLessThan(p.size());
                }
                case Instruction.LD_W_ABS -> assertThat(in.k()).isBetween(0, BpfInterpreter.SECCOMP_DATA_SIZE - 4);
                case Instruction.RET_K -> {}
                default -> throw new AssertionError("unexpected opcode " + in);
            }
        }
        assertThat(p.getLast()).isEqualTo(new Instruction(Instruction.RET_K, 0, 0, SECCOMP_RET_ALLOW));
        assertThat(p.size()).isLessThan(FilterCompiler.MAX_INSTRUCTIONS);
    }

    @Test
    void bytesAreStructSockFilterInLittleEndian() {
        byte[] bytes = Seccomp.defaultFilter(Architecture.X86_64);
        assertThat(bytes.length % 8).isZero();
        // {BPF_LD|BPF_W|BPF_ABS, 0, 0, offsetof(seccomp_data, arch)}
        assertThat(java.util.Arrays.copyOf(bytes, 8)).containsExactly(0x20, 0, 0, 0, 4, 0, 0, 0);
        assertThat(Instruction.encode(Instruction.decode(bytes))).isEqualTo(bytes);
    }

    @Test
    void defaultFilterIsTheOneForTheRunningArchitecture() {
        assertThat(Seccomp.defaultFilter()).isEqualTo(Seccomp.defaultFilter(Architecture.current()));
    }

    @Test
    void unsupportedArchitectureIsAClearError() {
        assertThatThrownBy(() -> Architecture.of("riscv64"))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("riscv64")
                .hasMessageContaining("x86_64 and aarch64");
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyUnconditionalRuleReturnsItsErrno(Architecture arch) {
        for (DefaultPolicy.Entry e : DefaultPolicy.ENTRIES) {
            if (e.check() instanceof ArgCheck.Always
                    && arch.number(e.syscall().name()).isPresent()) {
                assertThat(verdict(arch, e.syscall().name(), 0, 0, 0, 0, 0, 0))
                        .as(e.syscall().name())
                        .isEqualTo(SECCOMP_RET_ERRNO | e.syscall().errno().number());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void syscallsOffTheListAreAllowed(Architecture arch) {
        Set<Integer> listed = new HashSet<>();
        for (DeniedSyscall d : Seccomp.deniedSyscalls()) {
            arch.number(d.name()).ifPresent(listed::add);
        }
        List<Instruction> p = program(arch);
        for (int nr = 0; nr < 1024; nr++) {
            if (!listed.contains(nr)) {
                assertThat(BpfInterpreter.run(p, arch.auditArch(), nr))
                        .as("nr %d", nr)
                        .isEqualTo(SECCOMP_RET_ALLOW);
            }
        }
    }

    @Test
    void numbersAreThoseOfTheFiltersOwnArchitecture() {
        // 101 is ptrace on x86_64 and nanosleep on aarch64; 117 is ptrace on aarch64 and getuid on x86_64.
        List<Instruction> arm = program(Architecture.AARCH64);
        assertThat(BpfInterpreter.run(arm, Architecture.AARCH64.auditArch(), 101))
                .isEqualTo(SECCOMP_RET_ALLOW);
        assertThat(BpfInterpreter.run(arm, Architecture.AARCH64.auditArch(), 117))
                .isEqualTo(EPERM);
        List<Instruction> x86 = program(Architecture.X86_64);
        assertThat(BpfInterpreter.run(x86, Architecture.X86_64.auditArch(), 117))
                .isEqualTo(SECCOMP_RET_ALLOW);
        assertThat(BpfInterpreter.run(x86, Architecture.X86_64.auditArch(), 101))
                .isEqualTo(EPERM);
    }

    @Test
    void callsThroughAForeignAbiKillTheProcess() {
        List<Instruction> x86 = program(Architecture.X86_64);
        List<Instruction> arm = program(Architecture.AARCH64);
        for (int nr = 0; nr < 512; nr++) {
            assertThat(BpfInterpreter.run(x86, AUDIT_ARCH_I386, nr)).isEqualTo(SECCOMP_RET_KILL_PROCESS);
            assertThat(BpfInterpreter.run(x86, Architecture.AARCH64.auditArch(), nr))
                    .isEqualTo(SECCOMP_RET_KILL_PROCESS);
            assertThat(BpfInterpreter.run(arm, AUDIT_ARCH_ARM, nr)).isEqualTo(SECCOMP_RET_KILL_PROCESS);
            assertThat(BpfInterpreter.run(arm, Architecture.X86_64.auditArch(), nr))
                    .isEqualTo(SECCOMP_RET_KILL_PROCESS);
        }
    }

    @Test
    void x32NumbersKillTheProcessButMinusOneIsLeftToTheKernel() {
        List<Instruction> x86 = program(Architecture.X86_64);
        int arch = Architecture.X86_64.auditArch();
        for (int nr = 0; nr < 1024; nr++) {
            assertThat(BpfInterpreter.run(x86, arch, FilterCompiler.X32_SYSCALL_BIT | nr))
                    .isEqualTo(SECCOMP_RET_KILL_PROCESS);
        }
        assertThat(BpfInterpreter.run(x86, arch, 0xfffffffe)).isEqualTo(SECCOMP_RET_KILL_PROCESS);
        assertThat(BpfInterpreter.run(x86, arch, -1)).isEqualTo(SECCOMP_RET_ALLOW);
        // aarch64 has no x32: numbers with bit 30 set are simply unknown calls the kernel refuses.
        assertThat(BpfInterpreter.run(program(Architecture.AARCH64), Architecture.AARCH64.auditArch(), 0x40000000))
                .isEqualTo(SECCOMP_RET_ALLOW);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void cloneIsDeniedWithAnyNamespaceFlagOnly(Architecture arch) {
        int sigchld = 17;
        for (int flag : List.of(0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)) {
            assertThat(verdict(arch, "clone", flag | sigchld))
                    .as("flag %x", flag)
                    .isEqualTo(EPERM);
            // The kernel reads only the low 32 bits of clone's flags; so does the filter.
            assertThat(verdict(arch, "clone", 0xffff_ffff_0000_0000L | flag)).isEqualTo(EPERM);
        }
        // fork (glibc), vfork/posix_spawn, pthread_create: none asks for a namespace.
        assertThat(verdict(arch, "clone", 0x01200011)).isEqualTo(SECCOMP_RET_ALLOW);
        assertThat(verdict(arch, "clone", 0x00004111)).isEqualTo(SECCOMP_RET_ALLOW);
        assertThat(verdict(arch, "clone", 0x003d0f00)).isEqualTo(SECCOMP_RET_ALLOW);
        assertThat(verdict(arch, "clone3", 0, 88)).isEqualTo(ENOSYS);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void terminalInjectionIoctlsAreDeniedEvenWithHighBitsSet(Architecture arch) {
        assertThat(verdict(arch, "ioctl", 0, 0x5412)).isEqualTo(EPERM);
        assertThat(verdict(arch, "ioctl", 0, 0x541C)).isEqualTo(EPERM);
        // CVE-2019-10063: the kernel truncates the request to 32 bits, so high bits must not evade.
        assertThat(verdict(arch, "ioctl", 0, 0x1_0000_5412L)).isEqualTo(EPERM);
        for (int other : List.of(0x5401 /* TCGETS */, 0x5413 /* TIOCGWINSZ */, 0x541B /* FIONREAD */, 0x5421)) {
            assertThat(verdict(arch, "ioctl", 1, other)).isEqualTo(SECCOMP_RET_ALLOW);
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void personalityAllowsOnlyTheSafePersonas(Architecture arch) {
        for (int safe : DefaultPolicy.SAFE_PERSONAS) {
            assertThat(verdict(arch, "personality", safe)).isEqualTo(SECCOMP_RET_ALLOW);
        }
        // ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO, READ_IMPLIES_EXEC, and PER_LINUX32 | ADDR_NO_RANDOMIZE.
        for (int unsafe : List.of(0x0040000, 0x0100000, 0x0400000, 0x0040008)) {
            assertThat(verdict(arch, "personality", unsafe))
                    .as("persona %x", unsafe)
                    .isEqualTo(EPERM);
        }
    }

    @Test
    void policyCoversTheIssuesListAndNamesRealSyscalls() {
        List<String> names =
                Seccomp.deniedSyscalls().stream().map(DeniedSyscall::name).toList();
        assertThat(names)
                .doesNotHaveDuplicates()
                .contains(
                        "ptrace",
                        "mount",
                        "umount2",
                        "pivot_root",
                        "fsopen",
                        "fsconfig",
                        "fsmount",
                        "move_mount",
                        "open_tree",
                        "mount_setattr",
                        "keyctl",
                        "add_key",
                        "request_key",
                        "bpf",
                        "setns",
                        "unshare",
                        "clone",
                        "clone3",
                        "kexec_load",
                        "kexec_file_load",
                        "init_module",
                        "finit_module",
                        "delete_module",
                        "perf_event_open",
                        "userfaultfd",
                        "process_vm_readv",
                        "process_vm_writev",
                        "open_by_handle_at",
                        "acct",
                        "swapon",
                        "swapoff",
                        "reboot",
                        "settimeofday",
                        "clock_settime",
                        "adjtimex",
                        "syslog",
                        "quotactl",
                        "name_to_handle_at",
                        "lookup_dcookie",
                        "iopl",
                        "ioperm",
                        "personality",
                        "io_uring_setup",
                        "io_uring_enter",
                        "io_uring_register",
                        "chroot",
                        "ioctl");
        for (String name : names) {
            assertThat(Architecture.X86_64.number(name)).as(name).isPresent();
            if (!X86_ONLY.contains(name)) {
                assertThat(Architecture.AARCH64.number(name)).as(name).isPresent();
            }
        }
        assertThat(Seccomp.deniedSyscalls())
                .allSatisfy(d -> assertThat(d.reason()).isNotBlank());
    }

    @Test
    void compilerRejectsUnknownAndDuplicateSyscalls() {
        assertThatThrownBy(() -> FilterCompiler.compile(
                        Architecture.X86_64, List.of(new Rule("mount_everything", new ArgCheck.Always(), 1))))
                .hasMessageContaining("unknown syscall");
        Rule ptrace = new Rule("ptrace", new ArgCheck.Always(), 1);
        assertThatThrownBy(() -> FilterCompiler.compile(Architecture.X86_64, List.of(ptrace, ptrace)))
                .hasMessageContaining("twice");
    }
}
