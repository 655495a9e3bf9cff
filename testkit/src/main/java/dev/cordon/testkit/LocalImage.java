package dev.cordon.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A podman image built on this host with no registry: the files of a few Debian packages (the
 * shell and tools the escape suite's scripts use) and the shared libraries they and this JVM need,
 * copied into a directory, tarred and {@code podman import}ed under a local tag (~80 MB, a few
 * seconds). It holds no JDK: the sandbox gets the host's, as the runner does. Needs root, podman
 * and a Debian host (dpkg, merged /usr).
 */
public final class LocalImage {
    /** The Debian packages whose files the image holds, with the libraries they and the JDK link. */
    public static final List<String> PACKAGES = List.of(
            "libc6",
            "dash",
            "libc-bin",
            "hostname",
            "bash",
            "coreutils",
            "perl-base",
            "util-linux",
            "bsdutils",
            "procps",
            "iproute2",
            "grep",
            "sed",
            "findutils",
            "mawk");

    private static final String SCRIPT = """
            set -euo pipefail
            stage="$1"; tag="$2"; java_home="$3"; shift 3
            mkdir -p "$stage/root"
            cd "$stage/root"
            { dpkg -L "$@"; find "$java_home" -name '*.so' -o -path '*/bin/java'; } | sort -u > ../listed
            { grep -v "^$java_home" ../listed
              grep -E '/s?bin/|[.]so([.]|$)' ../listed | xargs -d '\\n' ldd 2>/dev/null | grep -v ':$' | grep -o '/[^ ]*' || true
            } | sort -u > ../wanted
            # Only files and links, never a directory; each at its path under /usr (Debian 12's /bin,
            # /lib... are links to /usr's, made below) and at its target's real path.
            while read -r f; do
              if [ ! -d "$f" ] && { [ -L "$f" ] || [ -f "$f" ]; }; then echo "$f"; fi
            done < ../wanted > ../files
            { sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\\1/#' ../files; xargs -d '\\n' realpath < ../files; } \\
              | grep -v "^$java_home" | sort -u | xargs -d '\\n' cp -P --preserve=mode,ownership --parents -t .
            for link in bin lib lib64 sbin; do [ -e "$link" ] || ln -s "usr/$link" "$link"; done
            mkdir -p tmp proc dev sys etc workspace
            # cp makes the parents under the test's umask, and the test's temporary directory is 0700.
            find . -type d -exec chmod 755 {} +
            chmod 1777 tmp
            tar -cf ../rootfs.tar .
            podman import ../rootfs.tar "$tag" > /dev/null
            """;

    private LocalImage() {}

    /** Builds {@code tag} from the host's files, staging them in {@code stage}. Blocks for seconds. */
    public static void build(String tag, Path stage) throws IOException, InterruptedException {
        Files.createDirectories(stage);
        var argv = new java.util.ArrayList<>(List.of(
                "/bin/bash", "-c", SCRIPT, "build-image", stage.toString(), tag, System.getProperty("java.home")));
        argv.addAll(PACKAGES);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("could not build image " + tag + ":\n" + out);
        }
    }

    /** Removes {@code tag} from podman's store; never throws. */
    public static void remove(String tag) {
        try {
            new ProcessBuilder("podman", "rmi", "--force", tag)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor();
        } catch (IOException e) {
            // nothing to remove
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
