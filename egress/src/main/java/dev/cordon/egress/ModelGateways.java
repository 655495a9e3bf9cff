package dev.cordon.egress;

import dev.cordon.core.session.ModelGateway;
import dev.cordon.protocol.ModelApi;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** Builds the host's model gateway. */
public final class ModelGateways {
    private ModelGateways() {}

    /** A gateway with one provider per API; {@code apiKey} may be empty for keyless local servers. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Map<ModelApi, HostModelGateway.Provider> providers = new EnumMap<>(ModelApi.class);

        public Builder provider(ModelApi api, URI baseUrl, String apiKey) {
            providers.put(api, new HostModelGateway.Provider(api, baseUrl, apiKey));
            return this;
        }

        public ModelGateway build() {
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            return new HostModelGateway(providers, http);
        }
    }
}
