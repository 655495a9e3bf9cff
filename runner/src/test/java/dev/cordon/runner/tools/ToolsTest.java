package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.runner.model.ToolSpec;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class ToolsTest {
    @TempDir
    Path dir;

    @Test
    void builtinsAreTheSixToolsInOrder() {
        assertThat(Tools.builtins(ToolConfig.defaults(dir)))
                .extracting(t -> t.spec().name())
                .containsExactly("bash", "read", "write", "edit", "glob", "grep", "remember");
    }

    @Test
    void everySpecIsAClosedObjectSchemaWhoseRequiredArgumentsAreDeclared() {
        for (Tool tool : Tools.builtins(ToolConfig.defaults(dir))) {
            ToolSpec spec = tool.spec();
            JsonNode schema = spec.inputSchema();
            assertThat(schema.get("type").stringValue()).isEqualTo("object");
            assertThat(schema.get("additionalProperties").booleanValue()).isFalse();
            assertThat(schema.get("required")).isNotEmpty();
            for (JsonNode name : schema.get("required")) {
                assertThat(schema.get("properties").has(name.stringValue()))
                        .as("%s declares %s", spec.name(), name)
                        .isTrue();
            }
            assertThat(spec.description()).hasSizeBetween(100, 800);
        }
    }

    @Test
    void descriptionsStateTheConfiguredLimits() {
        ToolConfig config = new ToolConfig(dir, Duration.ofSeconds(30), Duration.ofMinutes(5), 12_345);
        var tools = new ToolHarness(config);

        assertThat(tools.tool("bash").spec().description())
                .contains("30 seconds")
                .contains("5 minutes")
                .contains("12,345 characters");
        assertThat(tools.tool("bash")
                        .spec()
                        .inputSchema()
                        .at("/properties/timeout_ms/maximum")
                        .longValue())
                .isEqualTo(300_000);
        assertThat(tools.tool("read").spec().description())
                .contains("2,000 lines")
                .contains("12,345 characters");
        assertThat(tools.tool("glob").spec().description()).contains("1,000");
        assertThat(tools.tool("grep").spec().description()).contains("1,000").contains("12,345 characters");
    }

    @Test
    void defaultsAreTwoMinutesTenMinutesAndThirtyThousandCharacters() {
        ToolConfig config = ToolConfig.defaults(Path.of("relative/ws"));

        assertThat(config.workspace()).isAbsolute();
        assertThat(config.defaultBashTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.maxBashTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.outputLimitChars()).isEqualTo(30_000);
    }

    @Test
    void configRejectsADefaultTimeoutAboveTheMaximum() {
        assertThatThrownBy(() -> new ToolConfig(dir, Duration.ofMinutes(3), Duration.ofMinutes(1), 10))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shorter than defaultBashTimeout");
    }

    @Test
    void inputThatIsNotAnObjectIsAnErrorForEveryTool() {
        var tools = new ToolHarness(dir);
        for (Tool tool : tools.tools) {
            assertThat(tool.run(ToolHarness.json("[1,2]")).isError()).isTrue();
            assertThat(tool.run(null).content()).startsWith("The input must be a JSON object with arguments ");
        }
    }

    @Test
    void nullOptionalArgumentsCountAsAbsentAndWholeFloatsAsIntegers() throws Exception {
        var tools = new ToolHarness(dir);
        java.nio.file.Files.writeString(dir.resolve("f.txt"), "one\ntwo\n");

        ToolOutput out = tools.tool("read").run(ToolHarness.json("{\"path\":\"f.txt\",\"offset\":2.0,\"limit\":null}"));

        assertThat(out).isEqualTo(ToolOutput.ok("     2\ttwo\n"));
        assertThat(tools.tool("read")
                        .run(ToolHarness.json("{\"path\":\"f.txt\",\"offset\":1.5}"))
                        .content())
                .isEqualTo("Invalid argument 'offset': expected an integer, got number 1.5.");
    }
}
