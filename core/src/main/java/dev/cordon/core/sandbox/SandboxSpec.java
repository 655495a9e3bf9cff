package dev.cordon.core.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a sandbox is made of. Backends must give the process nothing that is not named here: no
 * host environment, no host files beyond {@code mounts}, no network beyond loopback.
 *
 * @param id unique per sandbox, safe as a file name
 * @param mounts host paths made visible inside, in order
 * @param command the program to run inside, first element an absolute path inside the sandbox
 * @param env the whole environment of {@code command}
 * @param uid host uid the process runs as; never 0 (the backend refuses it)
 * @param workDir working directory inside
 * @param log host file that receives the process's stdout and stderr
 * @param limits resource caps; a backend that cannot enforce one of them refuses to start
 */
public record SandboxSpec(
        String id,
        List<Mount> mounts,
        List<String> command,
        Map<String, String> env,
        int uid,
        int gid,
        String hostname,
        String workDir,
        Path log,
        Limits limits) {
    public SandboxSpec {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(id, "id");
        mounts = List.copyOf(mounts);
        command = List.copyOf(command);
        env = Map.copyOf(env);
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(log, "log");
    }

    /** A spec with {@link Limits#DEFAULTS}. */
    public SandboxSpec(
            String id,
            List<Mount> mounts,
            List<String> command,
            Map<String, String> env,
            int uid,
            int gid,
            String hostname,
            String workDir,
            Path log) {
        this(id, mounts, command, env, uid, gid, hostname, workDir, log, Limits.DEFAULTS);
    }

    /** A host path visible inside at {@code target}. */
    public record Mount(Path source, String target, Mode mode) {
        public Mount {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(mode, "mode");
            if (!target.startsWith("/")) {
                throw new IllegalArgumentException("mount target must be absolute: " + target);
            }
        }
    }

    public enum Mode {
        READ_ONLY,
        READ_WRITE
    }
}
