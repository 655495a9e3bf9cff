package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The host side of a runner's model call: checks it, adds the credential, streams the answer. */
@FunctionalInterface
public interface ModelGateway {
    /**
     * Forwards {@code request} for {@code agent}, whose calls may use what {@code allowed} says, and
     * streams the answer into {@code sink}: exactly one {@code head}, any chunks, exactly one {@code
     * end}. A refused call is answered in the provider's own error format, after {@link
     * ResponseSink#refused} has named the rule. Blocks until done; honours interruption between chunks.
     */
    void call(Agent agent, Allowed allowed, ModelRequest request, ResponseSink sink);

    /**
     * What an agent's model calls may use: one provider API and these model names.
     *
     * @param rule where the model list comes from, named when a call is refused ({@code policy.yaml
     *     models}, or the configured model)
     */
    record Allowed(ModelApi api, Set<String> models, String rule) {
        public Allowed {
            Objects.requireNonNull(api, "api");
            models = Set.copyOf(models);
            Objects.requireNonNull(rule, "rule");
        }
    }

    interface ResponseSink {
        void head(int status, Map<String, List<String>> headers);

        void chunk(byte[] data);

        void end(String error);

        /**
         * The gateway refused the call by {@code rule} (for {@code reason}) and did not forward it;
         * called before the refusal's head. For the audit log; the default ignores it.
         */
        default void refused(String rule, String reason) {}
    }
}
