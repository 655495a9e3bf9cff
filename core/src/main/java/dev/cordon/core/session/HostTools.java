package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Inbound;
import dev.cordon.core.Domain.Session;
import java.util.List;
import java.util.Map;

/**
 * The tools whose effect is outside the sandbox, run by the host for a runner's {@code
 * host_tool_call} (DESIGN.md invariant 3). {@link SessionManager} has applied the agent's tool rules
 * first (asking a person when a rule says ask); an implementation checks the arguments and what
 * this caller may touch. Arguments are hostile input. Implementations are thread-safe and block
 * until done.
 */
@FunctionalInterface
public interface HostTools {

    /** Runs {@code tool} for {@code caller}; a refusal or bad input is a result with {@code error}, never an exception. */
    Result call(Caller caller, String tool, Map<String, String> arguments);

    /**
     * Who calls: the agent, in its session, in the session's chat, during turn {@code turnId} (the
     * same id when a turn is retried in a fresh sandbox, so effects keyed by it happen once), which
     * answers the messages {@code batch} (oldest first).
     */
    record Caller(Agent agent, Session session, Chat chat, String turnId, List<Inbound> batch) {
        public Caller {
            batch = List.copyOf(batch);
        }
    }

    /** Text for the model. */
    record Result(String text, boolean error) {}

    /** No host tools: every call is refused. */
    HostTools NONE = (caller, tool, arguments) -> new Result("this host offers no tool '" + tool + "'", true);

    /** Each tool served by the tools {@code byName} maps it to; any other is refused. */
    static HostTools of(Map<String, HostTools> byName) {
        Map<String, HostTools> tools = Map.copyOf(byName);
        return (caller, tool, arguments) -> tools.getOrDefault(tool, NONE).call(caller, tool, arguments);
    }
}
