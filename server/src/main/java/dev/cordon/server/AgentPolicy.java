package dev.cordon.server;

import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import dev.cordon.sandbox.mounts.MountRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * An agent's own policy file, {@code agents/<name>/policy.yaml}, outside the agent's reach (only
 * its workspace is mounted). Today it holds the sandbox's resource limits; the governance work
 * extends it. Read at every sandbox start. An invalid file fails closed: the sandbox does not
 * start, and the user is told the file, the field and the reason.
 *
 * <pre>
 * sandbox:
 *   memory_mb: 512        # 0 = unlimited
 *   pids: 256
 *   cpu_millicores: 500   # 1000 = one core
 *   disk_mb: 2048         # workspace quota (a loop-mounted ext4 image); 0 = none
 *   tool_timeout_seconds: 900   # the host kills the sandbox when one round of tool calls runs longer
 *   write_mounts: false   # the policy's consent to read-write mounts (the allowlist must agree too)
 *   mounts:               # extra host folders; each must pass cordon.yaml's sandbox.mount_allowlist
 *     - {host: /srv/data/reports, target: /mnt/reports, mode: ro}
 * </pre>
 */
final class AgentPolicy {
    private AgentPolicy() {}

    /** What an agent's policy asks of its sandbox. */
    record Sandbox(
            Limits limits, long diskBytes, Duration toolTimeout, List<MountRequest> mounts, boolean writeMounts) {}

    /** The defaults an agent's policy overrides: those of {@code cordon.yaml}. */
    record Defaults(Limits limits, long diskBytes, Duration toolTimeout) {
        static Defaults of(Config config) {
            return new Defaults(config.limits(), config.diskQuota().bytes(), config.toolTimeout());
        }
    }

    /**
     * The sandbox section of {@code file}; what it leaves unset comes from {@code defaults}.
     *
     * @throws SandboxException if the file is invalid: the message names the file, the field and the reason
     */
    static Sandbox sandbox(Path file, Defaults defaults) {
        Sandbox none = new Sandbox(defaults.limits(), defaults.diskBytes(), defaults.toolTimeout(), List.of(), false);
        if (!Files.exists(file)) {
            return none;
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readString(file));
        } catch (JacksonException e) {
            throw new SandboxException(file + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new SandboxException(file + ": cannot read: " + e.getMessage());
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return none;
        }
        only(file, "", root, Set.of("sandbox"));
        JsonNode sandbox = root.get("sandbox");
        if (sandbox == null || sandbox.isNull()) {
            return none;
        }
        only(
                file,
                "sandbox",
                sandbox,
                Set.of(
                        "memory_mb",
                        "pids",
                        "cpu_millicores",
                        "disk_mb",
                        "tool_timeout_seconds",
                        "mounts",
                        "write_mounts"));
        Limits base = defaults.limits();
        long memory = number(file, sandbox, "memory_mb", base.memoryBytes() >> 20, 1 << 20) << 20;
        int pids = (int) number(file, sandbox, "pids", base.maxPids(), 1 << 22);
        int cpu = (int) number(file, sandbox, "cpu_millicores", base.cpuMillicores(), 1 << 20);
        long toolSeconds = number(
                file, sandbox, "tool_timeout_seconds", defaults.toolTimeout().toSeconds(), 86_400);
        long disk = number(file, sandbox, "disk_mb", defaults.diskBytes() >> 20, 1 << 24) << 20;
        if (disk != 0 && disk < WorkspaceQuota.MIN_BYTES) {
            throw new SandboxException(
                    file + ": sandbox.disk_mb must be 0 (no quota) or at least " + (WorkspaceQuota.MIN_BYTES >> 20));
        }
        if (toolSeconds == 0) {
            throw new SandboxException(file + ": sandbox.tool_timeout_seconds must be at least 1");
        }
        Limits limits;
        try {
            limits = new Limits(memory, pids, cpu);
        } catch (IllegalArgumentException e) {
            throw new SandboxException(file + ": sandbox: " + e.getMessage());
        }
        JsonNode write = sandbox.get("write_mounts");
        if (write != null && !write.isBoolean()) {
            throw new SandboxException(file + ": sandbox.write_mounts must be true or false");
        }
        List<MountRequest> mounts = new ArrayList<>();
        JsonNode list = sandbox.get("mounts");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw new SandboxException(file + ": sandbox.mounts must be a list of {host, target, mode}");
            }
            int i = 0;
            for (JsonNode m : list) {
                String where = "sandbox.mounts[" + i++ + "]";
                only(file, where, m, Set.of("host", "target", "mode"));
                String host = m.path("host").asString("");
                String target = m.path("target").asString("");
                String mode = m.path("mode").asString("ro");
                if (host.isEmpty() || target.isEmpty()) {
                    throw new SandboxException(file + ": " + where + " needs both host and target");
                }
                if (!mode.equals("ro") && !mode.equals("rw")) {
                    throw new SandboxException(file + ": " + where + ".mode must be ro or rw, got '" + mode + "'");
                }
                mounts.add(new MountRequest(
                        Path.of(host),
                        target,
                        mode.equals("rw") ? SandboxSpec.Mode.READ_WRITE : SandboxSpec.Mode.READ_ONLY));
            }
        }
        return new Sandbox(limits, disk, Duration.ofSeconds(toolSeconds), mounts, write != null && write.asBoolean());
    }

    private static void only(Path file, String where, JsonNode node, Set<String> known) {
        if (!node.isObject()) {
            throw new SandboxException(file + ": " + (where.isEmpty() ? "the file" : where) + " must be a mapping");
        }
        for (Iterator<String> it = node.propertyNames().iterator(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new SandboxException(
                        file + ": unknown field '" + (where.isEmpty() ? key : where + "." + key) + "' (known: "
                                + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static long number(Path file, JsonNode sandbox, String field, long fallback, long max) {
        JsonNode n = sandbox.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > max) {
            throw new SandboxException(
                    file + ": sandbox." + field + " must be a whole number from 0 to " + max + ", got '" + n + "'");
        }
        return n.asLong();
    }
}
