package dev.cordon.server;

import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.k8s.KubernetesSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code sandbox.backend} and the {@code kubernetes:} block of {@code cordon.yaml}
 * (docs/deploy-kubernetes.md): whether this daemon runs its sandboxes as pods. {@link Config} only
 * admits the two keys; their meaning is read here so the shared config stays small.
 */
final class KubernetesChoice {
    private KubernetesChoice() {}

    /**
     * The cluster settings when {@code sandbox.backend} is {@code kubernetes}; null when it is {@code
     * bubblewrap} (the default) or the file does not exist. Values of the {@code kubernetes:} block may
     * be {@code ${env:NAME}} ({@link EnvValues}), taken from {@code env}.
     *
     * @throws ConfigException naming the file, the key and what is wrong
     */
    static KubernetesSettings load(Path file, Map<String, String> env) {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            PolicyYaml yaml = PolicyYaml.parse(file.toString(), Files.readString(file));
            JsonNode root = yaml.root();
            JsonNode backend = root == null ? null : root.path("sandbox").get("backend");
            String name = backend == null || backend.isNull() ? "bubblewrap" : backend.asString();
            if (name.equals("bubblewrap")) {
                return null;
            }
            if (!name.equals("kubernetes")) {
                throw new ConfigException(file + ": sandbox.backend must be bubblewrap (the default) or kubernetes,"
                        + " got '" + name + "'; an agent's own policy.yaml picks runc or runsc");
            }
            JsonNode block = root.get("kubernetes");
            if (block != null && !block.isNull() && !block.isObject()) {
                throw new ConfigException(file + ": kubernetes must be a mapping");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> map = block == null || block.isNull()
                    ? null
                    : JsonMapper.builder()
                            .build()
                            .treeToValue(EnvValues.resolve(block, "kubernetes", file, env), Map.class);
            return KubernetesSettings.parse(file.toString(), map);
        } catch (SandboxException e) {
            throw new ConfigException(e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
    }
}
