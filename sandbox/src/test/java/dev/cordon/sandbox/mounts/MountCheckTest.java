package dev.cordon.sandbox.mounts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxSpec.Mode;
import dev.cordon.core.sandbox.SandboxSpec.Mount;
import dev.cordon.sandbox.mounts.MountException.Rule;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Mount requests checked against a real allowlist of real directories and symlinks. */
class MountCheckTest {
    @TempDir
    Path dir;

    Path ro;
    Path rw;
    MountAllowlist allowlist;

    @BeforeEach
    void allowlist() throws Exception {
        ro = Files.createDirectories(dir.resolve("a/data")).toRealPath();
        rw = Files.createDirectories(dir.resolve("a/scratch")).toRealPath();
        allowlist = MountAllowlist.of(
                List.of(new AllowedRoot(ro, Mode.READ_ONLY), new AllowedRoot(rw, Mode.READ_WRITE)),
                dir.resolve("cordon-home"));
    }

    static MountRequest request(Path host, String target, Mode mode) {
        return new MountRequest(host, target, mode);
    }

    AbstractThrowableAssert<?, ? extends Throwable> refused(
            MountRequest request, boolean policyAllowsWrite, Rule rule) {
        return assertThatThrownBy(() -> allowlist.check(request, policyAllowsWrite))
                .isInstanceOf(MountException.class)
                .satisfies(e -> assertThat(((MountException) e).rule()).isEqualTo(rule))
                .hasMessageStartingWith("mount " + request.hostPath() + " -> " + request.target() + " refused: ")
                .hasMessageContaining("(rule: " + rule.label() + ")");
    }

    @Test
    void aReadOnlyRequestUnderAnAllowedRootIsGrantedReadOnly() throws Exception {
        Path reports = Files.createDirectories(ro.resolve("reports"));
        assertThat(allowlist.check(request(reports, "/mnt/reports", Mode.READ_ONLY), false))
                .isEqualTo(new Mount(reports, "/mnt/reports", Mode.READ_ONLY));
        assertThat(allowlist
                        .check(request(ro, "/mnt/all", Mode.READ_ONLY), true)
                        .mode())
                .isEqualTo(Mode.READ_ONLY);
    }

    @Test
    void aReadOnlyRequestUnderAReadWriteRootNeedsNoWritePermission() throws Exception {
        assertThat(allowlist.check(request(rw, "/mnt/scratch", Mode.READ_ONLY), false))
                .isEqualTo(new Mount(rw, "/mnt/scratch", Mode.READ_ONLY));
    }

    @Test
    void aSingleRegularFileCanBeMounted() throws Exception {
        Path file = Files.writeString(ro.resolve("notes.txt"), "hi");
        assertThat(allowlist
                        .check(request(file, "/mnt/notes.txt", Mode.READ_ONLY), false)
                        .source())
                .isEqualTo(file);
    }

    @Test
    void readWriteIsGrantedWhenTheRootAndThePolicyBothAllowIt() throws Exception {
        Path out = Files.createDirectories(rw.resolve("out"));
        assertThat(allowlist.check(request(out, "/mnt/out", Mode.READ_WRITE), true))
                .isEqualTo(new Mount(out, "/mnt/out", Mode.READ_WRITE));
    }

    @Test
    void readWriteUnderAReadWriteRootIsRefusedWhenThePolicyDoesNotAllowWrites() {
        refused(request(rw, "/mnt/out", Mode.READ_WRITE), false, Rule.READ_WRITE)
                .hasMessageContaining("read-write refused: the agent's policy does not allow writes")
                .hasMessageNotContainingAny("read-only");
    }

    @Test
    void readWriteUnderAReadOnlyRootIsRefusedNotDowngradedEvenWhenThePolicyAllowsWrites() {
        refused(request(ro, "/mnt/data", Mode.READ_WRITE), true, Rule.READ_WRITE)
                .hasMessageContaining("read-write refused: allowlist entry " + ro + " is read-only (rule: read-write)")
                .hasMessageNotContainingAny("policy does not");
    }

