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
    private final Policies policies;

    AgentControl(
            Home home,
            Store store,
            AuditLog audit,
            Supplier<AgentPolicy.Defaults> defaults,
            Clock clock,
            Shares shares,
            Policies policies) {
        this.shares = shares;
        this.policies = policies;
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
        return create(request, AuditEvent.Actor.user(actor), Map.of());
    }

    /**
     * Creates an agent for {@code actor} (the owner, or an agent through {@code create_agent}) with
     * the default policy: no {@code policy.yaml} is written. Audited as {@code agent.create} with the
     * folder and {@code details}. Serialised with {@link #delete}.
     */
    synchronized ControlEvent create(
            ControlRequest.AgentsCreate request, AuditEvent.Actor actor, Map<String, Object> details) {
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
        Map<String, Object> all = new java.util.LinkedHashMap<>(details);
        all.put("folder", home.agent(name).toString());
        audit.append(AuditEvent.of(clock.instant(), actor, AuditActions.AGENT_CREATE, Decision.ALLOW)
                .withAgent(name)
                .withDetails(all));
        return new ControlEvent.Done("Created agent " + name + " in " + home.agent(name)
                + ". Its instructions are AGENTS.md there (./cordon agents edit " + name
                + "); its policy is policy.yaml (docs/policy.md). Talk to it: ./cordon chat --agent " + name);
    }

    /** The daemon's sandboxes and workspaces, as {@link #delete} needs them. */
    interface Running {
        /** The sessions with a live sandbox now. */
        Collection<SessionId> live();

        /** Stops a session's sandbox; false if it had none. */
        boolean kill(SessionId session, String by);

        /** Unmounts the agent's workspace quota image, if mounted, so its folder can move. */
        void releaseWorkspace(AgentName agent);
    }

    /**
     * Deletes an agent (docs/agents.md#deleting-an-agent): refused while one of its sessions has a
     * live sandbox unless {@code force}, which stops them first. The store keeps its history and
     * frees the name ({@link Store#deleteAgent}); its folder, kept policies and transcripts go to
     * {@link AgentArchive}; folders shared with or by it are taken back; audited as {@code
     * agent.delete}. Serialised: two deletes never race over one folder.
     */
    synchronized ControlEvent delete(ControlRequest.AgentsDelete request, String actor, Running sandboxes) {
        AgentName name;
        try {
            name = new AgentName(request.name());
        } catch (IllegalArgumentException e) {
            return new ControlEvent.Failure(e.getMessage());
        }
        Agent agent = store.agentByName(name).orElse(null);
        if (agent == null) {
            return new ControlEvent.Failure("there is no agent " + name + " (./cordon agents list shows them)");
        }
        List<Session> own = store.sessions().stream()
                .filter(s -> s.agentId().equals(agent.id()))
                .toList();
        Set<SessionId> live = Set.copyOf(sandboxes.live());
        List<SessionId> running =
                own.stream().map(Session::id).filter(live::contains).toList();
        if (!running.isEmpty() && !request.force()) {
            return new ControlEvent.Failure("agent " + name + " has " + running.size() + " live session(s) "
                    + running.stream().map(SessionId::value).toList() + "; stop them first (./cordon sessions kill ID)"
                    + " or delete with --force, which stops them");
        }
        // The store first: from here no message routes to the agent and no sweep wakes its sessions,
        // so nothing starts a new sandbox for it while its folder moves.
        Store.AgentDeleted deleted = store.deleteAgent(agent.id()).orElse(null);
        if (deleted == null) {
            return new ControlEvent.Failure("agent " + name + " was deleted meanwhile");
        }
        int stopped = 0;
        for (SessionId session : running) {
            stopped += sandboxes.kill(session, actor + " (agents delete --force)") ? 1 : 0;
        }
        int sharesRemoved = 0;
        for (Shares.Share share : shares.all()) {
            if (share.owner().equals(name.value()) || share.reader().equals(name.value())) {
                sharesRemoved +=
                        shares.remove(new AgentName(share.owner()), share.folder(), new AgentName(share.reader()))
                                ? 1
                                : 0;
            }
        }
        policies.forget(name);
        Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("sessions", own.size());
        details.put("unwired_chats", deleted.unwiredChats());
        details.put("closed_messages", deleted.closedMessages());
        details.put("cancelled_tasks", deleted.cancelledTasks());
        details.put("stopped_sandboxes", stopped);
        details.put("shares_removed", sharesRemoved);
        AgentArchive.Archived archived;
        try {
            sandboxes.releaseWorkspace(name);
            archived = AgentArchive.archive(home, store, name, own, clock.instant());
        } catch (IOException | RuntimeException e) {
            audit.append(deleteEvent(actor, name, Decision.DENY)
                    .withReason("archive failed: " + e.getMessage())
                    .withDetails(details));
            return new ControlEvent.Failure("deleted agent " + name + " from the store (its name is free and its"
                    + " chats unwired), but archiving " + home.agent(name) + " failed: " + e.getMessage()
                    + ". Move the folder away by hand before creating " + name + " again.");
        }
        details.put("archive", archived.folder().toString());
        details.put("transcripts", archived.transcripts());
        audit.append(deleteEvent(actor, name, Decision.ALLOW).withDetails(details));
        return new ControlEvent.Done("Deleted agent " + name + ". Archived in " + archived.folder()
                + " (agent/: its AGENTS.md, policy, workspace and memory, skills; transcripts/: "
                + archived.transcripts() + " session transcript(s))."
                + (stopped > 0 ? " Stopped " + stopped + " live sandbox(es)." : "")
                + (deleted.unwiredChats() > 0
                        ? " Unwired " + deleted.unwiredChats() + " chat(s): a message there is no longer answered;"
                                + " the sender is told the chat is not wired to an agent (./cordon pair AGENT wires it)."
                        : "")
                + (deleted.closedMessages() > 0
                        ? " " + deleted.closedMessages() + " unanswered message(s) were closed."
                        : "")
                + (deleted.cancelledTasks() > 0 ? " Cancelled " + deleted.cancelledTasks() + " task(s)." : "")
                + " Its messages and audit entries stay in the store. The name is free: ./cordon agents create "
                + name);
    }

    private AuditEvent deleteEvent(String actor, AgentName name, Decision decision) {
        return AuditEvent.of(clock.instant(), AuditEvent.Actor.user(actor), AuditActions.AGENT_DELETE, decision)
                .withAgent(name);
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
            // One row: a policy with several wrong sections has one error per line; the row names
            // the first and where to read them all.
            List<String> errors = in.problem().lines().toList();
            return "invalid, the agent cannot run: " + errors.getFirst()
                    + (errors.size() == 1
                            ? ""
                            : " (and " + (errors.size() - 1) + " more: ./cordon policy explain " + agent.name() + ")");
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
