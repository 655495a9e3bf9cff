package dev.cordon.runner.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ChatMessage;
import dev.cordon.protocol.Part;
import dev.cordon.protocol.Role;
import dev.cordon.protocol.Wire;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What each client puts on the wire, as the fake server recorded it. */
class WireRequestTest {
    private static final JsonNode SCHEMA =
            Wire.mapper().readTree("{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}}}");
    private static final ModelCall CALL = new ModelCall(
            "some-model",
            "You are Cordon.",
            List.of(
                    ChatMessage.user("list files"),
                    new ChatMessage(
                            Role.ASSISTANT,
                            List.of(
                                    new Part.Text("Listing."),
                                    new Part.ToolUse("t1", "bash", Wire.mapper().readTree("{\"command\":\"ls\"}")),
                                    new Part.ToolUse("t2", "bash", Wire.mapper().readTree("{\"command\":\"pwd\"}")))),
                    new ChatMessage(
                            Role.USER,
                            List.of(
                                    new Part.ToolResult("t1", "a.txt", false),
                                    new Part.ToolResult("t2", "permission denied", true),
                                    new Part.Text("and be quick")))),
            List.of(new ToolSpec("read", "Reads a file.", SCHEMA), new ToolSpec("bash", "Runs a command.", SCHEMA)),
            2048);

    private FakeModelServer server;

    @BeforeEach
    void start() {
        server = FakeModelServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RecordedRequest send(ModelClient client) {
        client.complete(CALL, StreamListener.NONE);
        assertThat(server.violations()).isEmpty();
        return server.requests().getLast();
    }

    @Test
    void anthropicRequestStreamsWithVersionHeaderAndMarksSystemAndToolsForCaching() {
        RecordedRequest request =
                send(ModelClients.anthropic(HttpTransports.jdk(server.baseUrl(), Map.of()), RetryPolicy.defaults()));

        assertThat(request.path()).isEqualTo("/v1/messages");
        assertThat(request.header("anthropic-version")).contains("2023-06-01");
        assertThat(request.header("accept")).contains("text/event-stream");
        assertThat(request.header("content-type")).contains("application/json");
        JsonNode body = request.body();
        assertThat(body.path("model").asString()).isEqualTo("some-model");
        assertThat(body.path("max_tokens").asInt()).isEqualTo(2048);
        assertThat(body.path("stream").asBoolean()).isTrue();
        assertThat(body.path("system"))
                .isEqualTo(
                        Wire.mapper()
                                .readTree(
                                        "[{\"type\":\"text\",\"text\":\"You are Cordon.\",\"cache_control\":{\"type\":\"ephemeral\"}}]"));
        assertThat(body.path("tools").get(0).has("cache_control")).isFalse();
        assertThat(body.path("tools").get(1))
                .isEqualTo(Wire.mapper()
                        .createObjectNode()
                        .put("name", "bash")
                        .put("description", "Runs a command.")
                        .set("input_schema", SCHEMA)
                        .set("cache_control", Wire.mapper().createObjectNode().put("type", "ephemeral")));
    }

    @Test
    void anthropicRequestCarriesToolUseAndToolResultBlocks() {
        JsonNode messages = send(ModelClients.anthropic(
                        HttpTransports.jdk(server.baseUrl(), Map.of()), RetryPolicy.defaults()))
                .body()
                .path("messages");

        assertThat(messages.get(1)).isEqualTo(Wire.mapper().readTree("""
                                {"role":"assistant","content":[
                                  {"type":"text","text":"Listing."},
                                  {"type":"tool_use","id":"t1","name":"bash","input":{"command":"ls"}},
                                  {"type":"tool_use","id":"t2","name":"bash","input":{"command":"pwd"}}]}
                                """));
        assertThat(messages.get(2)).isEqualTo(Wire.mapper().readTree("""
                                {"role":"user","content":[
                                  {"type":"tool_result","tool_use_id":"t1","content":"a.txt","is_error":false},
                                  {"type":"tool_result","tool_use_id":"t2","content":"permission denied","is_error":true},
                                  {"type":"text","text":"and be quick"}]}
                                """));
    }

    @Test
    void openAiRequestAsksForUsageAndPutsSystemFirst() {
        RecordedRequest request =
                send(ModelClients.openai(HttpTransports.jdk(server.openAiBaseUrl(), Map.of()), RetryPolicy.defaults()));

        assertThat(request.path()).isEqualTo("/v1/chat/completions");
        JsonNode body = request.body();
        assertThat(body.path("stream").asBoolean()).isTrue();
        assertThat(body.path("max_tokens").asInt()).isEqualTo(2048);
        assertThat(body.path("stream_options").path("include_usage").asBoolean())
                .isTrue();
        assertThat(body.path("messages").get(0))
                .isEqualTo(Wire.mapper().readTree("{\"role\":\"system\",\"content\":\"You are Cordon.\"}"));
        assertThat(body.path("tools").get(1))
                .isEqualTo(Wire.mapper()
                        .readTree(
                                "{\"type\":\"function\",\"function\":{\"name\":\"bash\",\"description\":\"Runs a command.\","
                                        + "\"parameters\":" + SCHEMA + "}}"));
    }

    @Test
    void openAiRequestSendsToolCallsWithStringArgumentsAndOneToolMessagePerResult() {
        JsonNode messages = send(ModelClients.openai(
                        HttpTransports.jdk(server.openAiBaseUrl(), Map.of()), RetryPolicy.defaults()))
                .body()
                .path("messages");

        assertThat(messages).isEqualTo(Wire.mapper().readTree("""
                                [{"role":"system","content":"You are Cordon."},
                                 {"role":"user","content":"list files"},
                                 {"role":"assistant","content":"Listing.","tool_calls":[
                                   {"id":"t1","type":"function","function":{"name":"bash","arguments":"{\\"command\\":\\"ls\\"}"}},
                                   {"id":"t2","type":"function","function":{"name":"bash","arguments":"{\\"command\\":\\"pwd\\"}"}}]},
                                 {"role":"tool","tool_call_id":"t1","content":"a.txt"},
                                 {"role":"tool","tool_call_id":"t2","content":"Error: permission denied"},
                                 {"role":"user","content":"and be quick"}]
                                """));
    }
}
