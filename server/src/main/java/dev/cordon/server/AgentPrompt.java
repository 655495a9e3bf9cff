package dev.cordon.server;

import dev.cordon.core.AgentName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's part of an agent's system prompt: what Cordon tells every agent, then the home's shared
 * {@code AGENTS.md}, then the agent's own {@code agents/<name>/AGENTS.md} (both written by the
 * owner, outside every sandbox). The runner appends the agent's memory ({@code MEMORY.md} in its
 * workspace) inside the sandbox, so the host never reads a file the agent wrote. Composed at every
 * turn from the files alone, so the same files give the same bytes and the provider's prompt cache
 * holds across turns.
 */
final class AgentPrompt {
    private static final Logger LOG = LoggerFactory.getLogger(AgentPrompt.class);

    private AgentPrompt() {}

    static String compose(Home home, AgentName agent) {
        StringBuilder prompt = new StringBuilder()
                .append("You are ")
                .append(agent)
                .append(", an AI agent running inside a Cordon sandbox.\n")
                .append("Your workspace is /workspace: files you write there persist between conversations. ")
                .append("/tmp is private and temporary.\n")
                .append("Your memory is /workspace/MEMORY.md, shown at the end of this prompt in every")
                .append(" conversation: add to it with the remember tool, and edit it to correct or condense it.\n")
                .append("Network access goes only through the HTTP proxy already set in HTTP_PROXY/HTTPS_PROXY,")
                .append(" and only to hosts your policy allows; a refused request gets a 403 whose JSON body says")
                .append(" which rule refused it. Secrets appear as cordon-secret-NAME placeholders: send them")
                .append(" as they are, over http:// to the host they are bound to, and the proxy fills them in.\n")
                .append("Act with the tools you are given; answer the user concisely.\n");
        for (Path file :
                List.of(home.root().resolve("AGENTS.md"), home.agent(agent).resolve("AGENTS.md"))) {
            try {
                if (Files.isRegularFile(file)) {
                    prompt.append('\n').append(Files.readString(file).strip()).append('\n');
                }
            } catch (IOException e) {
                LOG.warn("could not read {}", file, e);
            }
        }
        return prompt.toString();
    }
}
