package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.UserId;
import dev.cordon.core.store.Store;
import io.javalin.http.Context;

/**
 * Who may do what on the HTTP API (docs/access.md, docs/dashboard.md): the role checks every route
 * shares, each refusal a {@link WebException} saying who lacks what. Thread-safe.
 */
final class WebRoles {
    private final Store store;
    private final Access access;

    WebRoles(Store store, Access access) {
        this.store = store;
        this.access = access;
    }

    void requireMember(UserId user, AgentName agent) {
        if (access.role(user, agent).isEmpty()) {
            throw new WebException(
                    403,
                    user + " has no role for agent " + agent + "; an admin can grant one: ./cordon users grant " + user
                            + " member --agent " + agent);
        }
    }

    void requireAdmin(UserId user, AgentName agent) {
        if (access.requireAdmin(user, agent) instanceof Access.Permission.Denied denied) {
            throw new WebException(403, denied.reason());
        }
    }

    boolean mayAdminister(UserId user, AgentName agent) {
        return access.mayAdminister(user, agent);
    }

    boolean globalAdmin(UserId user) {
        return access.requireAdmin(user, null) instanceof Access.Permission.Allowed;
    }

    /** The agent named in the path, for one of its members; 400 for a bad name, 404 for none. */
    Agent agent(Context ctx, UserId user) {
        AgentName name;
        try {
            name = new AgentName(ctx.pathParam("agent"));
        } catch (IllegalArgumentException e) {
            throw new WebException(400, e.getMessage());
        }
        Agent agent = store.agentByName(name).orElse(null);
        if (agent == null) {
            throw new WebException(404, "there is no agent named '" + name + "'");
        }
        requireMember(user, name);
        return agent;
    }

    /** The agent named in the path, for one of its admins. */
    Agent administered(Context ctx, UserId user) {
        Agent agent = agent(ctx, user);
        requireAdmin(user, agent.name());
        return agent;
    }

    /** A path parameter that must be a number; 400 naming it otherwise. */
    static long number(Context ctx, String param) {
        String raw = ctx.pathParam(param);
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new WebException(400, param + " must be a number, not '" + raw + "'");
        }
    }

    /** A numeric query parameter from {@code min} to {@code max}, or {@code fallback}; 400 otherwise. */
    static int query(Context ctx, String name, int fallback, int min, int max) {
        String raw = ctx.queryParam(name);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new WebException(400, "query parameter " + name + " must be a number from " + min + " to " + max);
    }
}
