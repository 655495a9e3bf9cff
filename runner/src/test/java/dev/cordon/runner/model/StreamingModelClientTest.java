package dev.cordon.runner.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.protocol.ChatMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/** Cases the fake server cannot produce, over an in-memory transport. */
class StreamingModelClientTest {
    private static final ModelCall HELLO = new ModelCall("m", "", List.of(ChatMessage.user("hi")), List.of(), 10);

    private static HttpTransport replying(String... bodies) {
        Queue<String> queue = new ArrayDeque<>(List.of(bodies));
        return (path, headers, body) -> new HttpTransport.Response(
                200,
                Map.of("content-type", List.of("text/event-stream")),
                new ByteArrayInputStream(queue.remove().getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aStreamThatEndsCleanlyWithoutMessageStopIsRetried() {
        Recorder recorder = new Recorder();
        String start = """
                event: message_start
                data: {"type":"message_start","message":{"usage":{}}}

                event: content_block_start
                data: {"index":0,"content_block":{"type":"text","text":""}}

                event: content_block_delta
                data: {"index":0,"delta":{"type":"text_delta","text":"hi"}}

                """;
        String end = """
                event: message_delta
                data: {"delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}

                event: message_stop
                data: {}

                """;
        ModelClient client = ModelClients.anthropic(replying(start, start + end), recorder.policy());

        ModelReply reply = client.complete(HELLO, recorder);

        assertThat(reply.message().text()).isEqualTo("hi");
        assertThat(recorder.events)
                .containsExactly("text:hi", "reset:Anthropic stream ended before message_stop", "text:hi");
    }

    @Test
    void openAiStreamWithoutDoneIsRetried() {
        Recorder recorder = new Recorder();
        String chunks =
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n";
        ModelClient client = ModelClients.openai(replying(chunks, chunks + "data: [DONE]\n\n"), recorder.policy());

        assertThat(client.complete(HELLO, recorder).message().text()).isEqualTo("hi");
        assertThat(recorder.resets()).containsExactly("OpenAI stream ended before [DONE]");
    }

    @Test
    void aCorruptFrameCountsAsABrokenStream() {
        Recorder recorder = new Recorder();
        String good = """
                data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}

                data: [DONE]

                """;
        ModelClient client = ModelClients.openai(replying("data: {\"choices\":[{\"ind\n\n", good), recorder.policy());

        assertThat(client.complete(HELLO, recorder).message().text()).isEqualTo("ok");
        assertThat(recorder.resets()).singleElement().asString().contains("malformed event");
    }

    @Test
    void aJsonBodyInsteadOfAStreamFailsWithTheErrorItCarries() {
        Recorder recorder = new Recorder();
        HttpTransport gateway = (path, headers, body) -> new HttpTransport.Response(
                200,
                Map.of("Content-Type", List.of("application/json")),
                new ByteArrayInputStream("{\"error\":{\"message\":\"No endpoints found\",\"code\":404}}"
                        .getBytes(StandardCharsets.UTF_8)));

        assertThatThrownBy(() -> ModelClients.openai(gateway, recorder.policy()).complete(HELLO, recorder))
                .isInstanceOf(ModelException.class)
                .hasMessage("OpenAI API answered 200 with JSON instead of an event stream: 404: No endpoints found");
        assertThat(recorder.sleeps).isEmpty();
    }

    @Test
    void theSdkDefaultsAreTwoRetriesFromHalfASecondUpToEightWithAQuarterJitter() {
        RetryPolicy defaults = RetryPolicy.defaults();

        assertThat(defaults.maxRetries()).isEqualTo(2);
        assertThat(defaults.initialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(defaults.maxBackoff()).isEqualTo(Duration.ofSeconds(8));
        for (int i = 0; i < 100; i++) {
            assertThat(defaults.backoff(0)).isBetween(Duration.ofMillis(375), Duration.ofMillis(500));
            assertThat(defaults.backoff(10)).isBetween(Duration.ofSeconds(6), Duration.ofSeconds(8));
        }
    }

    @Test
    void backoffDoublesUpToTheCapAndJitterOnlyShortensIt() {
        RetryPolicy noJitter = new Recorder().policy();
        RetryPolicy fullJitter = new RetryPolicy(
                2,
                noJitter.initialBackoff(),
                noJitter.maxBackoff(),
                noJitter.idleTimeout(),
                noJitter.sleeper(),
                () -> -1L,
                noJitter.clock());

        assertThat(List.of(noJitter.backoff(0), noJitter.backoff(1), noJitter.backoff(4), noJitter.backoff(5)))
                .containsExactly(
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofSeconds(8));
        assertThat(fullJitter.backoff(0)).isBetween(Duration.ofMillis(375), Duration.ofMillis(376));
    }
}
