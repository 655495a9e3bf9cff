package dev.cordon.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The fake's own behaviour, seen by a plain HTTP client. */
class FakeModelServerTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private FakeModelServer server;

    @BeforeEach
    void start() {
        server = FakeModelServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @AfterAll
    static void closeClient() {
        HTTP.close();
    }

    private HttpResponse<String> post(String path, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> anthropic(String messages, String... headers)
            throws IOException, InterruptedException {
        String[] all = new String[headers.length + 2];
        all[0] = "anthropic-version";
        all[1] = "2023-06-01";
        System.arraycopy(headers, 0, all, 2, headers.length);
        return post("/v1/messages", "{\"model\":\"m\",\"max_tokens\":50,\"messages\":" + messages + "}", all);
    }

    @Test
    void echoesTheLastUserTextWhenNothingIsScripted() throws Exception {
        HttpResponse<String> response =
                anthropic("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"ping?\"}]}]");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode message = Wire.mapper().readTree(response.body());
        assertThat(message.path("content").get(0).path("text").asString()).isEqualTo("You said: ping?");
        assertThat(message.path("stop_reason").asString()).isEqualTo("end_turn");
    }

    @Test
    void servesTheScriptInOrderWhicheverFormatIsAsked() throws Exception {
        server.enqueue(
                Scripted.text("first").withUsage(new Usage(10, 2, 30, 0)), Scripted.toolCall("bash", "{\"c\":1}"));

        JsonNode openai = Wire.mapper()
                .readTree(post(
                                "/v1/chat/completions",
                                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                        .body());
        JsonNode anthropic = Wire.mapper()
                .readTree(anthropic("[{\"role\":\"user\",\"content\":\"x\"}]").body());

        assertThat(openai.path("choices").get(0).path("message").path("content").asString())
                .isEqualTo("first");
        assertThat(openai.path("usage").path("prompt_tokens").asLong()).isEqualTo(40);
        assertThat(openai.path("usage")
                        .path("prompt_tokens_details")
                        .path("cached_tokens")
                        .asLong())
                .isEqualTo(30);
        assertThat(anthropic.path("content").get(0).path("name").asString()).isEqualTo("bash");
        assertThat(anthropic.path("stop_reason").asString()).isEqualTo("tool_use");
        assertThat(server.queued()).isZero();
    }

    @Test
    void streamsAnthropicEventsEndingWithMessageStop() throws Exception {
        server.enqueue(Scripted.text("a b"));

        String body = post(
                        "/v1/messages",
                        "{\"model\":\"m\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                        "anthropic-version",
                        "2023-06-01")
                .body();

        assertThat(body)
                .startsWith("event: message_start\n")
                .contains("\"text_delta\",\"text\":\"a \"", "\"stop_reason\":\"end_turn\"")
                .endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

    @Test
    void rejectsAnUnansweredToolUseWithA400AndRecordsIt() throws Exception {
        server.enqueue(Scripted.text("kept for later"));

        HttpResponse<String> response = anthropic("""
                [{"role":"user","content":"go"},
                 {"role":"assistant","content":[{"type":"tool_use","id":"toolu_9","name":"bash","input":{}}]},
                 {"role":"user","content":"well?"}]
                """);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = Wire.mapper().readTree(response.body());
        assertThat(error.path("type").asString()).isEqualTo("error");
        assertThat(error.path("error").path("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.path("error").path("message").asString())
                .startsWith(
                        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_9");
        assertThat(server.violations()).hasSize(1);
        assertThat(server.queued()).isEqualTo(1);
    }

    @Test
    void rejectsAToolResultWithoutAMatchingCall() throws Exception {
        HttpResponse<String> response = anthropic("""
                [{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_x","content":"?"}]}]
                """);

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(server.violations()).singleElement().asString().contains("unexpected `tool_use_id`", "toolu_x");
    }

    @Test
    void rejectsAnOpenAiToolCallFollowedByAnythingButToolMessages() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", """
                {"model":"m","messages":[
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"call_1","type":"function","function":{"name":"a","arguments":"{}"}},
                    {"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}}]},
                  {"role":"tool","tool_call_id":"call_1","content":"ok"},
                  {"role":"user","content":"and?"}]}
                """);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = Wire.mapper().readTree(response.body()).path("error");
        assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.path("message").asString()).contains("did not have response messages: call_2");
    }

    @Test
    void demandsTheApiKeyInEachFormatsOwnHeader() throws Exception {
        server.requireApiKey("secret-key-123");
        String messages = "[{\"role\":\"user\",\"content\":\"x\"}]";
        String openAiBody = "{\"model\":\"m\",\"messages\":" + messages + "}";

        assertThat(anthropic(messages).statusCode()).isEqualTo(401);
        assertThat(anthropic(messages, "x-api-key", "nope").body())
                .contains("authentication_error", "invalid x-api-key");
        assertThat(anthropic(messages, "x-api-key", "secret-key-123").statusCode())
                .isEqualTo(200);
        assertThat(post("/v1/chat/completions", openAiBody, "Authorization", "Bearer nope-nope-nope")
                        .body())
                .contains("invalid_request_error", "Incorrect API key provided")
                .doesNotContain("nope-nope-nope");
        assertThat(post("/v1/chat/completions", openAiBody, "Authorization", "Bearer secret-key-123")
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void sendsScriptedErrorsWithTheirHeaders() throws Exception {
        server.enqueue(Scripted.rateLimited().withHeader("retry-after-ms", "250"));

        HttpResponse<String> response = anthropic("[{\"role\":\"user\",\"content\":\"x\"}]");

        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("retry-after-ms")).contains("250");
        assertThat(response.body()).contains("\"type\":\"rate_limit_error\"");
    }

    @Test
    void recordsEveryRequestWithItsHeadersAndBody() throws Exception {
        anthropic("[{\"role\":\"user\",\"content\":\"x\"}]", "x-api-key", "k");
        post("/nowhere", "");

        List<RecordedRequest> requests = server.requests();
        assertThat(requests).extracting(RecordedRequest::path).containsExactly("/v1/messages", "/nowhere");
        assertThat(requests.getFirst().header("X-Api-Key")).contains("k");
        assertThat(requests.getFirst().body().path("max_tokens").asInt()).isEqualTo(50);
        assertThat(requests.getFirst().receivedNanos())
                .isLessThanOrEqualTo(requests.getLast().receivedNanos());
        assertThat(requests.getLast().body().isMissingNode()).isTrue();
    }

    @Test
    void readsAScriptFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("script.json");
        Files.writeString(file, """
                [
                  {"text": "Hello!"},
                  {"text": "Let me look.", "toolCalls": [{"name": "bash", "input": {"command": "ls"}}]},
                  {"error": {"status": 429, "type": "rate_limit_error", "message": "Slow down",
                             "headers": {"retry-after": "2"}}},
                  {"text": "cut", "pieceBytes": 3, "stallMillis": 100, "stallMidStream": true, "disconnect": true,
                   "stop": "max_tokens", "usage": {"input": 100, "output": 5, "cacheRead": 80}},
                  {"text": "Oops", "errorEvent": {"type": "overloaded_error", "message": "Overloaded"}}
                ]
                """);

        List<Scripted> script = ScriptFile.read(file);

        assertThat(script).hasSize(5);
        assertThat(script.get(0)).isEqualTo(Scripted.text("Hello!"));
        assertThat(((Scripted.Reply) script.get(1)).toolCalls())
                .singleElement()
                .extracting(Scripted.ToolCall::name)
                .isEqualTo("bash");
        assertThat(script.get(2))
                .isEqualTo(new Scripted.HttpError(429, "rate_limit_error", "Slow down", Map.of("retry-after", "2")));
        Scripted.Reply cut = (Scripted.Reply) script.get(3);
        assertThat(cut.delivery().pieceBytes()).isEqualTo(3);
        assertThat(cut.delivery().stallMidStream()).isTrue();
        assertThat(cut.delivery().ending()).isEqualTo(new Scripted.Ending.Disconnect());
        assertThat(cut.stop()).isEqualTo(Scripted.Stop.MAX_TOKENS);
        assertThat(cut.usage()).contains(new Usage(100, 5, 80, 0));
        assertThat(((Scripted.Reply) script.get(4)).delivery().ending())
                .isEqualTo(new Scripted.Ending.ErrorEvent("overloaded_error", "Overloaded"));
    }

    @Test
    void rejectsAScriptWithAnUnknownField(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "[{\"text\": \"hi\"}, {\"txet\": \"typo\"}]");

        assertThatThrownBy(() -> ScriptFile.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("entry 1")
                .hasMessageContaining("unknown field 'txet'");
    }
}
