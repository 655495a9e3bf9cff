package dev.cordon.server;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * {@code ${env:NAME}} in {@code cordon.yaml} values: replaced by the daemon's environment variable
 * {@code NAME}. It exists so that the replicas of a Kubernetes StatefulSet can share one {@code
 * cordon.yaml} while each has its own {@code kubernetes.daemon_id} (the pod's name, from the
 * downward API; docs/deploy-kubernetes.md). A variable that is unset or empty is an error naming the
 * file, the key and the variable: a silent empty value would give every replica the same id, and
 * one replica's start would then delete another's pods.
 */
final class EnvValues {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    private EnvValues() {}

    /**
     * {@code node} with every {@code ${env:NAME}} in its string values replaced, in place.
     *
     * @param path the key {@code node} sits under ({@code kubernetes}), for error messages
     * @throws ConfigException naming the file, the key and the variable that is unset or empty
     */
    static JsonNode resolve(JsonNode node, String path, Path file, Map<String, String> env) {
        if (node instanceof ObjectNode object) {
            for (String key : java.util.List.copyOf(object.propertyNames())) {
                object.set(key, resolve(object.get(key), path + "." + key, file, env));
            }
            return object;
        }
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                array.set(i, resolve(array.get(i), path + "[" + i + "]", file, env));
            }
            return array;
        }
        if (node != null && node.isString()) {
            return StringNode.valueOf(resolve(node.asString(), path, file, env));
        }
        return node;
    }

    private static String resolve(String value, String path, Path file, Map<String, String> env) {
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String set = env.get(name);
            if (set == null || set.isEmpty()) {
                throw new ConfigException(file + ": " + path + ": ${env:" + name + "} names environment variable "
                        + name + ", which is " + (set == null ? "not set" : "empty")
                        + " in the daemon's environment; set it (in a pod, from the downward API:"
                        + " fieldRef metadata.name), or write the value itself");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(set));
        }
        m.appendTail(out);
        return out.toString();
    }
}
