package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.list;

import dev.cordon.core.budget.Price;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.ModelSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code cordon.yaml} in a real home directory, with the environment passed in as a map. */
class ConfigTest {
    @TempDir
    Path home;

    @Test
    void withNoModelTheProblemNamesBothKeysAndTheFile() {
        Config config = Config.load(home, Map.of());

        assertThat(config.model()).isNull();
        assertThat(config.apiKey()).isNull();
        assertThat(config.baseUrl()).isNull();
        assertThat(config.modelProblem())
                .contains("ANTHROPIC_API_KEY")
                .contains("OPENAI_API_KEY")
                .contains("OPENAI_BASE_URL")
                .contains(home.resolve("cordon.yaml").toString());
        assertThat(config.describeModel()).isEqualTo("none");
    }

    @Test
    void anAnthropicKeyAloneGivesAnthropicWithItsDefaults() {
        Config config = Config.load(home, Map.of("ANTHROPIC_API_KEY", "sk-ant-env"));

        assertThat(config.model())
                .isEqualTo(new ModelSettings(ModelApi.ANTHROPIC, Config.DEFAULT_ANTHROPIC_MODEL, 8192));
        assertThat(config.baseUrl()).isEqualTo(URI.create("https://api.anthropic.com"));
        assertThat(config.apiKey()).isEqualTo("sk-ant-env");
        assertThat(config.modelProblem()).isNull();
    }

    @Test
    void anOpenAiKeyAloneGivesOpenAiWithItsDefaults() {
        Config config = Config.load(home, Map.of("OPENAI_API_KEY", "sk-openai-env"));

        assertThat(config.model()).isEqualTo(new ModelSettings(ModelApi.OPENAI, Config.DEFAULT_OPENAI_MODEL, 8192));
        assertThat(config.baseUrl()).isEqualTo(URI.create("https://api.openai.com/v1"));
        assertThat(config.apiKey()).isEqualTo("sk-openai-env");
    }

    @Test
    void withBothKeysSetAnthropicIsChosen() {
        Config config = Config.load(home, Map.of("ANTHROPIC_API_KEY", "a", "OPENAI_API_KEY", "o"));

        assertThat(config.model().api()).isEqualTo(ModelApi.ANTHROPIC);
        assertThat(config.apiKey()).isEqualTo("a");
    }

    @Test
    void anOpenAiBaseUrlAloneGivesAKeylessWorkingConfigForOllama() {
        Config config =
                Config.load(home, Map.of("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1", "CORDON_MODEL", "llama3.2"));

        assertThat(config.modelProblem()).isNull();
        assertThat(config.model()).isEqualTo(new ModelSettings(ModelApi.OPENAI, "llama3.2", 8192));
        assertThat(config.baseUrl()).isEqualTo(URI.create("http://127.0.0.1:11434/v1"));
        assertThat(config.apiKey()).isEmpty();
    }

    @Test
    void theRealProvidersWithoutAKeyAreNoModel() {
        assertThat(Config.load(home, Map.of("ANTHROPIC_BASE_URL", "https://api.anthropic.com"))
                        .modelProblem())
                .contains("ANTHROPIC_API_KEY");
        assertThat(Config.load(home, Map.of("OPENAI_BASE_URL", "https://api.openai.com/v1"))
                        .modelProblem())
                .contains("OPENAI_API_KEY");
    }

    @Test
    void blankEnvironmentValuesCountAsUnsetAndValuesAreTrimmed() {
        Config blank = Config.load(home, Map.of("ANTHROPIC_API_KEY", "  ", "OPENAI_API_KEY", ""));
        Config pasted = Config.load(home, Map.of("ANTHROPIC_API_KEY", " sk-ant-pasted\n"));

        assertThat(blank.model()).isNull();
        assertThat(pasted.apiKey()).isEqualTo("sk-ant-pasted");
    }

    @Test
    void theFileAloneConfiguresTheModel() throws IOException {
        write("""
                model:
                  api: openai
                  name: file-model
                  base_url: http://127.0.0.1:8000/v1
                  api_key: sk-file
                  max_tokens: 4096
                """);

        Config config = Config.load(home, Map.of());

        assertThat(config.model()).isEqualTo(new ModelSettings(ModelApi.OPENAI, "file-model", 4096));
        assertThat(config.baseUrl()).isEqualTo(URI.create("http://127.0.0.1:8000/v1"));
        assertThat(config.apiKey()).isEqualTo("sk-file");
    }

