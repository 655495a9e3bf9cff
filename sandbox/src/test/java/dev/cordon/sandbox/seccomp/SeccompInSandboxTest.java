package dev.cordon.sandbox.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.sandbox.bwrap.Bubblewrap;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filter loaded by a real bubblewrap sandbox, built with the backend's own argument list: every
 * denied call is made from inside with raw syscalls and must fail with its errno, while the programs
 * an agent runs keep working.
 */
class SeccompInSandboxTest {
    static final int UID = 200_077;
    /** EHWPOISON: an errno none of the probed calls returns by itself, so seeing it proves the filter answered. */
    static final int MARKER_ERRNO = 133;

    static final int SIGSYS_EXIT = 128 + 31;
    static final int EPERM = 1;
    static final int ENOTTY = 25;
    static final int ENOSYS = 38;

    static final Architecture ARCH = Architecture.current();
    static final String JAVA =
            Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final String PROBE = JAVA + " --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
            + " -Xshare:auto -cp /opt/probe " + SyscallProbe.class.getName();

    @TempDir
    Path dir;

    /** One raw call made inside: {@code label:nr:args...}, and the errno the production filter must give. */
    record Probe(String label, int nr, List<Long> args, int errno) {
        String argument() {
            return Stream.concat(
                            Stream.of(label, Integer.toString(nr)),
                            args.stream().map(Object::toString))
                    .collect(Collectors.joining(":"));
        }
    }

    /** A probe for every line of the policy, and for each argument condition every case it denies. */
    static List<Probe> deniedProbes() {
        List<Probe> probes = new ArrayList<>();
        for (DefaultPolicy.Entry e : DefaultPolicy.ENTRIES) {
            String name = e.syscall().name();
            OptionalInt nr = ARCH.number(name);
            if (nr.isEmpty()) {
                continue;
            }
            int errno = e.syscall().errno().number();
            switch (e.check()) {
                // Zero arguments: harmless for each of these calls even if the filter let one through.
                case ArgCheck.Always() -> probes.add(new Probe(name, nr.getAsInt(), List.of(), errno));
                case ArgCheck.AnyBitSet(int arg, int mask) -> {
                    for (int bit = 0; bit < 32; bit++) {
                        if ((mask & (1 << bit)) != 0) {
                            long flags = (1L << bit) | 17; // | SIGCHLD, as fork would pass
                            probes.add(new Probe(
                                    name + "-0x" + Long.toHexString(1L << bit), nr.getAsInt(), List.of(flags), errno));
                        }
                    }
                }
                case ArgCheck.EqualsAny(int arg, List<Integer> values) -> {
                    for (int v : values) {
                        probes.add(new Probe(
                                name + "-0x" + Integer.toHexString(v), nr.getAsInt(), List.of(0L, (long) v), errno));
                        // High bits set: the kernel truncates the request, the filter must not be fooled.
                        probes.add(new Probe(
                                name + "-high-0x" + Integer.toHexString(v),
                                nr.getAsInt(),
                                List.of(0L, 0x1_0000_0000L | v),
                                errno));
                    }
                }
                case ArgCheck.EqualsNone(int arg, List<Integer> values) -> {
                    probes.add(new Probe(name + "-ADDR_NO_RANDOMIZE", nr.getAsInt(), List.of(0x0040000L), errno));
                    probes.add(new Probe(name + "-READ_IMPLIES_EXEC", nr.getAsInt(), List.of(0x0400000L), errno));
                }
            }
        }
        return probes;
    }

    /** Calls the filter must leave alone, with the errno the kernel itself gives (0: success). */
    static List<Probe> allowedProbes() {
        return List.of(
                new Probe("ioctl-TCGETS", ARCH.number("ioctl").orElseThrow(), List.of(0L, 0x5401L, 0L), ENOTTY),
                new Probe("personality-query", ARCH.number("personality").orElseThrow(), List.of(0xffffffffL), 0),
                new Probe("syscall-minus-one", -1, List.of(), ENOSYS));
    }

    @Test
    void everyDeniedSyscallFailsInsideWithItsErrno() throws Exception {
        List<Probe> probes = new ArrayList<>(deniedProbes());
        probes.addAll(allowedProbes());
        Result r = sandbox(Seccomp.defaultFilter(), PROBE + " " + arguments(probes));

        Map<String, Long> errnos = r.errnos();
        for (Probe p : probes) {
            assertThat(errnos).as(r.output()).containsEntry(p.label(), (long) p.errno());
        }
        assertThat(r.exit()).isZero();
    }

