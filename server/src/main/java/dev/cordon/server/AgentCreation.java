package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.approval.ApprovalRequest;
import dev.cordon.core.approval.ApprovalService;
import dev.cordon.core.approval.Outcome;
import dev.cordon.core.approval.Ticket;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditEvent.Decision;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.message.Destination;
import dev.cordon.core.session.HostTools;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The {@code create_agent} host tool (docs/agents.md#creating-an-agent-from-an-agent): an agent
 * whose policy grants {@code capabilities.create_agents} may ask for a new agent, and a person
 * always decides (approval kind {@code agent.create}, whose payload is the name, the whole
 * AGENTS.md text and the description, so the approver sees exactly what is created). The new agent
 * gets the default policy, never the creator's; the creator reaches it only through a destination
 * its own policy names. Every outcome is audited as {@code agent.create}. Thread-safe; a call
 * blocks until the person answers or the approval expires.
 */
final class AgentCreation implements HostTools {
    static final String TOOL = "create_agent";
    static final String KIND = "agent.create";
    /** AGENTS.md is read into every turn's prompt: a sane upper bound for a text a person reviews. */
    static final int MAX_INSTRUCTIONS = 32 * 1024;

    static final int MAX_DESCRIPTION = 500;

    private final AgentControl agents;
    private final ApprovalService approvals;
    private final AuditLog audit;
    private final Clock clock;
    private final Predicate<Agent> mayCreate;
    private final Function<Agent, Map<String, Destination>> destinations;

    /**
     * @param mayCreate whether the agent's policy in force grants {@code capabilities.create_agents}
     *     (read at each call)
     * @param destinations the destinations the agent's policy in force names
     */
    AgentCreation(
            AgentControl agents,
            ApprovalService approvals,
            AuditLog audit,
            Clock clock,
            Predicate<Agent> mayCreate,
            Function<Agent, Map<String, Destination>> destinations) {
        this.agents = agents;
        this.approvals = approvals;
        this.audit = audit;
        this.clock = clock;
        this.mayCreate = mayCreate;
        this.destinations = destinations;
    }

    @Override
    public Result call(Caller caller, String tool, Map<String, String> arguments) {
        Agent creator = caller.agent();
        if (!mayCreate.test(creator)) {
            return deny(
                    caller,
                    "capabilities.create_agents",
                    "your policy does not grant you the capability to create agents; the owner can grant it"
                            + " (capabilities: {create_agents: true} in your policy.yaml) or create one with ./cordon"
                            + " agents create");
        }
        String text = arguments.getOrDefault("agents_md", "");
        String description = arguments.getOrDefault("description", "");
        AgentName name;
        try {
            name = new AgentName(arguments.getOrDefault("name", ""));
        } catch (IllegalArgumentException e) {
            return deny(caller, "create_agent.name", e.getMessage());
        }
        if (text.isBlank() || text.length() > MAX_INSTRUCTIONS) {
            return deny(
                    caller,
                    "create_agent.agents_md",
                    "agents_md must be a non-blank text of at most " + MAX_INSTRUCTIONS + " characters, got "
                            + text.length());
        }
        if (description.length() > MAX_DESCRIPTION || description.contains("\n")) {
            return deny(
                    caller,
                    "create_agent.description",
                    "description must be one line of at most " + MAX_DESCRIPTION + " characters");
        }
        Map<String, String> payload = new LinkedHashMap<>();
        payload.put("name", name.value());
        payload.put("agents_md", text);
        if (!description.isEmpty()) {
            payload.put("description", description);
        }
        Ticket ticket = approvals.request(new ApprovalRequest(
                creator.id(),
                caller.session().id(),
                caller.chat().id(),
                KIND,
                creator.name() + " asks to create agent " + name + " with the AGENTS.md in the payload"
                        + " (default policy)",
                payload,
                approvals.defaultTimeout()));
        Outcome outcome;
        try {
            outcome = ticket.outcome().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result("create_agent: the host stopped before anyone answered", true);
        } catch (ExecutionException e) {
            return new Result(
                    "create_agent: the approval failed: " + e.getCause().getMessage(), true);
        }
        if (!outcome.granted()) {
            return deny(caller, "approval", "not approved, so agent " + name + " was not created: " + outcome.reason());
        }
        ControlEvent made = agents.create(
                new ControlRequest.AgentsCreate(name.value(), text),
                AuditEvent.Actor.agent(creator.name()),
                Map.of(
                        "approval",
                        outcome.id().value(),
                        "description",
                        description,
                        "creator",
                        creator.name().value()));
        if (made instanceof ControlEvent.Failure f) {
            return deny(caller, "create_agent.name", f.message());
        }
        return new Result(
                "Created agent " + name + " (" + outcome.reason() + "). It has the default policy. "
                        + reach(creator, name),
                false);
    }

    private String reach(Agent creator, AgentName created) {
        return destinations.apply(creator).entrySet().stream()
                .filter(e ->
                        e.getValue() instanceof Destination.Agent a && a.agent().equals(created))
                .map(e -> "Your policy names it as destination '" + e.getKey() + "': send_message with to=" + e.getKey()
                        + " reaches it.")
                .findFirst()
                .orElse("You cannot message it: your policy names no destination for it (the owner can add one).");
    }

    private Result deny(Caller caller, String rule, String reason) {
        audit.append(AuditEvent.of(
                        clock.instant(),
                        AuditEvent.Actor.agent(caller.agent().name()),
                        AuditActions.AGENT_CREATE,
                        Decision.DENY)
                .withAgent(caller.agent().name())
                .withRule(rule)
                .withReason(reason));
        return new Result("create_agent refused: " + reason, true);
    }
}
