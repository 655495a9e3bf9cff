package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.channel.email.EmailSettings;
import dev.cordon.egress.vault.Vault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChannelSettingsTest {
    @TempDir
    Path dir;

    @Test
    void aFileWithoutAChannelsBlockEnablesNoChannel() {
        assertThat(ChannelSettings.parse("cordon.yaml", "model:\n  api: anthropic\n"))
                .isEqualTo(ChannelSettings.NONE);
        assertThat(ChannelSettings.load(dir.resolve("cordon.yaml"))).isEqualTo(ChannelSettings.NONE);
    }

    @Test
    void ircAndEmailBlocksAreReadWithTheirDefaults() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  irc:
                    server: irc.example.org
                    nick: cordonbot
                    channels: ["#Ops", "#dev"]
                    password_secret: IRC_PASSWORD
                  email:
                    address: Agent@Example.org
                    imap_host: imap.example.org
                    smtp_host: smtp.example.org
                    password_secret: EMAIL_PASSWORD
                """);

        assertThat(s.irc().settings().port()).isEqualTo(6697);
        assertThat(s.irc().settings().tls()).isTrue();
        assertThat(s.irc().settings().channels()).containsExactly("#ops", "#dev");
        assertThat(s.irc().passwordSecret()).isEqualTo("IRC_PASSWORD");
        assertThat(s.irc().mentionOnly()).isTrue();
        EmailSettings email = s.email().settings();
        assertThat(email.address()).isEqualTo("agent@example.org");
        assertThat(email.username()).isEqualTo("agent@example.org");
        assertThat(email.imap())
                .isEqualTo(new EmailSettings.Server("imap.example.org", 993, EmailSettings.Security.TLS));
        assertThat(email.smtp())
                .isEqualTo(new EmailSettings.Server("smtp.example.org", 587, EmailSettings.Security.STARTTLS));
        assertThat(email.idle()).isTrue();
        assertThat(email.poll()).isEqualTo(Duration.ofSeconds(60));
        assertThat(email.folder()).isEqualTo("INBOX");
    }

    @Test
    void theSlackBlockNamesBothTokensAndChecksTheApiUrl() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  slack:
                    app_token_secret: SLACK_APP_TOKEN
                    bot_token_secret: SLACK_BOT_TOKEN
                """);
        assertThat(s.slack().settings().api()).hasToString("https://slack.com/api/");
        assertThat(s.slack().appTokenSecret()).isEqualTo("SLACK_APP_TOKEN");
        assertThat(s.slack().mentionOnly()).isTrue();

        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  slack:\n    app_token_secret: SLACK_APP_TOKEN\n"))
                .hasMessageContaining("channels.slack.bot_token_secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          slack:
                            app_token_secret: A
                            bot_token_secret: B
                            api_url: http://slack.example.org/api/
                        """))
                .hasMessageContaining("channels.slack: api_url: must be https");
    }

    @Test
    void slackInEventsModeNeedsTheSigningSecretInsteadOfTheAppTokenAndServesOnTheHookListener() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  slack:
                    mode: events
                    bot_token_secret: SLACK_BOT_TOKEN
                    signing_secret: SLACK_SIGNING_SECRET
                """);
        assertThat(s.slack().events()).isTrue();
        assertThat(s.slack().appTokenSecret()).isNull();
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        vault.put("SLACK_BOT_TOKEN", "xoxb-1".getBytes(StandardCharsets.UTF_8), List.of());
        vault.put(
                "SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5".getBytes(StandardCharsets.UTF_8), List.of());
        try (Channels channels = Channels.of(s, vault, dir)) {
            assertThat(channels.hooks()).extracting(h -> h.name()).containsExactly("slack");
        }

        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  slack:\n    mode: events\n    bot_token_secret: B\n"))
                .hasMessageContaining("channels.slack.signing_secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          slack:
                            mode: events
                            app_token_secret: A
                            bot_token_secret: B
                            signing_secret: S
                        """))
                .hasMessageContaining("channels.slack.app_token_secret: is used only with mode: socket");
        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  slack:\n    mode: http\n    bot_token_secret: B\n"))
                .hasMessageContaining("channels.slack.mode: must be socket or events, got 'http'");
    }

    @Test
    void telegramInWebhookModeNeedsAnHttpsWebhookUrlAndServesOnTheHookListener() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  telegram:
                    token_secret: TELEGRAM_BOT_TOKEN
                    mode: webhook
                    webhook_url: https://bot.example.org/hooks/telegram
                """);
        assertThat(s.telegram().webhookUrl()).hasToString("https://bot.example.org/hooks/telegram");
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        vault.put(
                "TELEGRAM_BOT_TOKEN",
                "123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".getBytes(StandardCharsets.UTF_8),
                List.of());
        try (Channels channels = Channels.of(s, vault, dir)) {
            assertThat(channels.hooks()).extracting(h -> h.name()).containsExactly("telegram");
        }

        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  telegram:\n    token_secret: T\n    mode: webhook\n"))
                .hasMessageContaining("channels.telegram.webhook_url: is required");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          telegram:
                            token_secret: T
                            mode: webhook
                            webhook_url: http://bot.example.org/hooks/telegram
                        """))
                .hasMessageContaining("channels.telegram.webhook_url: must be https");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          telegram:
                            token_secret: T
                            webhook_url: https://bot.example.org/hooks/telegram
                        """))
                .hasMessageContaining("channels.telegram.webhook_url: is used only with mode: webhook");
    }

    @Test
    void aSlackTokenOfTheWrongKindStopsTheStartAndSaysWhereToFindTheRightOne() {
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        vault.put("SLACK_APP_TOKEN", "xoxb-swapped".getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("SLACK_BOT_TOKEN", "xoxb-1".getBytes(StandardCharsets.UTF_8), List.of());
        ChannelSettings s = ChannelSettings.parse(
                "cordon.yaml",
                "channels:\n  slack:\n    app_token_secret: SLACK_APP_TOKEN\n    bot_token_secret: SLACK_BOT_TOKEN\n");

        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("channels.slack.app_token_secret: the secret is not an app-level token");
    }

    @Test
    void theDiscordBlockNamesTheTokenAndChecksTheApiUrl() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  discord:
                    token_secret: DISCORD_BOT_TOKEN
                    engage: always
                """);
        assertThat(s.discord().settings().api()).hasToString("https://discord.com/api/v10/");
        assertThat(s.discord().tokenSecret()).isEqualTo("DISCORD_BOT_TOKEN");
        assertThat(s.discord().mentionOnly()).isFalse();

        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", "channels:\n  discord:\n    engage: mention\n"))
                .hasMessageContaining("channels.discord.token_secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          discord:
                            token_secret: DISCORD_BOT_TOKEN
                            api_url: http://discord.example.org/api/v10/
                        """))
                .hasMessageContaining("channels.discord: api_url: must be https");
    }

    @Test
    void aDiscordSecretThatIsNotABotTokenStopsTheStartWithoutShowingIt() {
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        vault.put("DISCORD_BOT_TOKEN", "client-secret-pasted-by-mistake".getBytes(StandardCharsets.UTF_8), List.of());
        ChannelSettings s =
                ChannelSettings.parse("cordon.yaml", "channels:\n  discord:\n    token_secret: DISCORD_BOT_TOKEN\n");

        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("channels.discord.token_secret: secret DISCORD_BOT_TOKEN")
                .hasMessageContaining("not a Discord bot token")
                .hasMessageNotContaining("client-secret-pasted-by-mistake");
    }

    @Test
    void mistakesAreReportedWithLineColumnFieldAndReason() {
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          irc:
                            server: irc.example.org
                            nick: cordonbot
                            prot: 6667
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cordon.yaml:5:5: channels.irc.prot: unknown field (known: channels, engage,");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          irc:
                            server: irc.example.org
                            nick: 1bot
                        """))
                .hasMessageContaining("cordon.yaml:2:3: channels.irc: nick: '1bot' is not an IRC nick");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          email:
                            address: agent@example.org
                            imap_host: imap.example.org
                            smtp_host: smtp.example.org
                            smtp_security: ssl
                        """))
                .hasMessageContaining(
                        "cordon.yaml:6:5: channels.email.smtp_security: 'ssl' is not tls, starttls or none");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          irc:
                            server: irc.example.org
                            nick: bot
                            password_secret: hunter2
                        """))
                .hasMessageContaining("cordon.yaml:5:5: channels.irc.password_secret: 'hunter2' is not a secret name");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", "channels:\n  myspace: {}\n"))
                .hasMessageContaining(
                        "channels.myspace: unknown field (known: discord, email, github, irc, matrix, slack, telegram, webhook, whatsapp)");
    }

    @Test
    void aPasswordSecretMissingFromTheVaultStopsTheStartAndSaysHowToSetIt() {
        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        ChannelSettings s = ChannelSettings.parse(
                "cordon.yaml",
                "channels:\n  irc:\n    server: irc.example.org\n    nick: bot\n    password_secret: IRC_PASSWORD\n");

        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "channels.irc.password_secret names secret IRC_PASSWORD, which is not in the vault")
                .hasMessageContaining("cordon secret set IRC_PASSWORD");

        vault.put("IRC_PASSWORD", "pw".getBytes(StandardCharsets.UTF_8), List.of());
        try (Channels channels = Channels.of(s, vault, dir)) {
            assertThat(channels.adapters(new TerminalChannel()))
                    .extracting(a -> a.name())
                    .containsExactly("terminal", "irc");
        }
    }

    @Test
    void telegramAndMatrixBlocksAreReadWithTheirDefaultsAndTheirTokensComeFromTheVault() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  telegram:
                    token_secret: TELEGRAM_BOT_TOKEN
                  matrix:
                    homeserver: https://matrix.example.org/
                    token_secret: MATRIX_TOKEN
                    engage: always
                """);

        assertThat(s.telegram().settings().apiUrl()).hasToString("https://api.telegram.org");
        assertThat(s.telegram().settings().pollTimeout()).isEqualTo(Duration.ofSeconds(50));
        assertThat(s.telegram().tokenSecret()).isEqualTo("TELEGRAM_BOT_TOKEN");
        assertThat(s.telegram().mentionOnly()).isTrue();
        assertThat(s.matrix().settings().homeserver()).hasToString("https://matrix.example.org");
        assertThat(s.matrix().settings().joinOnInvite()).isTrue();
        assertThat(s.matrix().mentionOnly()).isFalse();

        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        vault.put("TELEGRAM_BOT_TOKEN", "not a token".getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("MATRIX_TOKEN", "syt_abc".getBytes(StandardCharsets.UTF_8), List.of());
        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("channels.telegram.token_secret: secret TELEGRAM_BOT_TOKEN")
                .hasMessageContaining("not a Telegram bot token")
                .hasMessageNotContaining("not a token");
        vault.put(
                "TELEGRAM_BOT_TOKEN",
                "123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".getBytes(StandardCharsets.UTF_8),
                List.of());
        try (Channels channels = Channels.of(s, vault, dir)) {
            assertThat(channels.adapters(new TerminalChannel()))
                    .extracting(a -> a.name())
                    .containsExactly("terminal", "telegram", "matrix");
        }
    }

    @Test
    void webhookGitHubAndWhatsAppBlocksAreReadAndTheirSecretsComeFromTheVault() {
        ChannelSettings s = ChannelSettings.parse("cordon.yaml", """
                channels:
                  webhook:
                    endpoints:
                      ci: {agent: main, secret: CI_HOOK_SECRET, reply_url: "https://ci.example.org/replies/"}
                      alerts: {agent: ops, secret: ALERTS_SECRET}
                  github:
                    login: cordon-bot
                    webhook_secret: GH_HOOK
                    token_secret: GH_TOKEN
                  whatsapp:
                    phone_number_id: "106540352242922"
                    token_secret: WA_TOKEN
                    app_secret: WA_APP
                    verify_token_secret: WA_VERIFY
                """);

        assertThat(s.webhook().replayWindow()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.webhook().endpoints())
                .containsExactly(
                        new ChannelSettings.WebhookEndpoint(
                                "ci", "main", "CI_HOOK_SECRET", java.net.URI.create("https://ci.example.org/replies/")),
                        new ChannelSettings.WebhookEndpoint("alerts", "ops", "ALERTS_SECRET", null));
        assertThat(s.github().settings().apiUrl()).hasToString("https://api.github.com");
        assertThat(s.whatsapp().settings().apiUrl()).hasToString("https://graph.facebook.com/v21.0");

        Vault vault = Vault.open(dir.resolve("vault.json"), dir.resolve("vault.key"));
        for (String name : List.of("CI_HOOK_SECRET", "ALERTS_SECRET", "GH_HOOK", "WA_APP")) {
            vault.put(name, "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8), List.of());
        }
        vault.put("GH_TOKEN", "ghp_x".getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("WA_TOKEN", "EAAG".getBytes(StandardCharsets.UTF_8), List.of());
        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "channels.whatsapp.verify_token_secret names secret WA_VERIFY, which is not in the vault");
        vault.put("WA_VERIFY", "short".getBytes(StandardCharsets.UTF_8), List.of());
        assertThatThrownBy(() -> Channels.of(s, vault, dir))
                .hasMessageContaining("channels.whatsapp.verify_token_secret: secret WA_VERIFY")
                .hasMessageContaining("verify token is shorter than 16 characters")
                .hasMessageNotContaining("short\"");
        vault.put("WA_VERIFY", "a-verify-token-of-length".getBytes(StandardCharsets.UTF_8), List.of());
        try (Channels channels = Channels.of(s, vault, dir)) {
            assertThat(channels.hooks()).extracting(a -> a.name()).containsExactly("github", "whatsapp", "webhook");
        }
    }

    @Test
    void webhookGitHubAndWhatsAppMistakesNameTheField() {
        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  webhook:\n    endpoints:\n      ci: {agent: main}\n"))
                .hasMessageContaining("channels.webhook.endpoints.ci.secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml",
                        "channels:\n  webhook:\n    endpoints:\n      Bad/Name: {agent: main, secret: S}\n"))
                .hasMessageContaining("channels.webhook.endpoints.Bad/Name: an endpoint name must be");
        assertThatThrownBy(
                        () -> ChannelSettings.parse(
                                "cordon.yaml",
                                "channels:\n  webhook:\n    endpoints:\n      ci: {agent: main, secret: S, reply_url: 'http://ci.example.org/'}\n"))
                .hasMessageContaining(
                        "channels.webhook.endpoints.ci: reply_url: 'http://ci.example.org/' must use https");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", "channels:\n  webhook: {}\n"))
                .hasMessageContaining("channels.webhook.endpoints: must name at least one endpoint");
        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml", "channels:\n  github:\n    login: cordon-bot\n    token_secret: T\n"))
                .hasMessageContaining("channels.github.webhook_secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse(
                        "cordon.yaml",
                        "channels:\n  whatsapp:\n    phone_number_id: '+49 151'\n    token_secret: T\n"
                                + "    app_secret: A\n    verify_token_secret: V\n"))
                .hasMessageContaining("channels.whatsapp: phone_number_id: '+49 151' is not a phone number id");
    }

    @Test
    void telegramAndMatrixMistakesNameTheField() {
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", "channels:\n  telegram:\n    poll_seconds: 5\n"))
                .hasMessageContaining("channels.telegram.token_secret: is required");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          matrix:
                            homeserver: http://matrix.example.org
                            token_secret: MATRIX_TOKEN
                        """))
                .hasMessageContaining("channels.matrix: homeserver: 'http://matrix.example.org' must use https");
        assertThatThrownBy(() -> ChannelSettings.parse("cordon.yaml", """
                        channels:
                          matrix:
                            homeserver: matrix.example.org
                            token_secret: MATRIX_TOKEN
                        """))
                .hasMessageContaining("channels.matrix.homeserver: must be an http(s) URL");
    }
}