    @Test
    void itIsTheFilterThatRefusesEachCall() throws Exception {
        // Same policy, every EPERM replaced by a marker: a call refused for any other reason (no
        // capability, a bad pointer) would show the kernel's errno instead. clone3 keeps ENOSYS, which
        // no kernel that has clone3 returns by itself: with any other errno glibc does not fall back
        // to clone and the JVM cannot start a thread.
        List<Rule> marked = DefaultPolicy.rules().stream()
                .map(rule -> rule.errno() == ENOSYS ? rule : new Rule(rule.syscall(), rule.check(), MARKER_ERRNO))
                .toList();
        byte[] filter = Instruction.encode(FilterCompiler.compile(ARCH, marked));
        List<Probe> probes = deniedProbes().stream()
                .map(p -> p.errno() == ENOSYS ? p : new Probe(p.label(), p.nr(), p.args(), MARKER_ERRNO))
                .toList();
        Result r = sandbox(filter, PROBE + " " + arguments(probes) + " " + arguments(allowedProbes()));

        Map<String, Long> errnos = r.errnos();
        for (Probe p : Stream.concat(probes.stream(), allowedProbes().stream()).toList()) {
            assertThat(errnos).as(r.output()).containsEntry(p.label(), (long) p.errno());
        }
    }

    @Test
    void x32AbiCallsKillTheProcess() throws Exception {
        assumeTrue(ARCH == Architecture.X86_64, "the x32 ABI exists on x86_64 only");
        String script = PROBE + " x32; echo exit=$?";

        assertThat(sandbox(Seccomp.defaultFilter(), script).output()).contains("exit=" + SIGSYS_EXIT);
        // Without the filter the call returns (ENOSYS where the kernel lacks the x32 ABI, as here).
        assertThat(sandbox(null, script).output()).contains("exit=0");
    }

    @Test
    void i386CallsThroughInt80KillTheProcess() throws Exception {
        assumeTrue(ARCH == Architecture.X86_64, "int 0x80 exists on x86_64 only");
        String script = PROBE + " int80; echo exit=$?";
        Result unfiltered = sandbox(null, script);
        // Kernels built without IA32 emulation, or booted with ia32_emulation=0, fault before seccomp.
        assumeTrue(unfiltered.output().contains("exit=0"), "this kernel does not run i386 calls at all");
        assertThat(unfiltered.errnos()).containsKey("int80");

        Result filtered = sandbox(Seccomp.defaultFilter(), script);
        assertThat(filtered.output()).contains("exit=" + SIGSYS_EXIT).doesNotContain("int80 ");
    }

    @Test
    void ordinaryAgentWorkStillRuns() throws Exception {
        List<String> script = new ArrayList<>(List.of(
                "ls / > /dev/null && echo ls-ok",
                "for i in $(seq 1 20); do (echo $i > child-$i) & done; wait; echo forked=$(cat child-* | wc -l)",
                "printf 'b\\na\\n' | sort | paste -sd, - | sed 's/^/sorted=/'",
                JAVA + " -Xshare:auto -XX:+UseSerialGC -version 2>&1 | head -1 | cut -d' ' -f1 | sed 's/^/jvm=/'",
                PROBE + " work"));
        List<String> expected = new ArrayList<>(List.of(
                "ls-ok", "forked=20", "sorted=a,b", "jvm=openjdk", "work threads=8 virtual=100 child-42 exit=0"));
        // Tools a CI machine may lack are checked where they are installed (/usr is the host's).
        if (installed("git")) {
            script.add("git init -q r && cd r && echo x > f && git add f"
                    + " && git -c user.name=a -c user.email=a@b commit -qm m"
                    + " && git log --oneline | wc -l | sed 's/^/commits=/'; cd ..");
            expected.add("commits=1");
        }
        if (installed("python3")) {
            script.add(
                    "python3 -c 'import subprocess, threading;"
                            + " ts = [threading.Thread(target=lambda: None) for _ in range(4)]; [t.start() for t in ts];"
                            + " [t.join() for t in ts];"
                            + " print(subprocess.run([\"/usr/bin/echo\", \"python-ok\"], capture_output=True, text=True).stdout.strip())'");
            expected.add("python-ok");
        }
        if (installed("gcc")) {
            script.add("printf 'int main(void){return 7;}' > a.c && gcc -o a a.c; ./a; echo cc-exit=$?");
            expected.add("cc-exit=7");
        }
        Result r = sandbox(Seccomp.defaultFilter(), String.join("\n", script));

        assertThat(r.output()).contains(expected);
        assertThat(r.exit()).as(r.output()).isZero();
    }

    static boolean installed(String tool) {
        return Files.isExecutable(Path.of("/usr/bin", tool));
    }

    @Test
    void escapeToolsAreRefusedAndTheFilterDescriptorDoesNotLeak() throws Exception {
        String script = String.join(
                "\n",
                "grep -E '^Seccomp(_filters)?:' /proc/self/status",
                "unshare --user --map-root-user true 2>&1 | head -1",
                "unshare --mount true 2>&1 | head -1",
                "setarch $(uname -m) -R true 2>&1 | head -1",
                // bwrap reads the program from fd 3 and must close it before running the command.
                "[ -e /proc/$$/fd/3 ] && echo fd3-open || echo fd3-closed");
        Result r = sandbox(Seccomp.defaultFilter(), script);

        assertThat(r.output()).contains("Seccomp:\t2", "Seccomp_filters:\t1", "fd3-closed");
        assertThat(r.output().lines().filter(l -> l.contains("Operation not permitted")))
                .as(r.output())
                .hasSize(3);
    }

