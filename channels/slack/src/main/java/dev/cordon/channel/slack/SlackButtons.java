package dev.cordon.channel.slack;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.OutgoingMessage;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * A message's options as Block Kit buttons, and a click on one (a {@code block_actions} payload in
 * an {@code interactive} Socket Mode envelope) as an inbound message.
 *
 * <p>With blocks Slack shows the blocks, not the {@code text} (which stays as the notification's
 * fallback): the text goes in a {@code section} block (at most {@value #MAX_SECTION} characters),
 * the options in an {@code actions} block (at most {@value #MAX_BUTTONS} buttons of at most {@value
 * #MAX_LABEL} characters). A message that does not fit is sent as a numbered list instead. Each
 * button's {@code action_id} names the option's position; the label is read back from the clicked
 * message's blocks, which the payload carries, so nothing is kept here.
 */
final class SlackButtons {
    static final String PREFIX = "cordon:o:";
    static final int MAX_SECTION = 3000;
    static final int MAX_BUTTONS = 25;
    static final int MAX_LABEL = 75;

    private SlackButtons() {}

    /** The message as it can be shown: as it is if it fits in blocks, else with its options numbered. */
    static OutgoingMessage fitted(OutgoingMessage message) {
        boolean fits = message.options().size() <= MAX_BUTTONS
                && message.options().stream().allMatch(o -> !o.isEmpty() && o.length() <= MAX_LABEL)
                && SlackEvents.escape(message.text()).length() <= MAX_SECTION;
        return fits ? message : message.numbered();
    }

    /** The blocks of a message with options: its (escaped) text in a section, then the buttons. */
    static ArrayNode blocks(String escapedText, java.util.List<String> options) {
        ArrayNode blocks = SlackApi.JSON.createArrayNode();
        blocks.addObject()
                .put("type", "section")
                .putObject("text")
                .put("type", "mrkdwn")
                .put("text", escapedText);
        ArrayNode buttons = blocks.addObject()
                .put("type", "actions")
                .put("block_id", "cordon-options")
                .putArray("elements");
        for (int i = 0; i < options.size(); i++) {
            var button = buttons.addObject().put("type", "button").put("action_id", PREFIX + i);
            button.putObject("text").put("type", "plain_text").put("text", options.get(i));
            button.put("value", Integer.toString(i));
        }
        return blocks;
    }

    /**
     * The clicked button's label as its clicker's message, or null if the payload is not a click on
     * one of this adapter's buttons (another interaction, another app's action id, a stale message).
     */
    static NewInbound read(JsonNode payload) {
        JsonNode action = payload.path("actions").path(0);
        String actionId = action.path("action_id").asString("");
        String user = payload.path("user").path("id").asString(null);
        String channel = payload.path("channel")
                .path("id")
                .asString(payload.path("container").path("channel_id").asString(null));
        JsonNode message = payload.path("message");
        String ts = message.path("ts").asString(null);
        if (!payload.path("type").asString("").equals("block_actions")
                || !actionId.startsWith(PREFIX)
                || user == null
                || channel == null
                || ts == null) {
            return null;
        }
        for (JsonNode block : message.path("blocks")) {
            for (JsonNode element : block.path("elements")) {
                if (actionId.equals(element.path("action_id").asString(null))) {
                    String thread = message.path("thread_ts").asString(null);
                    boolean inThread = thread != null && !thread.equals(ts);
                    return new NewInbound(
                            Slack.NAME,
                            channel,
                            "action:" + action.path("action_ts").asString(ts),
                            user,
                            element.path("text").path("text").asString(),
                            true,
                            inThread ? thread : null,
                            ts);
                }
            }
        }
        return null;
    }
}
