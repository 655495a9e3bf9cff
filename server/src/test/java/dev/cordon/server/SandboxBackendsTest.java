package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.sandbox.Isolation;
import dev.cordon.core.sandbox.Limit;
import dev.cordon.core.sandbox.Limits;
import dev.cordon.core.sandbox.Sandbox;
import dev.cordon.core.sandbox.SandboxBackend;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.core.sandbox.SandboxSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which backend a policy gets, and the refusal when the host has none that fits. */
class SandboxBackendsTest {
    static final AgentName AGENT = new AgentName("sales");

    record Named(String name, Isolation isolation) implements SandboxBackend {
        @Override
        public Set<Limit> enforceableLimits() {
            return EnumSet.allOf(Limit.class);
        }

        @Override
        public Sandbox start(SandboxSpec spec) {
            throw new UnsupportedOperationException("not started in this test");
        }
    }

    final List<String> built = new ArrayList<>();

    SandboxBackends host(String... usable) {
        return new SandboxBackends(
                new Named("bubblewrap", Isolation.CONTAINER),
                List.of(usable)::contains,
                name -> {
                    built.add(name);
                    return new Named(name, name.equals("runsc") ? Isolation.GVISOR : Isolation.CONTAINER);
                },
                null);
    }

    @Test
    void onAClusterEveryPolicyWithoutANamedBackendGetsAPodOfTheWallItRequires() {
        List<Isolation> asked = new ArrayList<>();
        SandboxBackends cluster = new SandboxBackends(
                new Named("bubblewrap", Isolation.CONTAINER),
                List.of("runsc")::contains,
                name -> {
                    built.add(name);
                    return new Named(name, Isolation.GVISOR);
                },
                wall -> {
                    asked.add(wall);
                    if (wall == Isolation.VM) {
                        throw new SandboxException("the kubernetes backend has no RuntimeClass for isolation vm");
                    }
                    return new Named("kubernetes", Isolation.GVISOR);
                });

        assertThat(cluster.forPolicy(AGENT, policy(null, null)).name()).isEqualTo("kubernetes");
        assertThat(cluster.forPolicy(AGENT, policy(null, Isolation.GVISOR)).name())
                .isEqualTo("kubernetes");
        assertThat(cluster.forPolicy(AGENT, policy("runsc", null)).name()).isEqualTo("runsc");
        assertThatThrownBy(() -> cluster.forPolicy(AGENT, policy(null, Isolation.VM)))
                .isInstanceOf(SandboxException.class)
                .hasMessage("agent sales: the kubernetes backend has no RuntimeClass for isolation vm");
        assertThat(asked).containsExactly(null, Isolation.GVISOR, Isolation.VM);
    }

    static AgentPolicy.Sandbox policy(String backend, Isolation isolation) {
        return new AgentPolicy.Sandbox(
                Limits.DEFAULTS,
                0,
                Duration.ofMinutes(5),
                List.of(),
                false,
                backend,
                isolation,
                Duration.ofMinutes(10),
                null);
    }

    @Test
    void withoutAWishTheDaemonsDefaultRuns() {
        assertThat(host("runc", "runsc").forPolicy(AGENT, policy(null, null)).name())
                .isEqualTo("bubblewrap");
        assertThat(host().forPolicy(AGENT, policy(null, Isolation.CONTAINER)).name())
                .isEqualTo("bubblewrap");
        assertThat(built).isEmpty();
    }

    @Test
    void aNamedBackendIsBuiltOnceAndKept() {
        SandboxBackends backends = host("runc");

        SandboxBackend first = backends.forPolicy(AGENT, policy("runc", null));
        SandboxBackend second = backends.forPolicy(AGENT, policy("runc", null));

        assertThat(first.name()).isEqualTo("runc");
        assertThat(second).isSameAs(first);
        assertThat(built).containsExactly("runc");
    }

    @Test
    void requiringGvisorPicksRunscWhereItIsUsable() {
        assertThat(host("runc", "runsc")
                        .forPolicy(AGENT, policy(null, Isolation.GVISOR))
                        .isolation())
                .isEqualTo(Isolation.GVISOR);
    }

    @Test
    void aNamedBackendThisHostCannotRunIsRefusedNamingTheFieldAndTheFix() {
        assertThatThrownBy(() -> host().forPolicy(AGENT, policy("runsc", null)))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining(
                        "agent sales must run in sandbox backend runsc (sandbox.backend in its policy.yaml)")
                .hasMessageContaining("apt-get install runsc");
    }

    @Test
    void aWallNoBackendGivesIsRefusedListingWhatTheHostHas() {
        assertThatThrownBy(() -> host("runc").forPolicy(AGENT, policy(null, Isolation.GVISOR)))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("agent sales requires isolation gvisor (sandbox.isolation in its policy.yaml)")
                .hasMessageContaining("usable here: bubblewrap (container), runc (container)")
                .hasMessageContaining("apt-get install runsc");
        assertThatThrownBy(() -> host("runc", "runsc").forPolicy(AGENT, policy(null, Isolation.VM)))
                .hasMessageContaining("requires isolation vm")
                .hasMessageContaining("usable here: bubblewrap (container), runc (container), runsc (gvisor)")
                .hasMessageContaining("apt-get install qemu-system-x86 linux-image-amd64 busybox-static socat");
    }

    @Test
    void anImageOnAHostWithoutPodmanIsRefusedNamingTheImageAndTheField() {
        assertThatThrownBy(() -> host("runc").forPolicy(AGENT, onImage("localhost/agent:1")))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("agent sales must run in podman on image localhost/agent:1 (sandbox.image")
                .hasMessageContaining("apt-get install podman");
    }

    /** Real podman (installed by CI, as for PodmanEscapeTest): nothing is pulled, the refusal says what to run. */
    @Test
    void anImageMissingFromPodmansStoreIsRefusedAndLookedForAgainNextTime() {
        String missing = "localhost/cordon-absent:" + ProcessHandle.current().pid();
        SandboxBackends backends = host("podman");
        for (int attempt = 0; attempt < 2; attempt++) {
            assertThatThrownBy(() -> backends.forPolicy(AGENT, onImage(missing)))
                    .isInstanceOf(SandboxException.class)
                    .hasMessageContaining("agent sales: image " + missing + " (sandbox.image)")
                    .hasMessageContaining("never pulls")
                    .hasMessageContaining("podman pull " + missing)
                    .hasMessageContaining("podman load");
        }
        assertThat(built).isEmpty();
    }

    static AgentPolicy.Sandbox onImage(String image) {
        return new AgentPolicy.Sandbox(
                Limits.DEFAULTS,
                0,
                Duration.ofMinutes(5),
                List.of(),
                false,
                "podman",
                null,
                Duration.ofMinutes(10),
                image);
    }
}