    @Test
    void readWriteRefusedByBothSaysSo() {
        refused(request(ro, "/mnt/data", Mode.READ_WRITE), false, Rule.READ_WRITE)
                .hasMessageContaining("allowlist entry " + ro + " is read-only, and the agent's policy does not allow");
    }

    @Test
    void aSymlinkInsideAnAllowedRootPointingOutsideItIsRefused() throws Exception {
        Path secret = Files.createDirectories(dir.resolve("elsewhere/private"));
        Path link = Files.createSymbolicLink(ro.resolve("shortcut"), secret);
        refused(request(link, "/mnt/x", Mode.READ_ONLY), false, Rule.ALLOWLIST)
                .hasMessageContaining(
                        "resolves to " + secret.toRealPath() + ", which is not under any allowed directory");
    }

    @Test
    void aSymlinkedParentDirectoryCannotEscapeEither() throws Exception {
        Path secret = Files.createDirectories(dir.resolve("elsewhere/private"));
        Files.writeString(secret.resolve("f.txt"), "x");
        Files.createSymbolicLink(ro.resolve("up"), dir.resolve("elsewhere"));
        refused(request(ro.resolve("up/private/f.txt"), "/mnt/f", Mode.READ_ONLY), false, Rule.ALLOWLIST);
        refused(request(ro.resolve("../../elsewhere"), "/mnt/e", Mode.READ_ONLY), false, Rule.ALLOWLIST);
    }

    @Test
    void aSymlinkThatStaysInsideTheRootIsGrantedAsItsRealPath() throws Exception {
        Path reports = Files.createDirectories(ro.resolve("2026/reports"));
        Path link = Files.createSymbolicLink(ro.resolve("latest"), reports);
        assertThat(allowlist
                        .check(request(link, "/mnt/latest", Mode.READ_ONLY), false)
                        .source())
                .isEqualTo(reports);
    }

    @Test
    void aSiblingWhoseNameStartsWithTheRootIsNotUnderIt() throws Exception {
        Path data2 = Files.createDirectories(dir.resolve("a/data2")).toRealPath();
        assertThat(data2.toString()).startsWith(ro.toString());
        refused(request(data2, "/mnt/data2", Mode.READ_ONLY), false, Rule.ALLOWLIST)
                .hasMessageContaining("host path is not under any allowed directory (" + ro + " ro, " + rw + " rw)");
    }

    @Test
    void aMissingHostPathIsRefused() {
        refused(request(ro.resolve("nope"), "/mnt/nope", Mode.READ_ONLY), false, Rule.HOST_PATH)
                .hasMessageContaining("host path does not exist");
    }

    @Test
    void aDanglingSymlinkIsRefused() throws Exception {
        Path link = Files.createSymbolicLink(ro.resolve("dangling"), ro.resolve("gone"));
        refused(request(link, "/mnt/d", Mode.READ_ONLY), false, Rule.HOST_PATH);
    }

    @Test
    void aRelativeHostPathIsRefused() {
        refused(request(Path.of("a/data"), "/mnt/data", Mode.READ_ONLY), false, Rule.HOST_PATH)
                .hasMessageContaining("host path is not absolute");
    }

