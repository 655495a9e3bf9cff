package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage.ModelRequest;
import dev.cordon.protocol.Usage;
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
     *
     * <p>Spending goes through {@code meter}: once the call is allowed, the gateway {@linkplain
     * Meter#reserve reserves} the most it could cost and forwards it only if the meter agrees; after
     * a reserved call it {@linkplain Meter#settle settles} with what the provider reported.
     */
    void call(Agent agent, Allowed allowed, ModelRequest request, Meter meter, ResponseSink sink);

    /** Counts one call against the agent's budgets (core/budget). Not thread-safe: one per call. */
    interface Meter {
        /** A meter that allows everything and keeps no record. */
        Meter NONE = new Meter() {
            @Override
            public Refusal reserve(String model, long maxInputTokens, long maxOutputTokens) {
                return null;
            }

            @Override
            public void settle(Usage reported) {}
        };

        /**
         * Before forwarding: holds what a call to {@code model} could use at most. Called at most once.
         *
         * @return null to go ahead, or why the call is refused (nothing is held then)
         */
        Refusal reserve(String model, long maxInputTokens, long maxOutputTokens);

        /**
         * After a reserved call, exactly once: the tokens the provider reported, {@link Usage#ZERO}
         * for an answer the provider does not bill (an error status), or null when the answer broke
         * off before its usage (then what was reserved is charged).
         */
        void settle(Usage reported);
    }

    /** Why a meter refused a call: the budget rule, and words for the user and the owner. */
    record Refusal(String rule, String message) {
        public Refusal {
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(message, "message");
        }
    }

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
