package dev.cordon.runner.tools;

import dev.cordon.protocol.Wire;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A tool's input schema, written once and used both ways: rendered as JSON Schema for the model and
 * checked by hand against what the model sends, so the two cannot drift apart. Only what the
 * built-in tools need: flat objects of strings, integers, booleans and string enums. Immutable.
 */
final class InputSchema {
    enum Type {
        STRING,
        INTEGER,
        BOOLEAN
    }

    record Param(
            String name,
            Type type,
            boolean required,
            boolean nonEmpty,
            long minimum,
            long maximum,
            List<String> choices,
            String description) {}

    private final String tool;
    private final Map<String, Param> params;

    private InputSchema(String tool, Map<String, Param> params) {
        this.tool = tool;
        this.params = params;
    }

    static Builder builder(String tool) {
        return new Builder(tool);
    }

    /** A fresh JSON Schema object ({@code additionalProperties: false}). */
    ObjectNode json() {
        ObjectNode schema = Wire.mapper().createObjectNode();
        schema.put("type", "object");
        ObjectNode properties = schema.putObject("properties");
        ArrayNode required = Wire.mapper().createArrayNode();
        for (Param p : params.values()) {
            ObjectNode prop = properties.putObject(p.name());
            prop.put(
                    "type",
                    switch (p.type()) {
                        case STRING -> "string";
                        case INTEGER -> "integer";
                        case BOOLEAN -> "boolean";
                    });
            prop.put("description", p.description());
            if (p.nonEmpty()) {
                prop.put("minLength", 1);
            }
            if (p.minimum() != Long.MIN_VALUE) {
                prop.put("minimum", p.minimum());
            }
            if (p.maximum() != Long.MAX_VALUE) {
                prop.put("maximum", p.maximum());
            }
            if (!p.choices().isEmpty()) {
                ArrayNode choices = prop.putArray("enum");
                p.choices().forEach(choices::add);
            }
            if (p.required()) {
                required.add(p.name());
            }
        }
        schema.set("required", required);
        schema.put("additionalProperties", false);
        return schema;
    }

