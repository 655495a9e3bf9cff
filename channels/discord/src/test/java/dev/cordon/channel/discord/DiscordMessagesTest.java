package dev.cordon.channel.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.Domain.NewInbound;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** MESSAGE_CREATE payloads as Discord sends them, and what the host is handed of each. */
class DiscordMessagesTest {
    static final String BOT = "1000000000000000001";
    static final DiscordMessages.Places TEXT_CHANNELS = id -> new DiscordMessages.Place(id, null);
    static final DiscordAttachments FILES = new DiscordAttachments(java.net.http.HttpClient.newHttpClient(), false);

    static JsonNode event(String json) {
        return DiscordRest.JSON.readTree(json);
    }

    static String guildMessage(String extra) {
        return """
                {"id":"501","channel_id":"300","guild_id":"200","type":0,"content":"%s",
                 "author":{"id":"42","username":"alice"},"mentions":[],"attachments":[]%s}""".formatted("hello", extra);
    }

    @Test
    void systemMessagesWebhooksAndBotsAreNotPassedOn() throws IOException {
        assertThat(DiscordMessages.inbound(
                        event(guildMessage("").replace("\"type\":0", "\"type\":7")), BOT, TEXT_CHANNELS, FILES))
                .as("a member joined")
                .isNull();
        assertThat(DiscordMessages.inbound(event(guildMessage(",\"webhook_id\":\"9\"")), BOT, TEXT_CHANNELS, FILES))
                .isNull();
        assertThat(DiscordMessages.inbound(
                        event(guildMessage("").replace("\"username\":\"alice\"", "\"username\":\"x\",\"bot\":true")),
                        BOT,
                        TEXT_CHANNELS,
                        FILES))
                .isNull();
    }

    @Test
    void aNicknameMentionAddressesTheBotAndIsRemoved() throws IOException {
        NewInbound in = DiscordMessages.inbound(
                event(guildMessage("").replace("\"hello\"", "\"<@!" + BOT + ">  how are you\"")),
                BOT,
                TEXT_CHANNELS,
                FILES);

        assertThat(in.mentioned()).isTrue();
        assertThat(in.text()).isEqualTo("how are you");
        assertThat(in.platformChatId()).isEqualTo("300");
    }

    @Test
    void attachmentsArriveAsFilesNotTextAndAMessageWithNeitherTextNorFilesIsSkipped() throws IOException {
        NewInbound in = DiscordMessages.inbound(
                event(guildMessage("")
                        .replace("\"hello\"", "\"\"")
                        .replace(
                                "\"attachments\":[]",
                                "\"attachments\":[{\"id\":\"7\",\"filename\":\"log.txt\","
                                        + "\"size\":12,\"content_type\":\"text/plain; charset=utf-8\","
                                        + "\"url\":\"https://cdn.discordapp.com/attachments/300/7/log.txt\"},"
                                        + "{\"id\":\"8\",\"filename\":\"x.bin\",\"url\":\"http://cdn.example/x\"}]")),
                BOT,
                TEXT_CHANNELS,
                FILES);
        assertThat(in.text()).isEmpty();
        assertThat(in.files())
                .extracting(f -> f.name(), f -> f.mediaType(), f -> f.size())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("log.txt", "text/plain; charset=utf-8", 12L),
                        org.assertj.core.groups.Tuple.tuple("x.bin", "application/octet-stream", -1L));
        assertThatThrownBy(() -> in.files().get(1).bytes().open())
                .isInstanceOf(IOException.class)
                .hasMessage("Discord gave 'x.bin' a URL that is not https; it was not fetched");

        // Content is empty when the MESSAGE_CONTENT intent is missing: nothing to pass on.
        assertThat(DiscordMessages.inbound(
                        event(guildMessage("").replace("\"hello\"", "\"\"")), BOT, TEXT_CHANNELS, FILES))
                .isNull();
    }

    @Test
    void aGuildChannelThatCannotBeLookedUpNowLeavesTheEventForLater() {
        DiscordMessages.Places down = id -> {
            throw new IOException("Discord answered HTTP 502");
        };

        assertThatThrownBy(() -> DiscordMessages.inbound(event(guildMessage("")), BOT, down, FILES))
                .isInstanceOf(IOException.class);
    }

    @Test
    void threadsBelongToTheirParentAndOtherChannelsToThemselves() {
        assertThat(DiscordMessages.place("77", 11, "300")).isEqualTo(new DiscordMessages.Place("300", "77"));
        assertThat(DiscordMessages.place("77", 12, "300")).isEqualTo(new DiscordMessages.Place("300", "77"));
        assertThat(DiscordMessages.place("300", 0, null)).isEqualTo(new DiscordMessages.Place("300", null));
        assertThat(DiscordMessages.place("400", 5, "9")).isEqualTo(new DiscordMessages.Place("400", null));
        assertThat(DiscordMessages.threadOf("501@77")).isEqualTo("77");
        assertThat(DiscordMessages.messageOf("501@77")).isEqualTo("501");
        assertThat(DiscordMessages.threadOf("501")).isNull();
    }

    @Test
    void noncesAreStableShortAndDifferPerKey() {
        assertThat(DiscordMessages.nonce("outbound-1")).hasSize(25).isEqualTo(DiscordMessages.nonce("outbound-1"));
        assertThat(DiscordMessages.nonce("outbound-1#1/2")).isNotEqualTo(DiscordMessages.nonce("outbound-1#2/2"));
    }

    @Test
    void discordsFractionalSecondsAreReadAndAnythingElseIsNot() {
        assertThat(DiscordRest.seconds("1.337")).isEqualTo(Duration.ofMillis(1337));
        assertThat(DiscordRest.seconds("0.0001")).isEqualTo(Duration.ofMillis(1));
        assertThat(DiscordRest.seconds("65")).isEqualTo(Duration.ofSeconds(65));
        assertThat(DiscordRest.seconds("-1")).isNull();
        assertThat(DiscordRest.seconds("soon")).isNull();
    }

    @Test
    void settingsRefuseATokenOfTheWrongShapeAndPlainHttpOffLoopback() {
        assertThat(new DiscordSettings(
                                DiscordSettings.DISCORD_API, "Bot MTAwMDAwMDAwMDAw.GfAkEt.abcdefghijklmnop", null)
                        .token())
                .isEqualTo("MTAwMDAwMDAwMDAw.GfAkEt.abcdefghijklmnop");
        assertThatThrownBy(() -> new DiscordSettings(DiscordSettings.DISCORD_API, "an-oauth2-client-secret", null))
                .hasMessageContaining("token_secret: the secret is not a Discord bot token")
                .hasMessageNotContaining("an-oauth2-client-secret");
        assertThatThrownBy(() -> new DiscordSettings(URI.create("http://discord.example/api/v10/"), null, null))
                .hasMessageContaining("api_url: must be https");
        assertThat(new DiscordSettings(URI.create("http://127.0.0.1:9/api/v10/"), null, null).toString())
                .doesNotContain("token set");
    }
}
