package dev.cordon.sandbox.escape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.oci.Oci;
import dev.cordon.testkit.LocalImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The escape suite against the podman backend on an operator's image ({@code sandbox.image}) in
 * place of the host's system directories: an image built here with no registry ({@link
 * LocalImage}), removed afterwards. Needs root, podman and crun, as {@link PodmanEscapeTest}.
 */
class PodmanImageEscapeTest extends EscapeSuite {
    static final String TAG = "localhost/cordon-test:" + ProcessHandle.current().pid();

    private static SandboxBackend backend;

    @BeforeAll
    static void buildImage(@TempDir Path stage) throws Exception {
        LocalImage.build(TAG, stage);
        backend = Oci.podman(TAG);
    }

    @AfterAll
    static void removeImage() {
        LocalImage.remove(TAG);
    }

    @Override
    protected SandboxBackend backend() {
        return backend;
    }

    @Test
    void theRootFilesystemIsTheImagesNotTheHosts() throws Exception {
        Path marker = Path.of("/usr/share/doc/podman");
        assertThat(marker).as("a host directory the image lacks").exists();
        Inside.Result r =
                inside().run("ls /usr/share/doc/podman >/dev/null 2>&1 && echo leaked; ls /usr/share/doc | wc -l");
        assertThat(r.output()).doesNotContain("leaked");
        long hostDocs;
        try (var listed = Files.list(Path.of("/usr/share/doc"))) {
            hostDocs = listed.count();
        }
        assertThat(Long.parseLong(r.output().lines().findFirst().orElseThrow().strip()))
                .isLessThan(hostDocs);
    }

    @Test
    void anImageMissingHereIsRefusedNamingItAndHowToLoadIt() {
        String missing = "localhost/cordon-missing:" + ProcessHandle.current().pid();
        assertThatThrownBy(() -> Oci.podman(missing))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining(missing)
                .hasMessageContaining("never pulls")
                .hasMessageContaining("podman pull " + missing)
                .hasMessageContaining("podman load");
    }

    @Test
    void anOptionPassedAsAnImageNameIsRefused() {
        assertThatThrownBy(() -> Oci.podman("--privileged"))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("not an image name: '--privileged'");
    }
}
