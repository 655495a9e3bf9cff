package dev.cordon.sandbox.escape;

import static dev.cordon.sandbox.escape.EscapeSuite.MIB;
import static dev.cordon.sandbox.escape.EscapeSuite.UID;
import static dev.cordon.sandbox.escape.EscapeSuite.openDirectory;
import static dev.cordon.sandbox.escape.EscapeSuite.secret;
import static dev.cordon.sandbox.escape.EscapeSuite.writableHostMounts;
import static dev.cordon.sandbox.escape.EscapeSuite.writeFile;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.sandbox.escape.Inside.Result;
import dev.cordon.sandbox.vm.Vm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The escape suite's attacks against the microVM backend, in two boots rather than one per
 * scenario. Where KVM cannot boot a kernel (this machine and CI) every boot is emulated and takes
 * seconds, up to half a minute under load: the suite's 65 scenarios, each its own VM, would add
 * many minutes to every build. So the attacks are the suite's own (its scripts, its syscall probe,
 * its assertions), gathered into one script per boot: the walls (files, network, kernel calls,
 * processes, environment; {@link WallsScript}), and the limits ({@code /tmp}, then memory and fork
 * bombs, which must come last). {@link #COVERAGE} places every scenario of the suite, or says why
 * one cannot apply, and {@link VmEscapeCoverageTest} keeps it complete. What they
 * meet first is the same bubblewrap command line and seccomp filter as under {@link
 * BubblewrapEscapeTest}, which runs every scenario; what this test adds is the proof that inside
 * the guest those walls are really there, and that the guest itself shows nothing of the host or
 * of its own boot.
 */
class VmEscapeTest {
    /** The VM's cache (its initramfs), removed after the class. */
    @TempDir
    static Path cache;

    private static SandboxBackend backend;

    @TempDir
    Path host;

    @BeforeAll
    static void buildTheBackend() {
        backend = Vm.backend(cache);
    }

    @BeforeEach
    void hostDirectoryIsTraversable() throws IOException {
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** {@link #COVERAGE}: the scenario's attack is in the first boot, the walls'. */
    static final String WALLS = "boot 1: walls";

    /** {@link #COVERAGE}: the scenario's attack is in the second boot, the limits'. */
    static final String LIMITS = "boot 2: limits";

    /** {@link #COVERAGE}: the prefix of a scenario left out, followed by why. */
    static final String EXCLUDED = "excluded: ";

    /**
     * Where each {@link EscapeSuite} scenario is in this test: in which boot, or why it is not.
     * {@link VmEscapeCoverageTest} fails when a scenario of the suite is missing here.
     */
    static final Map<String, String> COVERAGE = Map.ofEntries(
            Map.entry(
                    "DeclaredGaps.eachLimitIsEnforcedOrASpecThatNeedsItIsRefused",
                    EXCLUDED + "one sandbox per limit would be three more boots; the VM reports every limit"
                            + " enforceable (its guest's cgroup) and boot 2 shows memory and pids enforced"),
            Map.entry("DeclaredGaps.eachSandboxRunsAsItsSpecsUidOrAsTheDaemonsOwnUnprivilegedUid", WALLS),
            Map.entry("Filesystem.theHostsShadowFileIsUnreadableWhileTheWorkspaceIsReadable", WALLS),
            Map.entry("Filesystem.aRootOnlyFilePlantedOnTheHostIsNowhereInside", WALLS),
            Map.entry(
                    "Filesystem.anotherAgentsWorkspaceIsNeitherVisibleNorReadable",
                    EXCLUDED + "needs a second sandbox, which is a second VM (a third boot); a host directory"
                            + " the spec did not name, like another agent's workspace, is in boot 1 (elsewhere/)"),
            Map.entry(
                    "Filesystem.anotherAgentsRunningSandboxIsUnreachableThroughProc",
                    EXCLUDED + "needs a second sandbox running alongside, a second VM; the guest's /proc holds"
                            + " only its own processes, which boot 1 checks (processes, proc-root)"),
            Map.entry("Filesystem.aCordonHomeDirectoryOnTheHostIsInvisible", WALLS),
            Map.entry("Filesystem.systemDirectoriesAreReadOnlyWhileTheWorkspaceIsWritable", WALLS),
            Map.entry("Filesystem.aReadOnlyMountStaysReadOnlyWhereFilePermissionsAllowWriting", WALLS),
            Map.entry("Filesystem.symlinksPlantedInTheWorkspaceResolveInsideTheSandbox", WALLS),
            Map.entry("Filesystem.pathTraversalFromTheWorkspaceStaysInsideTheSandbox", WALLS),
            Map.entry("Filesystem.hardLinksCannotReachFilesOutsideTheWorkspace", WALLS),
            Map.entry("Filesystem.deviceNodesCannotBeCreatedInTheWorkspace", WALLS),
            Map.entry("Filesystem.procRootLinksLeadOnlyToTheSandboxesOwnRoot", WALLS),
            Map.entry("Filesystem.theOnlyWritableHostFilesystemsAreTheSpecsReadWriteMounts", WALLS),
            Map.entry("Filesystem.theOnlyHostFileAnyDescriptorInsideLeadsToIsItsOwnLog", WALLS),
            Map.entry("Filesystem.theOutputLogCannotBeReopenedToReadOrRewriteWhatWasWrittenBefore", WALLS),
            Map.entry("Filesystem.devHoldsOnlyTheMinimalDevices", WALLS),
            Map.entry("Filesystem.sysIsAbsentOrReadOnly", WALLS),
            Map.entry("Filesystem.kernelTunablesInProcCannotBeOpenedForWriting", WALLS),
            Map.entry("Processes.hostProcessesAreInvisible", WALLS),
            Map.entry("Processes.aHostProcessCannotBeSignalledEvenUnderTheSameUid", WALLS),
            Map.entry("Processes.ptraceIsRefused", WALLS),
            Map.entry("Processes.tiocstiCannotPushInputIntoATerminal", WALLS),
            Map.entry("Processes.coreDumpsStayInsideAndCorePatternIsNotWritable", WALLS),
            Map.entry("Processes.setuidBinariesGrantNoPrivilege", WALLS),
            Map.entry(
                    "Processes.aDaemonizedProcessDoesNotOutliveItsSandbox",
                    EXCLUDED + "no process of the guest is a host process: when the command ends the guest"
                            + " powers off and QEMU exits (VmBackendTest), taking every detached process with it"),
            Map.entry("Processes.theHostnameIsTheSpecsAndCannotBeChanged", WALLS),
            Map.entry("Processes.theHostsSharedMemoryAndMessageQueuesAreInvisible", WALLS),
            Map.entry("Kernel.mountAndTheNewMountApiAreRefused", WALLS),
            Map.entry("Kernel.aUserNamespaceCannotBeCreated", WALLS),
            Map.entry("Kernel.noNamespaceOfAnyKindCanBeCreatedWhileForkWorks", WALLS),
            Map.entry("Kernel.kernelKeyringsAreUnreachable", WALLS),
            Map.entry("Kernel.bpfIsRefused", WALLS),
            Map.entry("Kernel.kernelModulesCannotBeLoadedOrRemoved", WALLS),
            Map.entry("Kernel.kexecIsRefused", WALLS),
            Map.entry("Kernel.perfEventsAreRefused", WALLS),
            Map.entry("Kernel.userfaultfdIsRefused", WALLS),
            Map.entry("Kernel.ioUringIsRefused", WALLS),
            Map.entry("Kernel.setnsIsRefused", WALLS),
            Map.entry("Kernel.chrootIsRefused", WALLS),
            Map.entry("Kernel.pivotRootIsRefused", WALLS),
            Map.entry("Kernel.filesCannotBeOpenedByHandle", WALLS),
            Map.entry("Kernel.anotherProcesssMemoryCannotBeReadOrWritten", WALLS),
            Map.entry("Kernel.theKernelLogIsUnreadable", WALLS),
            Map.entry("Kernel.theHostClockCannotBeSet", WALLS),
            Map.entry("Kernel.rebootAndSwapAreRefused", WALLS),
            Map.entry("Kernel.privilegeCannotBeRegainedWithSetuid", WALLS),
            Map.entry("Network.aListenerOnTheHostsLoopbackIsUnreachableWhileTheSandboxHasItsOwn", WALLS),
            Map.entry("Network.theHostsOtherAddressesAreUnreachable", WALLS),
            Map.entry("Network.onlyTheLoopbackInterfaceExistsAndThereIsNoRoute", WALLS),
            Map.entry("Network.rawAndPacketSocketsAreRefused", WALLS),
            Map.entry("Network.dnsLookupsFailAndTheHostsResolverIsUnreachable", WALLS),
            Map.entry("Network.theInternetIsUnreachable", WALLS),
            Map.entry("Network.theHostsAbstractUnixSocketsAreUnreachable", WALLS),
            Map.entry("Resources.aForkBombHitsThePidsLimitAndTheHostKeepsWorking", LIMITS),
            Map.entry("Resources.aMemoryBombIsOomKilledAndTheSandboxSaysSo", LIMITS),
            Map.entry("Resources.fillingTmpStopsAtItsSizeWithNoSpaceLeft", LIMITS),
            Map.entry(
                    "Resources.aCpuSpinIsThrottledToItsQuota",
                    EXCLUDED + "a quota is measured against seconds of an unthrottled spinner; in an emulated"
                            + " guest both measure QEMU's translation, and a 200-millicore boot would slow the"
                            + " bombs fivefold; the guest writes cpu.max exactly as for memory and pids"),
            Map.entry(
                    "Resources.aBombInOneSandboxDoesNotStopAnother",
                    EXCLUDED + "needs a second sandbox running alongside, a second VM; each VM has its own"
                            + " memory and vCPUs, so a bomb in one cannot take the other's"),
            Map.entry("Credentials.theEnvironmentIsExactlyTheSpecs", WALLS),
            Map.entry("Credentials.noProcessInsideCarriesAnyOfTheHostsEnvironment", WALLS),
            Map.entry("Credentials.aSecretOnlyTheHostHoldsIsFoundNowhereInside", WALLS),
            Map.entry("Credentials.wellKnownHostCredentialsAndSocketsAreAbsent", WALLS),
            Map.entry("Identity.theCommandRunsUnprivilegedWithNoCapabilitiesAndNoNewPrivileges", WALLS));

    @Test
    void theSuitesAttacksOnFilesNetworkKernelAndEnvironmentAllFailInsideTheGuest() throws Exception {
        String secret = secret();
        Path readOnly = openDirectory(host.resolve("ro"));
        Path planted = writeFile(readOnly.resolve("writable-by-all"), "original", "rw-rw-rw-");
        Path readWrite = openDirectory(host.resolve("rw"));
        Path elsewhere = writeFile(host.resolve("elsewhere/secret.txt"), secret, "rw-------");
        Path home = openDirectory(host.resolve("cordon-home"));
        writeFile(home.resolve("cordon.db"), "SQLite format 3 " + secret, "rw-------");
        writeFile(home.resolve("vault/keys.json"), "{\"anthropic\": \"" + secret + "\"}", "rw-------");
        Inside inside = new Inside(backend, host, UID, Limits.DEFAULTS)
                .withProbe()
                .mount(readOnly, "/ro", Mode.READ_ONLY)
                .mount(readWrite, "/rw", Mode.READ_WRITE)
                .earlierLog("earlier sandbox said " + secret() + "\n");
        inside.giveToSandboxUser(readWrite);
        Path ws = inside.workspace();
        Files.writeString(ws.resolve("notes.txt"), "followed-inside\n");
        Files.createSymbolicLink(ws.resolve("absolute"), elsewhere);
        Files.createSymbolicLink(ws.resolve("relative"), ws.relativize(elsewhere));
        Files.createSymbolicLink(ws.resolve("directory"), host);
        Path beside = openDirectory(ws.getParent());
        writeFile(beside.resolve("outside.txt"), secret, "rw-r--r--");
        String shmId = EscapeSuite.hostCommand("ipcmk", "-M", "4096").replaceAll("(?s).*?(\\d+)\\s*$", "$1");
        Path posixShm = writeFile(Path.of("/dev/shm", "cordon-escape-" + UUID.randomUUID()), secret, "rw-rw-rw-");
        String abstractName = "cordon-escape-" + UUID.randomUUID();
        Process abstractListener = new ProcessBuilder("/usr/bin/perl", "-e", """
                        use IO::Socket::UNIX; $| = 1;
                        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => "\\0%s", Listen => 5) or die;
                        print "listening\\n"; while (my $c = $s->accept) { print $c "hello-from-the-host\\n"; close $c }
                        """.formatted(abstractName)).start();
        try (Listener listener = Listener.on(null)) {
            assertThat(new String(abstractListener.getInputStream().readNBytes(10), StandardCharsets.UTF_8))
                    .isEqualTo("listening\n");
            Result r = inside.run(WallsScript.of(secret, home, beside, elsewhere, listener.port(), abstractName));

            WallsScript.assertAllHeld(r, ws, listener);
            assertThat(planted).hasContent("original");
            assertThat(ws.resolve("shared-link")).doesNotExist();
            assertThat(ws.resolve("null")).doesNotExist();
            assertThat(writableHostMounts(r.lines().stream()
                            .filter(l -> l.startsWith("mi "))
                            .map(l -> l.substring(3))
                            .toList()))
                    .as("writable host filesystems in the guest's sandbox")
                    .containsExactlyInAnyOrder("/workspace", "/rw");
        } finally {
            abstractListener.destroyForcibly();
            EscapeSuite.hostCommand("ipcrm", "-m", shmId);
            Files.deleteIfExists(posixShm);
        }
    }

    /**
     * The suite's resource scenarios, one after the other in one guest: /tmp filled to its size
     * (a quarter of the memory limit) and emptied, then the bombs, memory first (the fork bomb's
     * sleepers would hold every pid the memory bomb's pipeline needs).
     */
    @Test
    void tmpFillsUpThenAMemoryBombIsOomKilledAndAForkBombStopsAtThePidsLimitOfTheGuestsCgroup() throws Exception {
        Result r = new Inside(backend, host, UID, new Limits(64 * MIB, 64, 1000)).run("""
                head -c 400M /dev/zero > /tmp/fill; echo "fill=$?"
                echo "mib=$(du -m /tmp/fill | cut -f1)"
                rm -f /tmp/fill
                echo after > /workspace/after && echo workspace-still-writable
                head -c 8M /dev/zero | tail | wc -c
                head -c 1G /dev/zero | tail | wc -c; echo "tail=${PIPESTATUS[1]}"
                perl -e '$| = 1; for my $i (1..1000) { my $p = fork;
                  if (!defined $p) { print "fork $i failed: $!\\n"; exit 0 }
                  if (!$p) { sleep 30; exit 0 } } print "all 1000 forked\\n"'
                echo survived
                """);

        assertThat(r.output()).contains("No space left on device", "workspace-still-writable");
        assertThat(r.value("fill")).isNotEqualTo("0");
        assertThat(Integer.parseInt(r.value("mib")))
                .as("MiB written to /tmp before ENOSPC: its size is a quarter of 64 MiB")
                .isBetween(8, 16);
        assertThat(r.output()).as("control: 8 MiB fit").contains("8388608");
        assertThat(r.value("tail")).isEqualTo("137");
        assertThat(r.output()).doesNotContain("1073741824");
        assertThat(r.oomKilled())
                .as("the host learns of the OOM kill from the guest")
                .isTrue();
        assertThat(r.output()).doesNotContain("all 1000 forked").contains("Resource temporarily unavailable");
        int forked = Integer.parseInt(r.output().replaceAll("(?s).*fork (\\d+) failed.*", "$1"));
        assertThat(forked).isLessThanOrEqualTo(64);
        assertThat(r.output()).contains("survived");
    }
}
