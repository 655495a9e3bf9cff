package dev.cordon.channel.slack;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.RecentIds;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * What Socket Mode and the Events API share: an {@code event_callback} payload (the same JSON
 * whether it comes in a Socket Mode envelope or as the body of an HTTP POST) turned into at most
 * one stored message, and the bot's own user id that mention detection needs.
 *
 * <p>Redeliveries of an event already handled ({@code event_id}), and the second event Slack sends
 * for one mention (a {@code message} and an {@code app_mention} with the same {@code ts}), do not
 * reach the sink again. The memory is bounded and lost on restart; the host's dedup on (chat,
 * message id), which is durable, stands behind it.
 *
 * <p>Thread-safe: Socket Mode calls it from its one loop thread, the Events API from many request
 * threads at once. Two deliveries of one event racing each other may both reach the sink; the
 * host's dedup answers the second as a duplicate.
 */
final class SlackIntake {
    private static final Logger LOG = LoggerFactory.getLogger(SlackIntake.class);
    private final SlackApi api;
    private final SlackFiles files;
    /** Event ids and message keys handled lately. */
    private final RecentIds<String> handled = new RecentIds<>(10_000);

    private volatile String botUserId;

    SlackIntake(SlackApi api) {
        this.api = api;
        this.files = new SlackFiles(api);
    }

    /**
     * The bot's user id, asked of Slack ({@code auth.test}) the first time and then kept.
     *
     * @throws IOException if Slack could not be asked or refused the bot token, with its reason
     */
    String botUserId() throws IOException {
        String id = botUserId;
        if (id == null) {
            synchronized (this) {
                if (botUserId == null) {
                    botUserId = switch (api.authTest()) {
                        case SlackApi.Answer.Ok ok -> ok.body().path("user_id").asString();
                        case SlackApi.Answer.Retry r -> throw new IOException(r.reason());
                        case SlackApi.Answer.Refused r -> throw new IOException(r.reason());
                    };
                }
                id = botUserId;
            }
        }
        return id;
    }

    /**
     * Hands the message in {@code payload} (an {@code event_callback}) to {@code sink}, unless it was
     * handled already or is not one a person wrote. Blocks while the sink stores.
     *
     * @param retry how Slack marks a redelivery ({@code retry 2}), for the log
     * @return true when Slack may be told the event is taken (stored, decided on, a duplicate or
     *     ignored); false when the sink failed: the event must stay unacknowledged so that Slack
     *     delivers it again
     * @throws IOException if the bot's own id is not known yet and Slack cannot be asked
     */
    boolean take(JsonNode payload, InboundSink sink, String retry) throws IOException {
        String eventId = "event " + payload.path("event_id").asString("");
        if (handled.contains(eventId)) {
            LOG.debug("{} delivered again ({}): acknowledged", eventId, retry);
            return true;
        }
        NewInbound message = SlackEvents.inbound(payload.path("event"), botUserId(), files);
        String key = message == null ? null : "message " + message.platformChatId() + " " + message.platformMessageId();
        if (message != null && !handled.contains(key)) {
            try {
                InboundSink.InboundResult result = sink.accept(message);
                if (result instanceof InboundSink.InboundResult.Dropped d && message.mentioned()) {
                    LOG.info("Slack message {} in {} dropped: {}", key, message.platformChatId(), d.reason());
                }
            } catch (RuntimeException e) {
                // Not acknowledged: Slack delivers it again, and the host may be able to store it then.
                LOG.error("could not store the Slack message {}; left unacknowledged for Slack to redeliver", key, e);
                return false;
            }
            handled.add(key);
        }
        handled.add(eventId);
        return true;
    }

    /**
     * Hands a click on one of Cordon's buttons (a {@code block_actions} payload, the same JSON whether
     * it comes in a Socket Mode {@code interactive} envelope or as the {@code payload} of a POST to
     * the Interactivity Request URL) to {@code sink} as the clicker's answer ({@link
     * SlackButtons#read}). A redelivery is recognised by the host's dedup on the action's time stamp.
     * Blocks while the sink stores.
     *
     * @param from where the click came from (an envelope id, {@code HTTP}), for the log
     * @return true when Slack may be told the click is taken (stored, decided on, or no click of
     *     Cordon's and dropped); false when the sink failed and Slack must not be told it was taken
     */
    boolean click(JsonNode payload, InboundSink sink, String from) {
        NewInbound press = SlackButtons.read(payload);
        if (press == null) {
            LOG.info("Slack interaction {} is not a click on Cordon's buttons: dropped", from);
            return true;
        }
        try {
            if (sink.accept(press) instanceof InboundSink.InboundResult.Dropped d) {
                LOG.info("Slack click {} dropped: {}", press.platformMessageId(), d.reason());
            }
        } catch (RuntimeException e) {
            LOG.error("could not store the Slack click {}; left unacknowledged", press.platformMessageId(), e);
            return false;
        }
        return true;
    }
}
