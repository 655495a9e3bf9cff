package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.access.UserId;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.LiveEvent;
import dev.cordon.core.channel.OutgoingMessage;
import java.util.List;
import java.util.Map;

/**
 * The web chat as a channel like any other: each web user has one chat per agent, platform chat
 * id {@code AGENT/USER} ({@code main/alice} for {@code web:alice}), and the router applies the
 * chat's sender policy and the user's role as for every channel. A reply is delivered once it is
 * published to the user's live events; it stays readable from the store ({@code GET
 * /api/v1/agents/NAME/messages}), so a closed browser loses nothing. Thread-safe.
 */
final class WebChannel implements ChannelAdapter {
    static final String NAME = "web";

    private final WebEvents events;
    private volatile InboundSink sink;
    private volatile WebChatFiles files;

    WebChannel(WebEvents events) {
        this.events = events;
    }

    void connect(InboundSink sink) {
        this.sink = sink;
    }

    /** Where uploads are found and sent files served; set once, with the HTTP server. */
    void filesFrom(WebChatFiles files) {
        this.files = files;
    }

    @Override
    public Capabilities capabilities() {
        // Files go up as links the daemon serves to the chat's own user (WebChatFiles).
        return new Capabilities(false, false, false, files != null, false, false, 0);
    }

    @Override
    public String name() {
        return NAME;
    }

    static String chatId(AgentName agent, UserId user) {
        return agent.value() + "/" + user.platformUserId();
    }

    /** Stores the message through the router (durable before this returns) and says what became of it. */
    InboundSink.InboundResult say(UserId user, AgentName agent, String clientMessageId, String text) {
        return say(user, agent, clientMessageId, text, List.of());
    }

    /**
     * As {@link #say(UserId, AgentName, String, String)}, with the files of the uploads {@code
     * uploads} (WebChatFiles).
     *
     * @throws WebException 400 if an upload is unknown, expired or another user's
     */
    InboundSink.InboundResult say(
            UserId user, AgentName agent, String clientMessageId, String text, List<String> uploads) {
        List<InboundFile> attached = uploads.isEmpty() || files == null ? List.of() : files.files(user, uploads);
        return sink.accept(new NewInbound(
                NAME, chatId(agent, user), clientMessageId, user.platformUserId(), text, true, null, null, attached));
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        Map<String, Object> reply = new java.util.HashMap<>(Map.of(
                "outbound", message.deliveryId(),
                "inReplyTo", message.inReplyTo(),
                "text", message.text(),
                "failed", message.failed()));
        if (message.file() != null) {
            reply.put(
                    "file",
                    Map.of(
                            "name", message.file().name(),
                            "size", message.file().size(),
                            "mediaType", message.file().mediaType(),
                            "url", WebChatFiles.link(message.deliveryId())));
        }
        publish(message.platformChatId(), "reply", reply);
        return new DeliveryResult.Delivered("web-" + message.deliveryId());
    }

    @Override
    public boolean showsLive() {
        return true;
    }

    @Override
    public void live(String platformChatId, LiveEvent event) {
        switch (event) {
            case LiveEvent.Text t -> publish(platformChatId, "delta", Map.of("text", t.text()));
            case LiveEvent.Reset r -> publish(platformChatId, "reset", Map.of("reason", r.reason()));
            case LiveEvent.Notice n -> publish(platformChatId, "notice", Map.of("text", n.text()));
            case LiveEvent.ToolCall c ->
                publish(platformChatId, "tool_call", Map.of("tool", c.tool(), "input", c.input()));
        }
    }

    private void publish(String platformChatId, String type, Map<String, Object> data) {
        int slash = platformChatId.indexOf('/');
        if (slash <= 0) {
            return; // not a chat this channel made (AGENT/USER): nobody to show it to
        }
        AgentName agent = new AgentName(platformChatId.substring(0, slash));
        UserId user = new UserId(NAME, platformChatId.substring(slash + 1));
        Map<String, Object> withChat = new java.util.HashMap<>(data);
        withChat.put("agent", agent.value());
        withChat.put("user", user.toString());
        events.publish(new WebEvents.Event(type, agent, user, withChat));
    }
}
