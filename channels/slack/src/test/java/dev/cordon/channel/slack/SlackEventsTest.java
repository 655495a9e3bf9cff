package dev.cordon.channel.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.Domain.NewInbound;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class SlackEventsTest {
    static final SlackFiles NO_API = new SlackFiles(new SlackApi(
            java.net.http.HttpClient.newHttpClient(), new SlackSettings(SlackSettings.SLACK_API, null, "xoxb-unused")));

    static JsonNode event(String json) {
        return SlackApi.JSON.readTree(json);
    }

    @Test
    void joinsEditsAndBotMessagesAreNotMessagesForTheAgent() {
        assertThat(SlackEvents.inbound(
                        event("{\"type\":\"message\",\"subtype\":\"channel_join\",\"channel\":\"C1\",\"user\":\"U1\","
                                + "\"ts\":\"1.1\",\"text\":\"joined\"}"),
                        "U0BOT",
                        NO_API))
                .isNull();
        assertThat(SlackEvents.inbound(
                        event(
                                "{\"type\":\"message\",\"subtype\":\"message_changed\",\"channel\":\"C1\",\"ts\":\"1.2\"}"),
                        "U0BOT",
                        NO_API))
                .isNull();
        assertThat(SlackEvents.inbound(
                        event(
                                "{\"type\":\"message\",\"bot_id\":\"B9\",\"user\":\"U9\",\"channel\":\"C1\",\"ts\":\"1.3\","
                                        + "\"text\":\"hi\"}"),
                        "U0BOT",
                        NO_API))
                .isNull();
        assertThat(SlackEvents.inbound(event("{\"type\":\"reaction_added\",\"user\":\"U1\"}"), "U0BOT", NO_API))
                .isNull();
    }

    @Test
    void aBroadcastThreadReplyIsAMessageInItsThread() {
        NewInbound in = SlackEvents.inbound(
                event(
                        "{\"type\":\"message\",\"subtype\":\"thread_broadcast\",\"channel\":\"C1\",\"user\":\"U1\","
                                + "\"ts\":\"2.2\",\"thread_ts\":\"2.1\",\"text\":\"&lt;b&gt; &amp;\",\"channel_type\":\"channel\"}"),
                "U0BOT",
                NO_API);
        assertThat(in.platformMessageId()).isEqualTo("2.2@2.1");
        assertThat(in.threadId()).isEqualTo("2.1");
        assertThat(in.text()).isEqualTo("<b> &");
        assertThat(in.mentioned()).isFalse();
        assertThat(SlackEvents.threadOf(in.platformMessageId())).isEqualTo("2.1");
        assertThat(SlackEvents.threadOf("2.2")).isNull();
    }

    @Test
    void escapingAndUnescapingAreInverse() {
        String text = "a < b && c > d <!channel>";
        assertThat(SlackEvents.unescape(SlackEvents.escape(text))).isEqualTo(text);
        assertThat(SlackEvents.escape(text)).doesNotContain("<", ">");
    }
}
