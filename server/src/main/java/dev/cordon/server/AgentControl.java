package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.store.Store;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Agents as the owner manages them ({@code cordon agents}, docs/agents.md). An agent is a folder
 * under {@code agents/} ({@code AGENTS.md}, an optional {@code policy.yaml}, {@code workspace/})
 * plus its row in the store; creating one makes both and is audited.
 */
final class AgentControl {
    /** The agent's own memory in its workspace (the runner keeps it; the host only stats it). */
    static final String MEMORY = "MEMORY.md";

    private final Home home;
    private final Store store;
    private final AuditLog audit;
    private final Supplier<AgentPolicy.Defaults> defaults;
    private final Clock clock;
    private final Shares shares;

    AgentControl(
            Home home,
            Store store,
            AuditLog audit,
            Supplier<AgentPolicy.Defaults> defaults,
            Clock clock,
            Shares shares) {
        this.shares = shares;
        this.home = home;
        this.store = store;
        this.audit = audit;
        this.defaults = defaults;
        this.clock = clock;
    }

    /** Makes sure {@code name} has its row, folder, workspace and instructions; returns its row. */
    Agent ensure(AgentName name) throws IOException {
        return ensure(name, null);
    }

    private Agent ensure(AgentName name, String instructions) throws IOException {
        Agent agent = store.ensureAgent(name);
        Files.createDirectories(home.workspace(name));
        Path file = home.agent(name).resolve("AGENTS.md");
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(
                    file,
                    instructions != null
                            ? instructions.strip() + "\n"
                            : "# " + name + "\n\nYou are " + name
                                    + ", the owner's general-purpose assistant. Be concise.\n\n"
                                    + "(Edit this file to change the agent's instructions; it is read at every turn.)\n");
        }
        return agent;
    }

    ControlEvent create(ControlRequest.AgentsCreate request, String actor) {
        AgentName name;
        try {
            name = new AgentName(request.name());
        } catch (IllegalArgumentException e) {
            return new ControlEvent.Failure(e.getMessage());
        }
        if (store.agentByName(name).isPresent() || Files.exists(home.agent(name), LinkOption.NOFOLLOW_LINKS)) {
            return new ControlEvent.Failure("agent " + name + " already exists (" + home.agent(name) + ")");
        }
        try {
            ensure(name, request.instructions());
        } catch (IOException e) {
            return new ControlEvent.Failure("could not create " + home.agent(name) + ": " + e.getMessage());
        }
        audit.append(
                AuditEvent.of(clock.instant(), AuditEvent.Actor.user(actor), AuditActions.AGENT_CREATE, Decision.ALLOW)
                        .withAgent(name)
                        .withDetails(Map.of("folder", home.agent(name).toString())));
        return new ControlEvent.Done("Created agent " + name + " in " + home.agent(name)
                + ". Its instructions are AGENTS.md there (./cordon agents edit " + name
                + "); its policy is policy.yaml (docs/policy.md). Talk to it: ./cordon chat " + name);
    }

    /**
     * Lends, or takes back, a folder of one agent's workspace to another, read-only; audited as
     * {@code share.grant} / {@code share.revoke}. Either way it counts from the reader's next sandbox
     * start: a live sandbox keeps what it was started with.
     */
    ControlEvent share(ControlRequest.AgentsShare request, String actor) {
        AgentName owner;
        AgentName reader;
        String folder;
        try {
            owner = new AgentName(request.owner());
            reader = new AgentName(request.reader());
            folder = Shares.folder(request.folder());
        } catch (IllegalArgumentException e) {
            return new ControlEvent.Failure(e.getMessage());
        }
        for (AgentName name : List.of(owner, reader)) {
            if (store.agentByName(name).isEmpty()) {
                return new ControlEvent.Failure("there is no agent " + name + " (./cordon agents list shows them)");
            }
        }
        if (owner.equals(reader)) {
            return new ControlEvent.Failure("agent " + owner + " has its whole workspace already");
        }
        String mount = Shares.ROOT + "/" + owner + "/" + folder;
        if (request.revoke()) {
            if (!shares.remove(owner, folder, reader)) {
                return new ControlEvent.Failure(owner + "'s " + folder + " is not shared with " + reader);
            }
        } else {
            Path path = home.workspace(owner).resolve(folder);
            if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                return new ControlEvent.Failure(path + " is not a directory (a shared folder must be a real folder of "
                        + owner + "'s workspace, not a link)");
            }
            if (!shares.add(owner, folder, reader, actor, clock.instant())) {
                return new ControlEvent.Failure(owner + "'s " + folder + " is already shared with " + reader);
            }
        }
        audit.append(AuditEvent.of(
                        clock.instant(),
                        AuditEvent.Actor.user(actor),
                        request.revoke() ? AuditActions.SHARE_REVOKE : AuditActions.SHARE_GRANT,
                        request.revoke() ? Decision.INFO : Decision.ALLOW)
                .withAgent(reader)
                .withDetails(
                        Map.of("owner", owner.value(), "folder", folder, "reader", reader.value(), "mount", mount)));
        return new ControlEvent.Done(
                request.revoke()
                        ? "Took back " + owner + "'s " + folder + " from " + reader + ": it is gone from " + reader
                                + "'s next sandbox (a live one keeps it until it stops: ./cordon sessions kill ID)."
                        : "Shared " + owner + "'s " + folder + " with " + reader + ", read-only at " + mount
                                + " from its next sandbox start. Take it back: ./cordon agents unshare " + owner + " "
                                + folder + " --with " + reader);
    }

    ControlEvent.AgentListing list(Collection<SessionId> live) {
        Set<SessionId> liveIds = Set.copyOf(live);
        List<Session> sessions = store.sessions();
        return new ControlEvent.AgentListing(store.agents().stream()
                .sorted(java.util.Comparator.comparing(a -> a.name().value()))
                .map(agent -> {
                    List<Session> own = sessions.stream()
                            .filter(s -> s.agentId().equals(agent.id()))
                            .toList();
                    return new ControlEvent.AgentRow(
                            agent.name().value(),
                            home.agent(agent.name()).toString(),
                            (int) own.stream()
                                    .filter(s -> liveIds.contains(s.id()))
                                    .count(),
                            own.size(),
                            policy(agent),
                            memoryBytes(agent.name()));
                })
                .toList());
    }

    /** "defaults" without a file, "vN" for the version in force, or why the file is not in force. */
    private String policy(Agent agent) {
        Policies.InForce in = Policies.inForce(home, agent.name(), defaults.get());
        if (in.problem() != null) {
            return "invalid, the agent cannot run: " + in.problem();
        }
        if (in.version() == 0) {
            return "defaults";
        }
        Path file = home.agent(agent.name()).resolve("policy.yaml");
        return in.source().equals(file) ? "v" + in.version() : "policy.yaml invalid; v" + in.version() + " in force";
    }

    /** The memory file's size as the host sees it: a stat only, never a read of the agent's file. */
    private long memoryBytes(AgentName name) {
        Path file = home.workspace(name).resolve(MEMORY);
        try {
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? Files.size(file) : -1;
        } catch (IOException e) {
            return -1;
        }
    }
}
