package dev.cordon.egress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.session.ModelGateway;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import dev.cordon.protocol.Usage;
import dev.cordon.protocol.Wire;
import dev.cordon.testkit.FakeModelServer;
import dev.cordon.testkit.RecordedRequest;
import dev.cordon.testkit.Scripted;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The host's model gateway against the fake model server over real HTTP, one fake per provider, each
 * requiring its own key (so a request without the right key would get a real-format 401).
 */
class HostModelGatewayTest {
    private static final String ANTHROPIC_KEY = "sk-ant-gateway-secret-1111";
    private static final String OPENAI_KEY = "sk-openai-gateway-secret-2222";
    private static final String RUNNER_SECRET = "sk-stolen-by-the-runner";
    private static final Agent AGENT = new Agent(new AgentId(1), new AgentName("alice"), Instant.EPOCH);
    private static final String MODEL = "test-model";

    private FakeModelServer anthropic;
    private FakeModelServer openai;
    private ModelGateway gateway;

    @BeforeEach
    void start() {
        anthropic = FakeModelServer.start().requireApiKey(ANTHROPIC_KEY);
        openai = FakeModelServer.start().requireApiKey(OPENAI_KEY);
        gateway = ModelGateways.builder()
                .provider(ModelApi.ANTHROPIC, anthropic.baseUrl(), ANTHROPIC_KEY)
                .provider(ModelApi.OPENAI, openai.openAiBaseUrl(), OPENAI_KEY)
                .build();
    }

    @AfterEach
    void stop() {
        anthropic.close();
        openai.close();
    }

    @Test
    void addsTheAnthropicKeyAsXApiKeyAndDropsTheRunnersCredentialHeaders() {
        RecordingSink sink = call(ModelApi.ANTHROPIC, "/v1/messages", hostileHeaders(), body(MODEL));

        assertThat(sink.status()).isEqualTo(200);
        RecordedRequest received = anthropic.requests().getFirst();
        assertThat(received.headers().get("x-api-key")).containsExactly(ANTHROPIC_KEY);
        assertThat(received.header("anthropic-version")).contains("2023-06-01");
        assertNoRunnerCredentials(received);
    }

    @Test
    void addsTheOpenAiKeyAsBearerAuthorizationAndDropsTheRunnersCredentialHeaders() {
        RecordingSink sink = call(ModelApi.OPENAI, "/chat/completions", hostileHeaders(), body(MODEL));

        assertThat(sink.status()).isEqualTo(200);
        RecordedRequest received = openai.requests().getFirst();
        assertThat(received.headers().get("authorization")).containsExactly("Bearer " + OPENAI_KEY);
        assertThat(received.header("x-api-key")).isEmpty();
        assertNoRunnerCredentials(received);
    }