    /**
     * Checks {@code input} against this schema. A JSON {@code null} for an optional argument counts
     * as absent.
     *
     * @throws InvalidInputException listing every problem found, each naming its argument
     */
    Args parse(JsonNode input) throws InvalidInputException {
        if (input == null || !input.isObject()) {
            String got = input == null ? "nothing" : describe(input);
            throw new InvalidInputException(
                    "The input must be a JSON object with arguments " + names() + ", got " + got + ".");
        }
        List<String> problems = new ArrayList<>();
        for (String name : input.propertyNames()) {
            if (!params.containsKey(name)) {
                problems.add("Unknown argument '" + name + "'; " + tool + " accepts " + names() + ".");
            }
        }
        Map<String, JsonNode> values = new LinkedHashMap<>();
        for (Param p : params.values()) {
            JsonNode value = input.get(p.name());
            if (value == null || value.isNull()) {
                if (p.required()) {
                    problems.add("Missing required argument '" + p.name() + "' (" + typeName(p) + ").");
                }
                continue;
            }
            String problem = check(p, value);
            if (problem != null) {
                problems.add("Invalid argument '" + p.name() + "': " + problem + ".");
            } else {
                values.put(p.name(), value);
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidInputException(String.join("\n", problems));
        }
        return new Args(values);
    }

    /** Returns what is wrong with {@code value}, or null if it is acceptable. */
    private static String check(Param p, JsonNode value) {
        return switch (p.type()) {
            case STRING -> checkString(p, value);
            case INTEGER -> checkInteger(p, value);
            case BOOLEAN -> value.isBoolean() ? null : "expected true or false, got " + describe(value);
        };
    }

    private static String checkString(Param p, JsonNode value) {
        if (!value.isString()) {
            return "expected a string, got " + describe(value);
        }
        String s = value.stringValue();
        if (p.nonEmpty() && s.isEmpty()) {
            return "must not be empty";
        }
        if (!p.choices().isEmpty() && !p.choices().contains(s)) {
            return "must be one of " + String.join(", ", p.choices()) + ", got \"" + Text.clip(s, 80) + "\"";
        }
        return null;
    }

    private static String checkInteger(Param p, JsonNode value) {
        // 5.0 is accepted as 5: some models write integers as floats.
        boolean integral = value.isNumber()
                && (value.isIntegralNumber() || value.canConvertToExactIntegral())
                && value.canConvertToLong();
        if (!integral) {
            return "expected an integer, got " + describe(value);
        }
        long n = value.longValue();
        if (n < p.minimum()) {
            return "must be at least " + p.minimum() + ", got " + n;
        }
        if (n > p.maximum()) {
            return "must be at most " + p.maximum() + ", got " + n;
        }
        return null;
    }

    private static String typeName(Param p) {
        return switch (p.type()) {
            case STRING -> p.nonEmpty() ? "a non-empty string" : "a string";
            case INTEGER -> "an integer";
            case BOOLEAN -> "true or false";
        };
    }

    private static String describe(JsonNode value) {
        String kind = switch (value.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case ARRAY -> "array";
            case OBJECT -> "object";
            case NULL, MISSING -> "null";
            case BINARY, POJO -> "value";
        };
        return kind + " " + Text.clip(value.toString(), 80);
    }

    private String names() {
        return String.join(", ", params.keySet());
    }

    /** Arguments that passed {@link #parse}; getters trust the schema's checks. */
    static final class Args {
        private final Map<String, JsonNode> values;

        private Args(Map<String, JsonNode> values) {
            this.values = values;
        }

        boolean has(String name) {
            return values.containsKey(name);
        }

        /** A required string argument. */
        String string(String name) {
            JsonNode value = values.get(name);
            if (value == null) {
                throw new IllegalStateException("argument '" + name + "' is optional or undeclared");
            }
            return value.stringValue();
        }

        String string(String name, String fallback) {
            JsonNode value = values.get(name);
            return value == null ? fallback : value.stringValue();
        }

        long integer(String name, long fallback) {
            JsonNode value = values.get(name);
            return value == null ? fallback : value.longValue();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode value = values.get(name);
            return value == null ? fallback : value.booleanValue();
        }
    }

    static final class Builder {
        private final String tool;
        private final Map<String, Param> params = new LinkedHashMap<>();

        private Builder(String tool) {
            this.tool = tool;
        }

        /** A required string that must not be empty. */
        Builder requiredText(String name, String description) {
            return add(
                    new Param(name, Type.STRING, true, true, Long.MIN_VALUE, Long.MAX_VALUE, List.of(), description));
        }

        /** A required string that may be empty. */
        Builder requiredString(String name, String description) {
            return add(
                    new Param(name, Type.STRING, true, false, Long.MIN_VALUE, Long.MAX_VALUE, List.of(), description));
        }

        /** An optional string that, when given, must not be empty. */
        Builder optionalText(String name, String description) {
            return add(
                    new Param(name, Type.STRING, false, true, Long.MIN_VALUE, Long.MAX_VALUE, List.of(), description));
        }

        Builder optionalInteger(String name, long minimum, long maximum, String description) {
            return add(new Param(name, Type.INTEGER, false, false, minimum, maximum, List.of(), description));
        }

        Builder optionalBoolean(String name, String description) {
            return add(new Param(
                    name, Type.BOOLEAN, false, false, Long.MIN_VALUE, Long.MAX_VALUE, List.of(), description));
        }

        Builder optionalChoice(String name, List<String> choices, String description) {
            return add(new Param(
                    name, Type.STRING, false, true, Long.MIN_VALUE, Long.MAX_VALUE, List.copyOf(choices), description));
        }

        InputSchema build() {
            return new InputSchema(tool, Collections.unmodifiableMap(new LinkedHashMap<>(params)));
        }

        private Builder add(Param p) {
            if (params.putIfAbsent(p.name(), p) != null) {
                throw new IllegalArgumentException("duplicate parameter " + p.name());
            }
            return this;
        }
    }
}
