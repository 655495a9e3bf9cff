package dev.cordon.sandbox.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The real checks on the machine running the build, which has bubblewrap installed (see FACTS.md). */
class HostDoctorOnThisMachineTest {

    @Test
    void bubblewrapOnThisMachineIsInstalledAndStartsASandbox() {
        List<Check> checks = HostDoctor.run();
        String report = HostDoctor.render(checks);

        assertThat(checks)
                .as(report)
                .anySatisfy(c -> {
                    assertThat(c.name()).isEqualTo("bubblewrap");
                    assertThat(c.status()).isEqualTo(Status.OK);
                })
                .anySatisfy(c -> {
                    assertThat(c.name()).isEqualTo("bubblewrap sandbox");
                    assertThat(c.status()).isEqualTo(Status.OK);
                })
                .anySatisfy(c -> {
                    assertThat(c.name()).isEqualTo("java");
                    assertThat(c.status()).isEqualTo(Status.OK);
                });
        assertThat(report).startsWith("Cordon host check\n").contains("bubblewrap sandbox");
    }
}
