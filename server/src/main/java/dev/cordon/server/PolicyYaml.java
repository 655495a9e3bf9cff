package dev.cordon.server;

import dev.cordon.core.sandbox.SandboxException;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A YAML document read into a JSON tree together with where each field is: Jackson's tree keeps no
 * locations, so the tree is built here from the parser's tokens, recording the line and column of
 * every key and list item under its field path ({@code sandbox.memory_mb}, {@code tools.bash.deny[2]},
 * {@code tools."*".default}). Duplicate keys are an error (YAML forbids them; Jackson would keep
 * the last silently).
 *
 * @param root the document; {@code null} for an empty document (only comments, or nothing)
 * @param file how errors name the file
 */
record PolicyYaml(String file, JsonNode root, Map<String, Position> positions) {
    private static final YAMLMapper YAML = new YAMLMapper();

    /** A 1-based line and column in the file. */
    record Position(int line, int column) {
        @Override
        public String toString() {
            return line + ":" + column;
        }
    }

    /**
     * Parses {@code text}.
     *
     * @throws SandboxException if it is not YAML; the message is {@code file:line:column: reason}
     */
    static PolicyYaml parse(String file, String text) {
        Map<String, Position> positions = new HashMap<>();
        try (JsonParser p = YAML.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return new PolicyYaml(file, null, Map.of());
            }
            positions.put("", position(p.currentTokenLocation()));
            JsonNode root = read(file, p, "", positions);
            return new PolicyYaml(file, root.isNull() ? null : root, Map.copyOf(positions));
        } catch (JacksonException e) {
            TokenStreamLocation at = e.getLocation();
            throw new SandboxException(file + (at == null ? "" : ":" + position(at)) + ": not valid YAML: "
                    + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    /** Where {@code path} is, else where its nearest enclosing field is (the file's start at worst). */
    Position at(String path) {
        String p = path;
        while (true) {
            Position found = positions.get(p);
            if (found != null || p.isEmpty()) {
                return found == null ? new Position(1, 1) : found;
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
    }

    /** An error about {@code path}: {@code file:line:column: path: reason}. */
    SandboxException error(String path, String reason) {
        return new SandboxException(file + ":" + at(path) + ": " + (path.isEmpty() ? "" : path + ": ") + reason);
    }

    /** How a key appears in a field path: as itself, or quoted if it is not a plain word. */
    static String key(String parent, String name) {
        String k = name.matches("[A-Za-z0-9_-]+") ? name : "\"" + name + "\"";
        return parent.isEmpty() ? k : parent + "." + k;
    }

    private static JsonNode read(String file, JsonParser p, String path, Map<String, Position> positions) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (p.currentToken()) {
            case START_OBJECT -> {
                ObjectNode object = nodes.objectNode();
                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                    String name = p.currentName();
                    String child = key(path, name);
                    Position where = position(p.currentTokenLocation());
                    if (object.has(name)) {
                        throw new SandboxException(file + ":" + where + ": " + child + ": duplicate key (first at line "
                                + positions.get(child).line() + ")");
                    }
                    positions.put(child, where);
                    p.nextToken();
                    object.set(name, read(file, p, child, positions));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = nodes.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    String child = path + "[" + i++ + "]";
                    positions.put(child, position(p.currentTokenLocation()));
                    array.add(read(file, p, child, positions));
                }
                yield array;
            }
            // YAML's other spelling of null; Jackson's YAML parser reports it as the string "~".
            case VALUE_STRING -> p.getString().equals("~") ? nodes.nullNode() : nodes.stringNode(p.getString());
            case VALUE_NUMBER_INT -> nodes.numberNode(p.getBigIntegerValue());
            case VALUE_NUMBER_FLOAT -> nodes.numberNode(p.getDecimalValue());
            case VALUE_TRUE -> nodes.booleanNode(true);
            case VALUE_FALSE -> nodes.booleanNode(false);
            case VALUE_NULL -> nodes.nullNode();
            default -> nodes.stringNode(p.getString());
        };
    }

    private static Position position(TokenStreamLocation location) {
        return new Position(location.getLineNr(), location.getColumnNr());
    }
}
