package dev.cordon.runner.tools;

import dev.cordon.runner.model.ToolSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A tool whose effect is outside the sandbox: the runner only checks the input's shape and asks the
 * host ({@code host_tool_call}); the host applies the agent's tool rules, checks what the agent may
 * touch and acts. Thread-safe.
 */
final class HostTool implements Tool {
    /** Sends a call to the host and waits for its answer. */
    @FunctionalInterface
    public interface Host {
        ToolOutput call(String tool, Map<String, String> arguments);
    }

    private final ToolSpec spec;
    private final InputSchema schema;
    private final List<String> names;
    private final Host host;

    private HostTool(String name, String description, InputSchema schema, List<String> names, Host host) {
        this.spec = new ToolSpec(name, description, schema.json());
        this.schema = schema;
        this.names = names;
        this.host = host;
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public boolean rulesAppliedByHost() {
        return true;
    }

    @Override
    public ToolOutput run(JsonNode input) {
        InputSchema.Args args;
        try {
            args = schema.parse(input);
        } catch (InvalidInputException e) {
            return e.toOutput();
        }
        Map<String, String> arguments = new LinkedHashMap<>();
        for (String name : names) {
            String value = args.string(name, null);
            if (value != null) {
                arguments.put(name, value);
            }
        }
        return host.call(spec.name(), arguments);
    }

    static Tool sendMessage(Host host) {
        InputSchema send = InputSchema.builder("send_message")
                .requiredText("text", "The message, as its reader will see it.")
                .optionalText(
                        "to",
                        "A destination your policy names (your instructions or the owner tell you which); leave"
                                + " out for this chat.")
                .build();
        return new HostTool(
                "send_message",
                "Sends a message now, before your reply: to this chat, or to a destination your policy names"
                        + " (a chat, or another agent, whose reply then comes to you here as a message). Nowhere"
                        + " else.",
                send,
                List.of("text", "to"),
                host);
    }

    static Tool sendFile(Host host) {
        InputSchema send = InputSchema.builder("send_file")
                .requiredText("path", "The file in your workspace, e.g. /workspace/report.pdf.")
                .optionalText("caption", "Text shown with the file, at most 1,000 characters.")
                .optionalText(
                        "to",
                        "A destination your policy names (your instructions or the owner tell you which); leave"
                                + " out for this chat.")
                .build();
        return new HostTool(
                "send_file",
                "Sends a file of your workspace now: to this chat, or to a chat your policy names. The host reads"
                        + " it (a regular file, no links, at most the host's size limit, 20 MiB by default) and"
                        + " uploads it where the platform takes files, else sends a link.",
                send,
                List.of("path", "caption", "to"),
                host);
    }

    static Tool askUser(Host host) {
        InputSchema ask = InputSchema.builder("ask_user")
                .requiredText("question", "The question, as the person will read it.")
                .optionalText("options", "Choices, one per line; the person answers with a number or in words.")
                .optionalText("timeout_seconds", "How long to wait for the answer, 1 to 3600; default 600.")
                .build();
        return new HostTool(
                "ask_user",
                "Asks the person in this chat a question and waits for the answer (or a timeout), then goes on"
                        + " with it. Use it when you cannot go on without their choice.",
                ask,
                List.of("question", "options", "timeout_seconds"),
                host);
    }

    static Tool createAgent(Host host) {
        InputSchema create = InputSchema.builder("create_agent")
                .requiredText(
                        "name",
                        "The new agent's name: lower case letters, digits and dashes, starting with a letter (at most"
                                + " 32).")
                .requiredText("agents_md", "Its instructions and persona: the whole text of its AGENTS.md.")
                .optionalText("description", "One line saying what it is for, shown to the person who approves.")
                .build();
        return new HostTool(
                "create_agent",
                "Asks the host to create a new agent with its own sandbox, workspace and instructions. Needs your"
                        + " policy's create_agents capability and a person's approval, who sees the name and the whole"
                        + " text. The new agent starts with the default policy, not yours.",
                create,
                List.of("name", "agents_md", "description"),
                host);
    }

    static List<Tool> tasks(Host host) {
        InputSchema schedule = InputSchema.builder("schedule_task")
                .requiredText("prompt", "What you will be told at each run, as if a person wrote it to you.")
                .optionalText("cron", "Five cron fields, minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5.")
                .optionalText("every", "An interval: 30m, 2h, 1d (at least 1m).")
                .optionalText("at", "Once, at a date-time such as 2030-01-02T09:00 (in zone) or 2030-01-02T08:00:00Z.")
                .optionalText("zone", "IANA time zone of cron and at, e.g. Europe/Paris; default UTC.")
                .optionalChoice("catch_up", List.of("once", "skip", "all"), "Runs missed while the host was down.")
                .optionalChoice(
                        "session",
                        List.of("isolated", "origin"),
                        "isolated (default): runs in the task's own conversation; origin: in this one.")
                .build();
        InputSchema list = InputSchema.builder("list_tasks").build();
        InputSchema cancel = InputSchema.builder("cancel_task")
                .requiredText("id", "The task's number, as list_tasks shows it.")
                .build();
        return List.of(
                new HostTool(
                        "schedule_task",
                        "Schedules a prompt for yourself: once (at), every interval, or by cron in a time zone. At each"
                                + " run you get the prompt as a message and your reply goes to this chat. Give exactly"
                                + " one of cron, every, at.",
                        schedule,
                        List.of("prompt", "cron", "every", "at", "zone", "catch_up", "session"),
                        host),
                new HostTool("list_tasks", "Lists your scheduled tasks with their next run.", list, List.of(), host),
                new HostTool(
                        "cancel_task", "Cancels one of your scheduled tasks for good.", cancel, List.of("id"), host));
    }
}
