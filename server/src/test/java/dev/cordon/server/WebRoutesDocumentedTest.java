package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The OpenAPI file and the routes the daemon registers agree, in both directions. */
class WebRoutesDocumentedTest extends DaemonTestBase {
    private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

    @Test
    void everyRegisteredRouteIsDocumentedAndEveryDocumentedRouteExists() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON);
        startDaemon();
        JsonNode spec;
        try (InputStream in = WebServer.class.getResourceAsStream("/web/openapi.yaml")) {
            spec = new YAMLMapper().readTree(in);
        }
        List<String> documented = new ArrayList<>();
        spec.get("paths")
                .properties()
                .forEach(path -> path.getValue().propertyNames().stream()
                        .filter(METHODS::contains)
                        .forEach(method -> documented.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey())));

        assertThat(daemon.webRoutes()).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(documented);
        assertThat(new WebClient(daemon.webUrl())
                        .send("GET", "/openapi.yaml", null)
                        .body())
                .startsWith("openapi: 3.1.0");
    }
}