    @Test
    void aKeylessProviderGetsNoCredentialAtAll() {
        openai.requireApiKey(null);
        ModelGateway keyless = ModelGateways.builder()
                .provider(ModelApi.OPENAI, openai.openAiBaseUrl(), "")
                .build();

        RecordingSink sink = new RecordingSink();
        keyless.call(
                AGENT,
                allowed(ModelApi.OPENAI),
                request(ModelApi.OPENAI, "/chat/completions", hostileHeaders(), body(MODEL)),
                ModelGateway.Meter.NONE,
                sink);

        assertThat(sink.status()).isEqualTo(200);
        RecordedRequest received = openai.requests().getFirst();
        assertThat(received.header("authorization")).isEmpty();
        assertThat(received.header("x-api-key")).isEmpty();
        assertNoRunnerCredentials(received);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aModelTheAgentMayNotUseIsRefusedAndTheProviderGetsNothing(ModelApi api) {
        RecordingSink sink = call(api, pathOf(api), Map.of(), body("the-most-expensive-model"));

        assertRefused(sink, api, 403, "permission_error");
        assertThat(sink.errorMessage())
                .contains("model 'the-most-expensive-model' is not allowed for agent alice by the configured model"
                        + " (cordon.yaml) (allowed: " + MODEL + ")");
        assertThat(sink.refusedBy).isEqualTo("the configured model (cordon.yaml)");
        assertThat(anthropic.requests()).isEmpty();
        assertThat(openai.requests()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void everyModelOfThePolicysListIsForwardedAndAnyOtherIsRefusedNamingTheList(ModelApi api) {
        ModelGateway.Allowed list = new ModelGateway.Allowed(api, Set.of(MODEL, "small-model"), "policy.yaml models");
        RecordingSink small = new RecordingSink();
        RecordingSink other = new RecordingSink();

        gateway.call(
                AGENT,
                list,
                request(api, pathOf(api), hostileHeaders(), body("small-model")),
                ModelGateway.Meter.NONE,
                small);
        gateway.call(
                AGENT, list, request(api, pathOf(api), Map.of(), body("big-model")), ModelGateway.Meter.NONE, other);

        assertThat(small.status()).isEqualTo(200);
        assertThat(small.refusedBy).isNull();
        assertRefused(other, api, 403, "permission_error");
        assertThat(other.refusedBy).isEqualTo("policy.yaml models");
        assertThat(other.errorMessage()).contains("(allowed: small-model, " + MODEL + ")");
        assertThat(anthropic.requests().size() + openai.requests().size()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aRequestWithoutAReadableModelIsRefused(ModelApi api) {
        RecordingSink sink = call(api, pathOf(api), Map.of(), "not json".getBytes(StandardCharsets.UTF_8));

        assertRefused(sink, api, 403, "permission_error");
        assertThat(sink.errorMessage()).contains("model '(unreadable request body)' is not allowed");
        assertThat(anthropic.requests()).isEmpty();
        assertThat(openai.requests()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/v1/complete",
                "/v1/models",
                "/v1/messages/batches",
                "/v1/messages?beta=true",
                "/v1/messages/../files",
                "//evil.example/v1/messages",
                "@evil.example/v1/messages",
                "",
            })
    void anyOtherAnthropicPathIsRefusedAndTheProviderGetsNothing(String path) {
        RecordingSink sink = call(ModelApi.ANTHROPIC, path, Map.of(), body(MODEL));

        assertRefused(sink, ModelApi.ANTHROPIC, 404, "not_found_error");
        assertThat(sink.errorMessage()).contains("forwards only POST /v1/messages");
        assertThat(anthropic.requests()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/chat/completions", "/completions", "/embeddings", "/chat/completions/../files"})
    void anyOtherOpenAiPathIsRefusedAndTheProviderGetsNothing(String path) {
        RecordingSink sink = call(ModelApi.OPENAI, path, Map.of(), body(MODEL));

        assertRefused(sink, ModelApi.OPENAI, 404, "not_found_error");
        assertThat(sink.errorMessage()).contains("forwards only POST /chat/completions");
        assertThat(openai.requests()).isEmpty();
    }

    @Test
    void anApiOtherThanTheAgentsIsRefusedInThatApisFormat() {
        RecordingSink sink = new RecordingSink();

        gateway.call(
                AGENT,
                allowed(ModelApi.ANTHROPIC),
                request(ModelApi.OPENAI, "/chat/completions", Map.of(), body(MODEL)),
                ModelGateway.Meter.NONE,
                sink);

        assertRefused(sink, ModelApi.OPENAI, 403, "permission_error");
        assertThat(sink.errorMessage()).contains("the openai API is not configured for agent alice");
        assertThat(openai.requests()).isEmpty();
    }

    @Test
    void anApiWithNoProviderIsRefused() {
        ModelGateway anthropicOnly = ModelGateways.builder()
                .provider(ModelApi.ANTHROPIC, anthropic.baseUrl(), ANTHROPIC_KEY)
                .build();
        RecordingSink sink = new RecordingSink();

        anthropicOnly.call(
                AGENT,
                allowed(ModelApi.OPENAI),
                request(ModelApi.OPENAI, "/chat/completions", Map.of(), body(MODEL)),
                ModelGateway.Meter.NONE,
                sink);

        assertRefused(sink, ModelApi.OPENAI, 403, "permission_error");
        assertThat(sink.errorMessage()).contains("the openai API is not configured for agent alice");
        assertThat(anthropic.requests()).isEmpty();
        assertThat(openai.requests()).isEmpty();
    }

    /** The runner's client parses refusals with the same code as real provider errors. */
    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aRefusalHasTheSameFieldsAsTheProvidersOwnErrors(ModelApi api) throws Exception {
        FakeModelServer provider = api == ModelApi.ANTHROPIC ? anthropic : openai;
        provider.enqueue(Scripted.error(403, "permission_error", "real provider error"));
        HttpResponse<byte[]> real = direct(api, provider, body(MODEL));
        RecordingSink refusal = call(api, pathOf(api), Map.of(), body("another-model"));

        JsonNode realError = Wire.mapper().readTree(real.body());
        JsonNode gatewayError = Wire.mapper().readTree(refusal.body());
        assertThat(fieldNames(gatewayError)).isEqualTo(fieldNames(realError));
        assertThat(fieldNames(gatewayError.get("error"))).isEqualTo(fieldNames(realError.get("error")));
        assertThat(refusal.headers().get("content-type"))
                .containsExactly(real.headers().firstValue("content-type").orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void theProvidersStreamReachesTheSinkByteForByte(ModelApi api) throws Exception {
        Scripted reply = Scripted.toolCall("bash", "{\"command\":\"echo ünïcödé 👋\"}")
                .withText("Let me check — “quotes” and 👋 split across pieces.")
                .splitInto(5);
        FakeModelServer provider = api == ModelApi.ANTHROPIC ? anthropic : openai;
        provider.enqueue(reply);
        try (FakeModelServer twin = FakeModelServer.start().requireApiKey(keyOf(api))) {
            twin.enqueue(reply);
            byte[] requestBody = streamingBody(MODEL);

            RecordingSink sink = call(api, pathOf(api), clientHeaders(), requestBody);
            // The gateway asks an OpenAI stream for its usage (the ledger needs it); so does the twin.
            HttpResponse<byte[]> direct = direct(
                    api,
                    twin,
                    api == ModelApi.OPENAI
                            ? ("{\"model\":\"" + MODEL + "\",\"max_tokens\":64,\"stream\":true,\"messages\":"
                                            + "[{\"role\":\"user\",\"content\":\"hi\"}],"
                                            + "\"stream_options\":{\"include_usage\":true}}")
                                    .getBytes(StandardCharsets.UTF_8)
                            : requestBody);

            assertThat(direct.statusCode()).isEqualTo(200);
            assertThat(sink.status()).isEqualTo(200);
            assertThat(sink.body()).isEqualTo(direct.body());
            assertThat(sink.chunks()).isGreaterThan(0);
            assertThat(sink.error()).isNull();
            assertThat(sink.headers().get("content-type"))
                    .containsExactly(direct.headers().firstValue("content-type").orElseThrow());
            assertThat(sink.headers()).doesNotContainKey("transfer-encoding");
        }
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void theProvidersErrorsAndRetryHeadersPassThroughUnchanged(ModelApi api) throws Exception {
        Scripted error = Scripted.error(429, "rate_limit_error", "Slow down").withHeader("retry-after", "7");
        FakeModelServer provider = api == ModelApi.ANTHROPIC ? anthropic : openai;
        provider.enqueue(error);
        try (FakeModelServer twin = FakeModelServer.start().requireApiKey(keyOf(api))) {
            twin.enqueue(error);

            RecordingSink sink = call(api, pathOf(api), clientHeaders(), body(MODEL));
            HttpResponse<byte[]> direct = direct(api, twin, body(MODEL));

            assertThat(sink.status()).isEqualTo(429);
            assertThat(sink.headers().get("retry-after")).containsExactly("7");
            assertThat(sink.body()).isEqualTo(direct.body());
            assertThat(sink.error()).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void anUnreachableProviderIsA502InTheProvidersFormat(ModelApi api) throws IOException {
        URI nobodyListens;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobodyListens = URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }
        ModelGateway unreachable =
                ModelGateways.builder().provider(api, nobodyListens, keyOf(api)).build();
        RecordingSink sink = new RecordingSink();

        unreachable.call(
                AGENT, allowed(api), request(api, pathOf(api), Map.of(), body(MODEL)), ModelGateway.Meter.NONE, sink);

        assertThat(sink.status()).isEqualTo(502);
        assertThat(sink.headers().get("x-should-retry")).containsExactly("true");
        assertThat(sink.errorType()).isEqualTo("api_error");
        assertThat(sink.errorMessage()).contains("could not reach " + nobodyListens);
        assertThat(new String(sink.body(), StandardCharsets.UTF_8)).doesNotContain(keyOf(api));
        assertThat(sink.error()).isNull();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aMeteredStreamIsReservedWithItsMaxTokensAndSettledWithTheUsageTheProviderReported(ModelApi api) {
        provider(api).enqueue(Scripted.text("hello").withUsage(new Usage(1200, 34, 100, 50)));
        RecordingMeter meter = new RecordingMeter();
        byte[] body = streamingBody(MODEL);

        RecordingSink sink = call(api, body, meter);

        assertThat(sink.status()).isEqualTo(200);
        assertThat(meter.model).isEqualTo(MODEL);
        assertThat(meter.maxOutput).isEqualTo(64);
        assertThat(meter.maxInput).isGreaterThanOrEqualTo(body.length / 3);
        assertThat(meter.settles).isEqualTo(1);
        // OpenAI counts cached tokens inside prompt_tokens and has no cache writes: the fake folds
        // the 50 written tokens into the prompt, as the real API bills them.
        assertThat(meter.settled)
                .isEqualTo(api == ModelApi.ANTHROPIC ? new Usage(1200, 34, 100, 50) : new Usage(1250, 34, 100, 0));
    }

    @Test
    void anOpenAiStreamIsMadeToReportItsUsageEvenWhenTheRunnerDidNotAskForIt() {
        RecordingMeter meter = new RecordingMeter();

        call(ModelApi.OPENAI, streamingBody(MODEL), meter);

        JsonNode forwarded = openai.requests().getFirst().body();
        assertThat(forwarded.path("stream_options").path("include_usage").asBoolean(false))
                .isTrue();
        assertThat(forwarded.path("messages").get(0).path("content").asString()).isEqualTo("hi");
        assertThat(meter.settled).isNotNull();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aWholeAnswerIsSettledWithItsUsage(ModelApi api) {
        provider(api).enqueue(Scripted.text("hello").withUsage(new Usage(10, 20, 0, 0)));
        RecordingMeter meter = new RecordingMeter();

        call(api, body(MODEL), meter);

        assertThat(meter.settled).isEqualTo(new Usage(10, 20, 0, 0));
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void aCallTheMeterRefusesIsAnswered429InTheProvidersFormatAndNeverForwarded(ModelApi api) {
        RecordingMeter meter = new RecordingMeter();
        meter.refusal = new ModelGateway.Refusal("budget.daily_usd", "agent alice has used up its daily budget");

        RecordingSink sink = call(api, body(MODEL), meter);

        assertRefused(sink, api, 429, api == ModelApi.ANTHROPIC ? "rate_limit_error" : "insufficient_quota");
        assertThat(sink.errorMessage()).contains("agent alice has used up its daily budget");
        assertThat(sink.refusedBy).isEqualTo("budget.daily_usd");
        assertThat(meter.settles).as("nothing was reserved").isZero();
        assertThat(anthropic.requests()).isEmpty();
        assertThat(openai.requests()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void anErrorAnswerIsSettledAsUnbilled(ModelApi api) {
        provider(api).enqueue(Scripted.overloaded());
        RecordingMeter meter = new RecordingMeter();

        RecordingSink sink = call(api, streamingBody(MODEL), meter);

        assertThat(sink.status()).isEqualTo(529);
        assertThat(meter.settled).isEqualTo(Usage.ZERO);
    }

    @ParameterizedTest
    @EnumSource(ModelApi.class)
    void anAnswerThatBreaksOffBeforeItsUsageIsSettledAsUnreported(ModelApi api) {
        provider(api)
                .enqueue(Scripted.text("a long answer that will not finish").thenTruncate());
        RecordingMeter meter = new RecordingMeter();

        call(api, streamingBody(MODEL), meter);

        assertThat(meter.settles).isEqualTo(1);
        assertThat(meter.settled).as("null: charge what was reserved").isNull();
    }

    @Test
    void aCallWhoseBudgetCannotBeCheckedIsNotMadeAndMayBeRetried() {
        ModelGateway.Meter broken = new ModelGateway.Meter() {
            @Override
            public ModelGateway.Refusal reserve(String model, long maxInputTokens, long maxOutputTokens) {
                throw new IllegalStateException("the store is closed");
            }

            @Override
            public void settle(Usage reported) {
                throw new AssertionError("nothing was reserved");
            }
        };

        RecordingSink sink = call(ModelApi.ANTHROPIC, body(MODEL), broken);

        assertThat(sink.status()).isEqualTo(503);
        assertThat(sink.headers().get("x-should-retry")).containsExactly("true");
        assertThat(sink.errorMessage()).contains("could not check agent alice's budget: the store is closed");
        assertThat(anthropic.requests()).isEmpty();
    }

    @Test
    void aCallWithoutMaxTokensIsReservedAtTheDefaultCeiling() {
        RecordingMeter meter = new RecordingMeter();

        call(
                ModelApi.OPENAI,
                ("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                        .getBytes(StandardCharsets.UTF_8),
                meter);

        assertThat(meter.maxOutput).isEqualTo(HostModelGateway.DEFAULT_MAX_OUTPUT);
    }

    @Test
    void aProvidersToStringNeverContainsTheKey() {
        HostModelGateway.Provider provider =
                new HostModelGateway.Provider(ModelApi.ANTHROPIC, anthropic.baseUrl(), ANTHROPIC_KEY);

        assertThat(provider.toString())
                .doesNotContain(ANTHROPIC_KEY)
                .contains(anthropic.baseUrl().toString());
        assertThat(gateway.toString()).doesNotContain(ANTHROPIC_KEY).doesNotContain(OPENAI_KEY);
    }

    // ---------------------------------------------------------------------------------------------

    private RecordingSink call(ModelApi api, String path, Map<String, String> headers, byte[] body) {
        RecordingSink sink = new RecordingSink();
        gateway.call(AGENT, allowed(api), request(api, path, headers, body), ModelGateway.Meter.NONE, sink);
        return sink;
    }

    private RecordingSink call(ModelApi api, byte[] body, ModelGateway.Meter meter) {
        RecordingSink sink = new RecordingSink();
        gateway.call(AGENT, allowed(api), request(api, pathOf(api), clientHeaders(), body), meter, sink);
        return sink;
    }

    private FakeModelServer provider(ModelApi api) {
        return api == ModelApi.ANTHROPIC ? anthropic : openai;
    }

    /** Records what the gateway reserved and settled; refuses when {@code refusal} is set. */
    private static final class RecordingMeter implements ModelGateway.Meter {
        ModelGateway.Refusal refusal;
        String model;
        long maxInput;
        long maxOutput;
        int settles;
        Usage settled;

        @Override
        public ModelGateway.Refusal reserve(String model, long maxInputTokens, long maxOutputTokens) {
            this.model = model;
            this.maxInput = maxInputTokens;
            this.maxOutput = maxOutputTokens;
            return refusal;
        }

        @Override
        public void settle(Usage reported) {
            settles++;
            settled = reported;
        }
    }

    private static ModelGateway.Allowed allowed(ModelApi api) {
        return new ModelGateway.Allowed(api, Set.of(MODEL), "the configured model (cordon.yaml)");
    }

    private static ModelRequest request(ModelApi api, String path, Map<String, String> headers, byte[] body) {
        return new ModelRequest("call-1", api, path, headers, body);
    }

    private static String pathOf(ModelApi api) {
        return switch (api) {
            case ANTHROPIC -> "/v1/messages";
            case OPENAI -> "/chat/completions";
        };
    }

    private static String keyOf(ModelApi api) {
        return switch (api) {
            case ANTHROPIC -> ANTHROPIC_KEY;
            case OPENAI -> OPENAI_KEY;
        };
    }

    /** What the runner's model clients send (the Anthropic API rejects a call without a version). */
    private static Map<String, String> clientHeaders() {
        return Map.of("anthropic-version", "2023-06-01", "content-type", "application/json");
    }

    /** What a prompt-injected runner might send, in mixed case; only anthropic-version may pass. */
    private static Map<String, String> hostileHeaders() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("anthropic-version", "2023-06-01");
        headers.put("content-type", "application/json");
        headers.put("x-api-key", RUNNER_SECRET);
        headers.put("Authorization", "Bearer " + RUNNER_SECRET);
        headers.put("COOKIE", "session=" + RUNNER_SECRET);
        headers.put("host", "evil.example");
        headers.put("X-Forwarded-For", "169.254.169.254");
        return headers;
    }

    private static void assertNoRunnerCredentials(RecordedRequest received) {
        assertThat(received.header("cookie")).isEmpty();
        assertThat(received.header("x-forwarded-for")).isEmpty();
        assertThat(received.header("host"))
                .hasValueSatisfying(host -> assertThat(host).startsWith("127.0.0.1:"));
        assertThat(received.headers().toString()).doesNotContain(RUNNER_SECRET).doesNotContain("evil.example");
    }

    private static byte[] body(String model) {
        return ("{\"model\":\"" + model + "\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] streamingBody(String model) {
        return ("{\"model\":\"" + model
                        + "\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The same call made straight to a provider, as the gateway should make it. */
    private static HttpResponse<byte[]> direct(ModelApi api, FakeModelServer provider, byte[] body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        switch (api) {
                            case ANTHROPIC -> URI.create(provider.baseUrl() + "/v1/messages");
                            case OPENAI -> URI.create(provider.openAiBaseUrl() + "/chat/completions");
                        })
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        switch (api) {
            case ANTHROPIC -> request.header("x-api-key", ANTHROPIC_KEY).header("anthropic-version", "2023-06-01");
            case OPENAI -> request.header("Authorization", "Bearer " + OPENAI_KEY);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        }
    }

    private static void assertRefused(RecordingSink sink, ModelApi api, int status, String type) {
        assertThat(sink.status()).isEqualTo(status);
        assertThat(sink.headers().get("x-should-retry")).containsExactly("false");
        assertThat(sink.headers().get("content-type")).containsExactly("application/json");
        assertThat(sink.error()).isNull();
        JsonNode body = Wire.mapper().readTree(sink.body());
        if (api == ModelApi.ANTHROPIC) {
            assertThat(body.path("type").asString()).isEqualTo("error");
        }
        assertThat(sink.errorType()).isEqualTo(type);
        assertThat(sink.errorMessage()).startsWith("Cordon model gateway: ");
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.propertyNames().forEach(names::add);
        return names;
    }

    /** Records one call's answer and checks the sink contract: one head, chunks, one end, in that order. */
    private static final class RecordingSink implements ModelGateway.ResponseSink {
        private final List<String> events = new ArrayList<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private int status;
        private Map<String, List<String>> headers = Map.of();
        private String error;
        private int chunks;
        String refusedBy;

        @Override
        public synchronized void refused(String rule, String reason) {
            assertThat(events).as("a refusal is reported before the head").isEmpty();
            refusedBy = rule;
        }

        @Override
        public synchronized void head(int status, Map<String, List<String>> headers) {
            assertThat(events).as("head comes first and once").isEmpty();
            events.add("head");
            this.status = status;
            this.headers = Map.copyOf(headers);
        }

        @Override
        public synchronized void chunk(byte[] data) {
            assertThat(events)
                    .as("chunks come between head and end")
                    .startsWith("head")
                    .doesNotContain("end");
            events.add("chunk");
            chunks++;
            body.writeBytes(data);
        }

        @Override
        public synchronized void end(String error) {
            assertThat(events)
                    .as("end comes after the head and once")
                    .startsWith("head")
                    .doesNotContain("end");
            events.add("end");
            this.error = error;
        }

        synchronized int status() {
            assertThat(events).as("the call is complete").startsWith("head").endsWith("end");
            return status;
        }

        synchronized Map<String, List<String>> headers() {
            return headers;
        }

        synchronized byte[] body() {
            return body.toByteArray();
        }

        synchronized int chunks() {
            return chunks;
        }

        synchronized String error() {
            return error;
        }

        String errorType() {
            return Wire.mapper().readTree(body()).path("error").path("type").asString();
        }

        String errorMessage() {
            return Wire.mapper().readTree(body()).path("error").path("message").asString();
        }
    }
}
