package dev.cordon.core.message;

import dev.cordon.core.AgentName;
import java.util.Objects;

/** A place an agent's policy lets it send messages to, by a name of the policy's choosing. */
public sealed interface Destination {

    /** A chat on a channel, by the platform's id for it (an IRC channel {@code #ops}, a Slack channel id). */
    record Chat(String channel, String chat) implements Destination {
        public Chat {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(chat, "chat");
        }
    }

    /** Another agent: it gets the message in its own session for this pair, and its reply comes back. */
    record Agent(AgentName agent) implements Destination {
        public Agent {
            Objects.requireNonNull(agent, "agent");
        }
    }
}