    @Test
    void filterLoadsWhenBubblewrapRunsUnprivileged() throws Exception {
        // The daemon as an ordinary user: bwrap in a user namespace, the filter file opened as that user.
        Path shared = Files.createTempDirectory(
                "cordon-seccomp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            Path filter = Files.write(shared.resolve("filter.bpf"), Seccomp.defaultFilter());
            List<String> bwrap = new ArrayList<>(List.of(
                    "/usr/bin/bwrap",
                    "--unshare-all",
                    "--die-with-parent",
                    "--new-session",
                    "--clearenv",
                    "--ro-bind",
                    "/usr",
                    "/usr",
                    "--symlink",
                    "usr/bin",
                    "/bin",
                    "--symlink",
                    "usr/lib",
                    "/lib",
                    "--symlink",
                    "usr/lib64",
                    "/lib64",
                    "--proc",
                    "/proc",
                    "--dev",
                    "/dev",
                    "--tmpfs",
                    "/tmp",
                    "--cap-drop",
                    "ALL",
                    "--",
                    "/usr/bin/bash",
                    "-c",
                    "grep '^Seccomp:' /proc/self/status; unshare --user true 2>&1 | head -1; echo done"));
            List<String> argv = FilteredSandbox.withFilter(filter, bwrap);
            if (Bubblewrap.isRoot()) {
                argv.addAll(
                        0,
                        List.of(
                                "/usr/bin/setpriv",
                                "--reuid=" + (UID + 1),
                                "--regid=" + (UID + 1),
                                "--clear-groups",
                                "--"));
            }
            Path log = shared.resolve("out.log");
            int exit = FilteredSandbox.run(argv, log);
            String out = Files.readString(log);

            assertThat(out).as(out).contains("Seccomp:\t2", "Operation not permitted", "done");
            assertThat(exit).isZero();
        } finally {
            try (Stream<Path> files = Files.list(shared)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(shared);
        }
    }

    record Result(int exit, String output) {
        /** label → errno (0 when the call succeeded), from the probe's {@code label result errno} lines. */
        Map<String, Long> errnos() {
            Map<String, Long> m = new LinkedHashMap<>();
            for (String line : output.lines().toList()) {
                String[] f = line.split(" ", -1);
                if (f.length == 3 && f[1].matches("-?\\d+") && f[2].matches("\\d+")) {
                    m.put(f[0], Long.parseLong(f[2]));
                }
            }
            return m;
        }
    }

    static String arguments(List<Probe> probes) {
        return probes.stream().map(Probe::argument).collect(Collectors.joining(" "));
    }

    /** Runs {@code script} with bash in a sandbox exactly as the backend builds it, with {@code filter} if not null. */
    Result sandbox(byte[] filter, String script) throws Exception {
        List<Mount> mounts = new ArrayList<>();
        mounts.add(new Mount(probeClasses(), "/opt/probe", Mode.READ_ONLY));
        Path javaHome = Path.of(System.getProperty("java.home"));
        if (!javaHome.startsWith("/usr/")) {
            mounts.add(new Mount(javaHome, javaHome.toString(), Mode.READ_ONLY));
        }
        // The sandbox user's own workspace, as the backend's callers give one (/tmp belongs to root).
        Path ws = Files.createDirectories(dir.resolve("ws"));
        if (Bubblewrap.isRoot()) {
            Files.setAttribute(ws, "unix:uid", UID, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(ws, "unix:gid", UID, LinkOption.NOFOLLOW_LINKS);
        }
        mounts.add(new Mount(ws, "/workspace", Mode.READ_WRITE));
        Path log = dir.resolve("out.log");
        SandboxSpec spec = new SandboxSpec(
                "seccomp-test",
                mounts,
                List.of("/usr/bin/bash", "-c", script),
                Map.of("PATH", "/usr/bin:/bin", "HOME", "/workspace", "TMPDIR", "/workspace", "LANG", "C.UTF-8"),
                UID,
                UID,
                "cordon",
                "/workspace",
                log);
        List<String> argv = FilteredSandbox.bwrapArguments(spec);
        if (filter != null) {
            argv = FilteredSandbox.withFilter(Files.write(dir.resolve("filter.bpf"), filter), argv);
        }
        int exit = FilteredSandbox.run(argv, log);
        return new Result(exit, Files.readString(log));
    }

    /** The probe's class files, copied world-readable so the sandbox user can load them. */
    Path probeClasses() throws IOException, URISyntaxException {
        Path root = dir.resolve("probe");
        Path pkg = Files.createDirectories(
                root.resolve(SyscallProbe.class.getPackageName().replace('.', '/')));
        Path compiled = Path.of(
                        SyscallProbe.class.getResource("SyscallProbe.class").toURI())
                .getParent();
        try (Stream<Path> files = Files.list(compiled)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("SyscallProbe"))
                    .toList()) {
                Files.copy(f, pkg.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(
                        p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return root;
    }
}
