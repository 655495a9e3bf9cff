package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.protocol.ModelSettings;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import java.util.List;
import java.util.Map;

/** The host side of a runner's model call: checks it, adds the credential, streams the answer. */
@FunctionalInterface
public interface ModelGateway {
    /**
     * Forwards {@code request} for {@code agent}, whose allowed model is {@code allowed}, and streams
     * the answer into {@code sink}: exactly one {@code head}, any chunks, exactly one {@code end}.
     * A refused call is answered in the provider's own error format. Blocks until done; honours
     * interruption between chunks.
     */
    void call(Agent agent, ModelSettings allowed, ModelRequest request, ResponseSink sink);

    interface ResponseSink {
        void head(int status, Map<String, List<String>> headers);

        void chunk(byte[] data);

        void end(String error);
    }
}