    @Test
    void approvalsWaitTenMinutesUnlessTheFileSaysOtherwise() throws IOException {
        assertThat(Config.load(home, Map.of()).approvalTimeout()).isEqualTo(Duration.ofMinutes(10));

        write("""
                approvals:
                  timeout_seconds: 3600
                """);

        assertThat(Config.load(home, Map.of()).approvalTimeout()).isEqualTo(Duration.ofHours(1));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "approvals:\n  timeout_seconds: 0|approvals.timeout_seconds must be a whole number from 1 to 604800",
                "approvals:\n  timeout_seconds: ten|approvals.timeout_seconds must be a whole number",
                "approvals:\n  timeout: 60|unknown field 'approvals.timeout' (known: timeout_seconds)",
                "approvals: 60|approvals must be a mapping",
            })
    void aBadApprovalsFieldIsRejectedWithTheFieldAndTheRule(String caseText) throws IOException {
        String[] yamlAndMessage = caseText.split("\\|");
        write(yamlAndMessage[0] + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": " + yamlAndMessage[1]);
    }

    @Test
    void theStoreIsSqliteUnlessTheFileNamesAPostgresDatabaseAndItsPasswordSecret() throws IOException {
        assertThat(Config.load(home, Map.of()).store()).isEqualTo(new StoreChoice.Sqlite());

        write("""
                store:
                  kind: postgres
                  url: jdbc:postgresql://db.internal:5432/cordon
                  user: cordon
                  password_secret: PG_PASSWORD
                """);

        assertThat(Config.load(home, Map.of()).store())
                .isEqualTo(
                        new StoreChoice.Postgres("jdbc:postgresql://db.internal:5432/cordon", "cordon", "PG_PASSWORD"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "store:\n  kind: mysql|store.kind: expected 'sqlite' or 'postgres', got 'mysql'",
                "store:\n  kind: postgres\n  user: u\n  password_secret: P|store.url must be jdbc:postgresql://",
                "store:\n  kind: postgres\n  url: jdbc:postgresql://h/db?password=hunter2\n  user: u\n"
                        + "  password_secret: P|store.url must not carry a password",
                "store:\n  kind: postgres\n  url: jdbc:postgresql://h/db\n  password_secret: P|store.user is required",
                "store:\n  kind: postgres\n  url: jdbc:postgresql://h/db\n  user: u\n  password_secret: pw"
                        + "|store.password_secret must name a vault secret",
                "store:\n  kind: postgres\n  url: jdbc:postgresql://h/db\n  user: u\n  password: x"
                        + "|unknown field 'store.password' (known: kind, password_secret, url, user)",
                "store:\n  url: jdbc:postgresql://h/db|store.url is only for kind: postgres",
            })
    void aBadStoreBlockIsRejectedWithTheFieldAndTheRule(String caseText) throws IOException {
        String[] yamlAndMessage = caseText.split("\\|");
        write(yamlAndMessage[0] + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": " + yamlAndMessage[1])
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void pricesFromTheFileAreInUsdPerMillionTokensAndModelNamesMayHaveDots() throws IOException {
        assertThat(Config.load(home, Map.of()).prices()).isEmpty();

        write("""
                prices:
                  gpt-4.1: {input: 2, output: 8, cache_read: 0.5}
                  local-llama: {input: 0, output: 0}
                """);

        assertThat(Config.load(home, Map.of()).prices())
                .containsEntry("gpt-4.1", new Price(2, 8, 0.5, 0))
                .containsEntry("local-llama", new Price(0, 0, 0, 0));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "prices: 3|prices must be a mapping of model names",
                "prices:\n  m: 3|prices.m must be a mapping {input, output, cache_read, cache_write}",
                "prices:\n  m: {input: 1}|prices.m.output is required (US dollars per million tokens)",
                "prices:\n  m: {input: -1, output: 1}|prices.m.input must be a number of US dollars per million tokens",
                "prices:\n  m: {input: cheap, output: 1}|prices.m.input must be a number",
                "prices:\n  m.v2: {input: 1, output: 1, cached: 1}|unknown field 'prices.m.v2.cached' (known:",
            })
    void aBadPriceIsRejectedWithTheModelAndTheField(String caseText) throws IOException {
        String[] yamlAndMessage = caseText.split("\\|");
        write(yamlAndMessage[0].replace("\\n", "\n") + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": " + yamlAndMessage[1]);
    }

    @Test
    void theEnvironmentBeatsTheFile() throws IOException {
        write("""
                model:
                  api: anthropic
                  name: file-model
                  base_url: http://file.example
                  api_key: sk-file
                """);

        Config config = Config.load(
                home,
                Map.of(
                        "ANTHROPIC_API_KEY", "sk-env",
                        "ANTHROPIC_BASE_URL", "http://env.example",
                        "CORDON_MODEL", "env-model"));

        assertThat(config.model().model()).isEqualTo("env-model");
        assertThat(config.baseUrl()).isEqualTo(URI.create("http://env.example"));
        assertThat(config.apiKey()).isEqualTo("sk-env");
    }

    @Test
    void theFilesApiWinsOverGuessingFromTheEnvironment() throws IOException {
        write("""
                model:
                  api: openai
                """);

        Config config = Config.load(home, Map.of("ANTHROPIC_API_KEY", "sk-ant", "OPENAI_API_KEY", "sk-openai"));

        assertThat(config.model().api()).isEqualTo(ModelApi.OPENAI);
        assertThat(config.apiKey()).isEqualTo("sk-openai");
        assertThat(config.baseUrl()).isEqualTo(URI.create("https://api.openai.com/v1"));
    }

    @Test
    void theFilesApiIsNotSwitchedByAKeyForTheOtherApi() throws IOException {
        write("""
                model:
                  api: anthropic
                """);

        Config config = Config.load(home, Map.of("OPENAI_API_KEY", "sk-openai"));

        assertThat(config.model()).isNull();
        assertThat(config.modelProblem()).contains("ANTHROPIC_API_KEY");
    }

    @Test
    void theDefaultsApplyWithoutAFile() {
        Config config = Config.load(home, Map.of());

        assertThat(config.uidBase()).isEqualTo(200_000);
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.runnerHeapMb()).isEqualTo(256);
        assertThat(config.toolTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.diskQuota()).isEqualTo(new Config.DiskQuota(10_240L << 20, false));
    }

    @Test
    void sandboxAndRunnerSettingsComeFromTheFile() throws IOException {
        write("""
                sandbox:
                  uid_base: 300000
                  idle_timeout_seconds: 60
                  tool_timeout_seconds: 120
                  disk_mb: 2048
                  unenforced_limits: [disk, cpu]
                runner:
                  heap_mb: 512
                """);

        Config config = Config.load(home, Map.of());

        assertThat(config.toolTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(config.diskQuota()).isEqualTo(new Config.DiskQuota(2048L << 20, true));
        assertThat(config.unenforcedLimits()).containsExactly(dev.cordon.core.sandbox.Limit.CPU);

        assertThat(config.uidBase()).isEqualTo(300_000);
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.runnerHeapMb()).isEqualTo(512);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "# everything commented out\n# model:\n#   api: openai\n", "---\n"})
    void anEmptyFileIsTheSameAsNoFile(String text) throws IOException {
        write(text);

        Config config = Config.load(home, Map.of("ANTHROPIC_API_KEY", "sk-ant"));

        assertThat(config.model().api()).isEqualTo(ModelApi.ANTHROPIC);
        assertThat(config.runnerHeapMb()).isEqualTo(256);
    }

    @Test
    void theModelDescriptionNeverContainsTheKey() {
        Config config = Config.load(home, Map.of("ANTHROPIC_API_KEY", "sk-ant-secret-value"));

        assertThat(config.describeModel())
                .isEqualTo("anthropic claude-sonnet-4-5 at https://api.anthropic.com")
                .doesNotContain("sk-ant-secret-value");
    }

    @Test
    void anUnknownTopLevelFieldIsRejectedByName() throws IOException {
        write("""
                modle:
                  api: anthropic
                """);

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": ")
                .hasMessageContaining("unknown field 'modle'")
                .hasMessageContaining(
                        "known: approvals, audit, channels, files, hooks, http, kubernetes, logging, model, prices, runner, sandbox,"
                                + " store, tracing");
    }

    @Test
    void anUnknownNestedFieldIsRejectedWithItsPath() throws IOException {
        write("""
                model:
                  api: anthropic
                  apikey: sk-typo
                """);

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": ")
                .hasMessageContaining("unknown field 'model.apikey'")
                .hasMessageContaining("api_key");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "model: claude|model must be a mapping",
                "model:\n  name: [a, b]\n  api: anthropic\n  api_key: k|model.name must be a string",
                "model:\n  api: {x: 1}|model.api must be a string",
                "model:\n  api: gemini|model.api: expected 'anthropic' or 'openai', got 'gemini'",
                "sandbox:\n  uid_base: lots|sandbox.uid_base must be a whole number",
                "runner:\n  heap_mb: 1.5|runner.heap_mb must be a whole number",
                "runner:\n  heap_mb: '512'|runner.heap_mb must be a whole number",
                "- a\n- list|the file must be a mapping",
            })
    void aFieldOfTheWrongTypeIsRejectedNamingFileAndField(String caseText) throws IOException {
        String[] yamlAndMessage = caseText.split("\\|");
        write(yamlAndMessage[0] + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of("ANTHROPIC_API_KEY", "k")))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": ")
                .hasMessageContaining(yamlAndMessage[1]);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "sandbox:\n  uid_base: 999|sandbox.uid_base must be a whole number from 1000 to 2000000000, got '999'",
                "sandbox:\n  idle_timeout_seconds: 0|sandbox.idle_timeout_seconds must be a whole number from 1",
                "sandbox:\n  idle_timeout_seconds: 99999999999|sandbox.idle_timeout_seconds must be a whole number",
                "sandbox:\n  tool_timeout_seconds: 0|sandbox.tool_timeout_seconds must be a whole number from 1 to 86400",
                "sandbox:\n  disk_mb: 8|sandbox.disk_mb must be 0 (no quota) or at least 16",
                "sandbox:\n  unenforced_limits: [disk, network]|unknown limit 'network' (known: memory, pids, cpu, disk)",
                "runner:\n  heap_mb: 16|runner.heap_mb must be a whole number from 32 to 65536, got '16'",
                "runner:\n  heap_mb: -512|runner.heap_mb must be a whole number from 32 to 65536",
                "model:\n  max_tokens: 0|model.max_tokens must be a whole number from 1 to 1000000, got '0'",
            })
    void aNumberOutOfRangeIsRejectedNamingFileFieldAndRange(String caseText) throws IOException {
        String[] yamlAndMessage = caseText.split("\\|");
        write(yamlAndMessage[0] + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of("ANTHROPIC_API_KEY", "k")))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": ")
                .hasMessageContaining(yamlAndMessage[1]);
    }

    /** A mistake in the file is reported even while no model is configured, not only once one is. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "model:\n  max_tokens: 0|model.max_tokens",
                "model:\n  name: [a]|model.name",
                "model:\n  api_key: {k: v}|model.api_key",
                "model:\n  base_url: ftp://files.example|model.base_url",
            })
    void aBadModelFieldIsReportedEvenWithoutAKey(String caseText) throws IOException {
        String[] yamlAndField = caseText.split("\\|");
        write(yamlAndField[0] + "\n");

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": " + yamlAndField[1]);
    }

    @Test
    void invalidYamlIsRejectedWithTheLine() throws IOException {
        write("""
                sandbox:
                  uid_base: 300000
                model: [unclosed
                runner:
                  heap_mb: 512
                """);

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": not valid YAML: ")
                .hasMessageMatching("(?s).*\\(line [45]\\)$");
    }

    @Test
    void badIndentationIsRejectedWithTheLine() throws IOException {
        write("""
                model:
                  api: anthropic
                 name: x
                """);

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": not valid YAML: ")
                .hasMessageEndingWith("(line 3)");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "ftp://files.example/v1",
                "file:///etc/passwd",
                "localhost:11434/v1",
                "127.0.0.1:11434/v1",
                "not a url",
                "http:///v1",
            })
    void aBaseUrlInTheFileThatIsNotHttpIsRejectedNamingFileAndField(String url) throws IOException {
        write("model:\n  api: openai\n  base_url: '" + url + "'\n");

        assertThatThrownBy(() -> Config.load(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": model.base_url: ")
                .hasMessageContaining("'" + url + "'")
                .hasMessageContaining("not a valid http(s) URL");
    }

    @Test
    void aBaseUrlInTheEnvironmentThatIsNotHttpIsRejectedNamingTheVariable() {
        assertThatThrownBy(() -> Config.load(home, Map.of("OPENAI_BASE_URL", "localhost:11434/v1")))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith("OPENAI_BASE_URL: ")
                .hasMessageContaining("'localhost:11434/v1' is not a valid http(s) URL");
    }

    @Test
    void everyMistakeInTheFileIsNamedAtOnceInTheOrderItIsRead() throws IOException {
        write("""
                model:
                  temprature: 0.2
                  max_tokens: 0
                sandbox:
                  memory_mb: lots
                  unenforced_limits: [cpu, gpu]
                  mount_allowlist:
                    - {path: /srv/data, mode: rx}
                prices:
                  my-model: {input: 1}
                """);

        assertThatThrownBy(() -> Config.load(home, Map.of("ANTHROPIC_API_KEY", "k")))
                .isExactlyInstanceOf(ConfigException.class)
                .extracting(e -> e.getMessage().lines().toList())
                .asInstanceOf(list(String.class))
                .containsExactly(
                        file() + ": unknown field 'model.temprature' (known: api, api_key, base_url, max_tokens, name)",
                        file() + ": sandbox.memory_mb must be a whole number from 0 to 1048576, got '\"lots\"'",
                        file() + ": sandbox.unenforced_limits: unknown limit 'gpu' (known: memory, pids, cpu, disk)",
                        file() + ": sandbox.mount_allowlist[0].mode must be ro or rw, got 'rx'",
                        file() + ": prices.my-model.output is required (US dollars per million tokens)",
                        file() + ": model.max_tokens must be a whole number from 1 to 1000000, got '0'");
    }

    @Test
    void theDaemonsCheckAlsoNamesTheFirstMistakeOfEveryBlockOtherReadersOwn() throws IOException {
        write("""
                sandbox:
                  pids: none
                channels:
                  telegram:
                    tokn: x
                http:
                  port: abc
                tracing:
                  endpoint: http://127.0.0.1:4318
                """);

        assertThatThrownBy(() -> Config.loadChecked(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .extracting(e -> e.getMessage().lines().toList())
                .asInstanceOf(list(String.class))
                .hasSize(4)
                .allSatisfy(line -> assertThat(line).startsWith(file().toString()))
                .satisfies(lines -> {
                    assertThat(lines.get(0)).contains("sandbox.pids must be a whole number");
                    assertThat(lines.get(1)).contains("channels.telegram.tokn: unknown field");
                    assertThat(lines.get(2)).contains("http.port: must be a port number");
                    assertThat(lines.get(3)).contains("tracing.endpoint: unknown field");
                });
    }

    @Test
    void theDaemonRefusesToStartWithEveryMistakeEvenWhenLoggingIsOneOfThem() throws IOException {
        write("logging:\n  format: fancy\nhttp:\n  port: abc\n");

        assertThatThrownBy(() -> Daemon.start(home, Map.of(), home.resolve("no-runner")))
                .isExactlyInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(e.getMessage().lines())
                        .hasSize(2)
                        .anySatisfy(line -> assertThat(line).contains("logging.format"))
                        .anySatisfy(line -> assertThat(line).contains("http.port")));
        assertThat(home.resolve("data/cordon.db")).doesNotExist(); // refused before the store was opened
    }

    @Test
    void theDaemonsCheckReportsAFileThatIsNotYamlOnce() throws IOException {
        write("model: [unclosed\nchannels:\n  telegram: {token_secret: T}\n");

        assertThatThrownBy(() -> Config.loadChecked(home, Map.of()))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file() + ": not valid YAML: ")
                .satisfies(e -> assertThat(e.getMessage())
                        .containsOnlyOnce(file().toString())
                        .doesNotContain("channels."));
    }

    @Test
    void theDaemonsCheckPassesAValidFileAndNoFile() throws IOException {
        assertThat(Config.loadChecked(home, Map.of()).uidBase()).isEqualTo(200_000);
        write("sandbox:\n  uid_base: 300000\nhttp:\n  port: 8080\n");
        assertThat(Config.loadChecked(home, Map.of()).uidBase()).isEqualTo(300_000);
    }

    private void write(String yaml) throws IOException {
        Files.writeString(file(), yaml);
    }

    private Path file() {
        return home.resolve("cordon.yaml");
    }
}
