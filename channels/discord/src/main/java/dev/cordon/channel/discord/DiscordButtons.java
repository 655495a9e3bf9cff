package dev.cordon.channel.discord;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.OutgoingMessage;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A message's options as Discord buttons, and a click on one ({@code INTERACTION_CREATE} of type
 * MESSAGE_COMPONENT) as an inbound message.
 *
 * <p>The buttons go in one action row: at most {@value #MAX_BUTTONS} buttons of at most {@value
 * #MAX_LABEL} characters each. A message with more options or a longer one is sent as a numbered
 * list instead ({@link OutgoingMessage#numbered}). A button's {@code custom_id} (Discord allows 100
 * characters) is a short token naming the option's position; the label is read back from the
 * components of the clicked message, which the interaction carries, so nothing is kept here.
 */
final class DiscordButtons {
    static final String PREFIX = "cordon:o:";
    static final int MAX_BUTTONS = 5;
    static final int MAX_LABEL = 80;
    /** Interaction type MESSAGE_COMPONENT, component type BUTTON. */
    private static final int MESSAGE_COMPONENT = 3;

    private static final int BUTTON = 2;

    private DiscordButtons() {}

    /** The message as it can be shown: as it is if its options fit in buttons, else with them numbered. */
    static OutgoingMessage fitted(OutgoingMessage message) {
        List<String> options = message.options();
        boolean fits = options.size() <= MAX_BUTTONS
                && options.stream().allMatch(o -> !o.isEmpty() && o.length() <= MAX_LABEL);
        return fits ? message : message.numbered();
    }

    /** Adds an action row with one button per option, if there are options. */
    static void attach(ObjectNode body, List<String> options) {
        if (options.isEmpty()) {
            return;
        }
        ArrayNode buttons =
                body.putArray("components").addObject().put("type", 1).putArray("components");
        for (int i = 0; i < options.size(); i++) {
            buttons.addObject()
                    .put("type", BUTTON)
                    .put("style", 2)
                    .put("label", options.get(i))
                    .put("custom_id", PREFIX + i);
        }
    }

    /**
     * The clicked button's label as its clicker's message in {@code place}, or null if the
     * interaction is not a click on one of this adapter's buttons (another kind of interaction, a
     * custom id of another app or an older version, a bot).
     */
    static NewInbound read(JsonNode d, DiscordMessages.Place place) {
        JsonNode user = d.has("member") ? d.path("member").path("user") : d.path("user");
        JsonNode message = d.path("message");
        String custom = d.path("data").path("custom_id").asString("");
        if (d.path("type").asInt(-1) != MESSAGE_COMPONENT
                || d.path("data").path("component_type").asInt(-1) != BUTTON
                || !custom.startsWith(PREFIX)
                || !user.has("id")
                || user.path("bot").asBoolean(false)
                || !message.has("id")) {
            return null;
        }
        for (JsonNode row : message.path("components")) {
            for (JsonNode button : row.path("components")) {
                if (custom.equals(button.path("custom_id").asString(null))) {
                    return new NewInbound(
                            Discord.NAME,
                            place.chat(),
                            "interaction:" + d.path("id").asString(),
                            user.get("id").asString(),
                            button.path("label").asString(),
                            true,
                            place.thread(),
                            message.get("id").asString());
                }
            }
        }
        return null;
    }
}
