package dev.cordon.sandbox.seccomp;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * Runs inside a sandbox (plain {@code java -cp}, no dependencies) and makes raw syscalls through
 * libc's {@code syscall(2)} with the FFM API, printing {@code label result errno} per call.
 *
 * <p>Arguments: {@code label:nr[:arg0[:arg1...]]} (numbers as {@link Long#decode} reads them), or one
 * of the modes {@code x32} (an x32-ABI getpid), {@code int80} (an i386 getpid through {@code int
 * 0x80}) and {@code work} (threads and child processes, as any JVM workload makes).
 */
@SuppressWarnings("restricted") // the point of this class is raw native calls
final class SyscallProbe {
    private static final boolean X86_64 = System.getProperty("os.arch").equals("amd64");
    private static final long EXIT_GROUP = X86_64 ? 231 : 94;
    private static final long MMAP = X86_64 ? 9 : 222;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));

    private SyscallProbe() {}

    public static void main(String[] args) throws Throwable {
        for (String arg : args) {
            switch (arg) {
                case "x32" -> {
                    // getpid is 39 on x86_64; x32 numbers are the same with bit 30 set.
                    print("x32", call(0x40000000L | 39));
                }
                case "int80" -> print("int80", int80Getpid(), 0);
                case "work" -> work();
                default -> {
                    String[] parts = arg.split(":", -1);
                    long[] a = new long[7];
                    for (int i = 1; i < parts.length; i++) {
                        a[i - 1] = Long.decode(parts[i]);
                    }
                    print(parts[0], call(a));
                }
            }
        }
    }

    /** Returns {result, errno}. */
    private static long[] call(long... nrAndArgs) throws Throwable {
        long[] a = new long[7];
        System.arraycopy(nrAndArgs, 0, a, 0, nrAndArgs.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = (long) SYSCALL.invokeExact(state, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
            if (result == 0 && a[0] == cloneNumber()) {
                // A clone the filter should have denied went through: this is the child, a copy of a
                // multi-threaded JVM with one thread. Leave at once; the parent reports the failure.
                long _ = (long) SYSCALL.invokeExact(state, EXIT_GROUP, 0L, 0L, 0L, 0L, 0L, 0L);
            }
            return new long[] {result, (int) ERRNO.get(state, 0L)};
        }
    }

    private static long cloneNumber() {
        return X86_64 ? 56 : 220;
    }

    /**
     * i386 getpid (20) through {@code int 0x80} from 64-bit code: the kernel treats it as a 32-bit
     * call, with arch AUDIT_ARCH_I386 in seccomp_data. The eight bytes are {@code mov eax, 20; int
     * 0x80; ret}, placed in an executable page and called as a C function.
     */
    private static long int80Getpid() throws Throwable {
        if (!X86_64) {
            throw new IllegalStateException("int 0x80 exists on x86_64 only");
        }
        long[] page = call(MMAP, 0, 4096, 7 /* PROT_READ|WRITE|EXEC */, 0x22 /* MAP_PRIVATE|ANONYMOUS */, -1, 0);
        if (page[0] == -1) {
            throw new IllegalStateException("mmap failed, errno " + page[1]);
        }
        MemorySegment code = MemorySegment.ofAddress(page[0]).reinterpret(4096);
        byte[] bytes = {(byte) 0xb8, 20, 0, 0, 0, (byte) 0xcd, (byte) 0x80, (byte) 0xc3};
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, code, 0, bytes.length);
        MethodHandle f = LINKER.downcallHandle(code, FunctionDescriptor.of(JAVA_INT));
        return (int) f.invokeExact();
    }

    private static void work() throws IOException, InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofPlatform().start(() -> {}));
        }
        for (Thread t : threads) {
            t.join();
        }
        int virtualDone;
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                futures.add(executor.submit(() -> 1));
            }
            virtualDone = 0;
            for (var f : futures) {
                try {
                    virtualDone += f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        Process child = new ProcessBuilder("/usr/bin/sh", "-c", "echo child-$((40+2))")
                .redirectErrorStream(true)
                .start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        System.out.println("work threads=8 virtual=" + virtualDone + " " + out + " exit=" + child.waitFor());
    }

    private static void print(String label, long[] resultAndErrno) {
        print(label, resultAndErrno[0], resultAndErrno[1]);
    }

    private static void print(String label, long result, long errno) {
        System.out.println(label + " " + result + " " + (result == -1 ? errno : 0));
        System.out.flush();
    }
}
