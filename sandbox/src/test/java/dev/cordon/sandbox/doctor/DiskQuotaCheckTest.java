package dev.cordon.sandbox.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.sandbox.doctor.HostDoctor.Check;
import dev.cordon.sandbox.doctor.HostDoctor.Status;
import org.junit.jupiter.api.Test;

/** The doctor's disk quota line on the machine running the build: root with loop devices (FACTS.md). */
class DiskQuotaCheckTest {

    @Test
    void thisHostReportsHardWorkspaceQuotas() {
        Check disk = HostDoctor.run().stream()
                .filter(c -> c.name().equals("limit: disk"))
                .findFirst()
                .orElseThrow();

        assertThat(disk.status()).as(disk.detail()).isEqualTo(Status.OK);
        assertThat(disk.detail()).startsWith("hard: each workspace can be a loop-mounted ext4 image");
    }
}
