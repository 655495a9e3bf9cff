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

    @Test
    void everyResourceLimitIsReportedWithWhetherThisHostEnforcesIt() {
        List<Check> checks = HostDoctor.run();

        assertThat(checks).extracting(Check::name).contains("limit: memory", "limit: pids", "limit: cpu", "seccomp");
        assertThat(checks)
                .filteredOn(c -> c.name().startsWith("limit: "))
                .allSatisfy(c -> assertThat(c.status() == Status.OK ? c.fix() : c.fix())
                        .as(c.name() + ": " + c.detail())
                        .satisfiesAnyOf(
                                fix -> assertThat(c.status()).isEqualTo(Status.OK),
                                fix -> assertThat(fix).contains("sandbox.unenforced_limits")));
    }

    /** CI installs QEMU and a kernel: the check boots one and says which accelerator it got. */
    @Test
    void theMicroVmCheckBootsAKernelAndSaysWhetherKvmOrEmulationRunsIt() {
        Check vm = HostDoctor.run().stream()
                .filter(c -> c.name().equals("vm"))
                .findFirst()
                .orElseThrow();

        assertThat(vm.status()).as(vm.detail()).isEqualTo(Status.OK);
        assertThat(vm.detail())
                .contains("backend vm usable; kernel ")
                .containsAnyOf("microvm on KVM", "emulated (TCG, q35)");
    }
}