    @Test
    void aSocketIsRefusedEvenUnderAnAllowedRoot() throws Exception {
        Path socket = ro.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            refused(request(socket, "/mnt/sock", Mode.READ_ONLY), false, Rule.HOST_PATH)
                    .hasMessageContaining("neither a directory nor a regular file");
        }
    }

    @Test
    void theRefusalMessageNamesThePathTheComponentAndTheRule() throws Exception {
        Path keys = Files.createDirectories(ro.resolve("bob/.ssh"));
        assertThatThrownBy(() -> allowlist.check(request(keys, "/mnt/keys", Mode.READ_ONLY), false))
                .hasMessageStartingWith("mount " + keys
                        + " -> /mnt/keys refused: credential-like path component '.ssh' (rule: credentials)");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                ".ssh",
                ".gnupg",
                ".aws",
                ".azure",
                ".kube",
                ".docker",
                ".password-store",
                ".config/gcloud",
                ".config/gh",
                ".local/share/keyrings",
                ".cargo/credentials.toml",
                ".m2/settings.xml",
                ".npmrc",
                ".pypirc",
                ".netrc",
                ".git-credentials",
                ".pgpass",
                ".vault-token",
                ".env",
                ".env.local",
                "id_rsa",
                "id_rsa.pub",
                "id_dsa",
                "id_ecdsa",
                "id_ed25519",
                "id_ed25519_sk",
                "server.pem",
                "tls.key",
                "bundle.p12",
                "putty.ppk",
                ".SSH"
            })
    void aCredentialLikePathIsRefusedUnderAnAllowedRootEvenWithAllowCredentials(String name) throws Exception {
        Path root = Files.createDirectories(dir.resolve("lenient")).toRealPath();
        MountAllowlist lenient =
                MountAllowlist.of(List.of(new AllowedRoot(root, Mode.READ_ONLY, true)), dir.resolve("cordon-home"));
        Path credential = Files.createDirectories(root.resolve("bob").resolve(name));
        for (Path host : List.of(credential, Files.createDirectories(credential.resolve("inside")))) {
            assertThatThrownBy(() -> lenient.check(request(host, "/mnt/x", Mode.READ_ONLY), false))
                    .isInstanceOf(MountException.class)
                    .hasMessageContaining("credential-like path component '" + name + "'")
                    .hasMessageContaining("(rule: credentials)");
        }
    }

    @Test
    void aSymlinkToACredentialDirectoryIsRefusedByItsRealName() throws Exception {
        Path keys = Files.createDirectories(ro.resolve(".aws"));
        Path link = Files.createSymbolicLink(ro.resolve("config"), keys);
        refused(request(link, "/mnt/config", Mode.READ_ONLY), false, Rule.CREDENTIALS)
                .hasMessageContaining("resolves to " + keys + ", which has a credential-like path component '.aws'");
    }

    @Test
    void aCredentialNameAsWrittenIsRefusedEvenIfItResolvesElsewhere() throws Exception {
        Path plain = Files.createDirectories(ro.resolve("plain"));
        Path link = Files.createSymbolicLink(ro.resolve(".kube"), plain);
        refused(request(link, "/mnt/kube", Mode.READ_ONLY), false, Rule.CREDENTIALS)
                .hasMessageContaining("'.kube'");
    }

    @ParameterizedTest
    @ValueSource(strings = {".ssh", ".env", "id_ed25519", "deploy.pem", ".config/gcloud", ".git-credentials"})
    void aFolderHoldingACredentialAtItsTopLevelIsRefusedUnlessTheEntryAllowsCredentials(String name) throws Exception {
        Path project = Files.createDirectories(ro.resolve("project"));
        Path entry = project.resolve(name);
        Files.createDirectories(entry.getParent());
        Files.writeString(entry, "secret");
        refused(request(project, "/mnt/project", Mode.READ_ONLY), false, Rule.CREDENTIALS)
                .hasMessageContaining("holds a credential-like entry '" + name + "'")
                .hasMessageContaining("allow_credentials: true");

        MountAllowlist lenient =
                MountAllowlist.of(List.of(new AllowedRoot(ro, Mode.READ_ONLY, true)), dir.resolve("cordon-home"));
        assertThat(lenient.check(request(project, "/mnt/project", Mode.READ_ONLY), false)
                        .source())
                .isEqualTo(project);
    }

    @Test
    void aFolderThatContinuesAMultiPartCredentialPatternIsRefused() throws Exception {
        Path config = Files.createDirectories(ro.resolve("bob/.config"));
        Files.createDirectories(config.resolve("gcloud"));
        refused(request(config, "/mnt/config", Mode.READ_ONLY), false, Rule.CREDENTIALS)
                .hasMessageContaining("'.config/gcloud'");
        Path local = Files.createDirectories(ro.resolve("bob/.local"));
        Files.createDirectories(local.resolve("share/keyrings"));
        refused(request(local, "/mnt/local", Mode.READ_ONLY), false, Rule.CREDENTIALS)
                .hasMessageContaining("'.local/share/keyrings'");
    }

    @Test
    void onlyTheTopLevelOfAFolderIsScannedForCredentials() throws Exception {
        Path project = Files.createDirectories(ro.resolve("project"));
        Files.createDirectories(project.resolve("deep/nested/.ssh"));
        Files.writeString(project.resolve(".envrc"), "not a dotenv");
        Files.writeString(project.resolve("keys.txt"), "not a key by name");
        assertThat(allowlist.check(request(project, "/mnt/project", Mode.READ_ONLY), false))
                .isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"mnt/x", "/mnt/../etc", "/mnt/x/..", "/mnt/./x", "/mnt//x", "/mnt/x/", "/mnt/x\n", ".."})
    void aTargetThatIsNotANormalAbsolutePathIsRefused(String target) {
        refused(request(ro, target, Mode.READ_ONLY), false, Rule.TARGET);
    }

    @Test
    void aTargetWithDotDotSaysSo() {
        refused(request(ro, "/mnt/../workspace", Mode.READ_ONLY), false, Rule.TARGET)
                .hasMessageContaining("target contains '..'");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/",
                "/usr",
                "/usr/local/data",
                "/bin",
                "/lib64",
                "/etc",
                "/etc/ssl",
                "/proc",
                "/sys",
                "/dev",
                "/dev/shm",
                "/tmp",
                "/tmp/data",
                "/workspace",
                "/workspace/data",
                "/run",
                "/run/cordon",
                "/run/cordon/host.sock",
                "/opt",
                "/opt/cordon",
                "/opt/cordon/lib"
            })
    void aTargetThatShadowsAPathTheSandboxNeedsIsRefused(String target) {
        refused(request(ro, target, Mode.READ_ONLY), false, Rule.TARGET)
                .hasMessageContaining("which the sandbox needs");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/mnt/reports", "/data", "/opt/data", "/run/data", "/home/agent/data", "/workspaces"})
    void aTargetBesideThePathsTheSandboxNeedsIsAccepted(String target) {
        assertThat(allowlist.check(request(ro, target, Mode.READ_ONLY), false).target())
                .isEqualTo(target);
    }

    @Test
    void checkAllRefusesTargetsThatOverlapEachOtherOrTheSandboxsOwnMounts() throws Exception {
        Path a = Files.createDirectories(ro.resolve("a"));
        Path b = Files.createDirectories(ro.resolve("b"));
        List<Mount> system = List.of(new Mount(dir, "/opt/java", Mode.READ_ONLY));

        assertThat(allowlist.checkAll(
                        List.of(request(a, "/mnt/a", Mode.READ_ONLY), request(b, "/mnt/b", Mode.READ_ONLY)),
                        false,
                        system))
                .extracting(Mount::source)
                .containsExactly(a, b);
        assertThatThrownBy(() -> allowlist.checkAll(
                        List.of(request(a, "/mnt/a", Mode.READ_ONLY), request(b, "/mnt/a/b", Mode.READ_ONLY)),
                        false,
                        system))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("mount " + b + " -> /mnt/a/b refused: target overlaps the mount of " + a)
                .hasMessageContaining("(rule: target)");
        assertThatThrownBy(
                        () -> allowlist.checkAll(List.of(request(a, "/opt/java/lib", Mode.READ_ONLY)), false, system))
                .isInstanceOf(MountException.class)
                .hasMessageContaining("target overlaps the sandbox's own mount at /opt/java");
    }
}
