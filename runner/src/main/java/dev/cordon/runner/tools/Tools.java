package dev.cordon.runner.tools;

import java.util.List;

/** The runner's built-in tools. */
public final class Tools {
    private Tools() {}

    /**
     * Creates {@code bash}, {@code read}, {@code write}, {@code edit}, {@code glob}, {@code grep} and
     * {@code remember} over one workspace. The tools hold no per-call state; {@code write} and {@code edit} share a
     * lock per file so that parallel edits of one file do not lose each other's changes.
     */
    public static List<Tool> builtins(ToolConfig config) {
        Workspace workspace = new Workspace(config.workspace());
        FileLocks locks = new FileLocks();
        int limit = config.outputLimitChars();
        return List.of(
                new BashTool(config),
                new ReadTool(workspace, limit),
                new WriteTool(workspace, locks),
                new EditTool(workspace, locks),
                new GlobTool(workspace, limit),
                new GrepTool(workspace, limit),
                new RememberTool(new Memory(config.workspace(), locks)));
    }

    /**
     * {@code web_fetch} through the sandbox's egress proxy on this loopback {@code port}; its text
     * is cut at {@code limit} characters unless the model asks for less.
     */
    public static Tool webFetch(int port, int limit) {
        return new WebFetchTool(
                java.net.ProxySelector.of(
                        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port)),
                limit);
    }

    /**
     * {@code schedule_task}, {@code list_tasks} and {@code cancel_task}: host tools, each call asked of
     * {@code host}, which checks and acts (docs/tasks.md).
     */
    public static List<Tool> tasks(
            java.util.function.BiFunction<String, java.util.Map<String, String>, ToolOutput> host) {
        return HostTool.tasks(host::apply);
    }

    /**
     * {@code send_message}: a host tool; the host sends only to this chat or a destination the
     * agent's policy names (docs/agents.md).
     */
    public static Tool sendMessage(
            java.util.function.BiFunction<String, java.util.Map<String, String>, ToolOutput> host) {
        return HostTool.sendMessage(host::apply);
    }

    /**
     * {@code send_file}: a host tool; the host reads the workspace file itself and sends it only to
     * this chat or a destination the agent's policy names (docs/agents.md).
     */
    public static Tool sendFile(java.util.function.BiFunction<String, java.util.Map<String, String>, ToolOutput> host) {
        return HostTool.sendFile(host::apply);
    }

    /** {@code ask_user}: a host tool; the host asks the person in the chat and waits (docs/agents.md). */
    public static Tool askUser(java.util.function.BiFunction<String, java.util.Map<String, String>, ToolOutput> host) {
        return HostTool.askUser(host::apply);
    }

    /**
     * {@code create_agent}: a host tool; the host checks the capability and asks a person first
     * (docs/agents.md).
     */
    public static Tool createAgent(
            java.util.function.BiFunction<String, java.util.Map<String, String>, ToolOutput> host) {
        return HostTool.createAgent(host::apply);
    }

    /** The {@code skill} tool when there are skills, else nothing. */
    public static List<Tool> forSkills(Skills skills) {
        return skills.all().isEmpty() ? List.of() : List.of(new SkillTool(skills));
    }

    /**
     * Where {@code glob} starts searching for {@code pattern}, relative to its {@code path}: the
     * pattern's leading segments without glob syntax ({@code /etc/*} gives {@code /etc}, {@code
     * src/**}{@code /*.java} gives {@code src}, {@code *.txt} gives ""). Tool rules match this.
     */
    public static String globBase(String pattern) {
        return Globs.split(pattern).literalPrefix();
    }
}
