package dev.cordon.sandbox.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The OCI form of the seccomp policy says what the BPF program says. That it holds inside a real
 * runc and gVisor sandbox is the escape suite's job (RuncEscapeTest, RunscEscapeTest).
 */
class OciProfileTest {
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules(String syscall) {
        List<Map<String, Object>> all =
                (List<Map<String, Object>>) OciProfile.of(Architecture.X86_64).get("syscalls");
        return all.stream()
                .filter(r -> ((List<String>) r.get("names")).contains(syscall))
                .toList();
    }

    @Test
    void everyDeniedCallIsInTheProfileWithItsErrnoAndEverythingElseIsAllowed() {
        Map<String, Object> profile = OciProfile.of(Architecture.X86_64);

        assertThat(profile.get("defaultAction")).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(profile.get("architectures")).isEqualTo(List.of("SCMP_ARCH_X86_64"));
        for (DeniedSyscall denied : Seccomp.deniedSyscalls()) {
            if (Architecture.X86_64.number(denied.name()).isEmpty()) {
                continue;
            }
            assertThat(rules(denied.name()))
                    .as(denied.name())
                    .isNotEmpty()
                    .allSatisfy(r -> assertThat(r.get("errnoRet"))
                            .isEqualTo(denied.errno().number()));
        }
        assertThat(rules("clone3").getFirst().get("errnoRet")).isEqualTo(38);
    }

    @Test
    void ioctlIsComparedOnTheLow32BitsSoHighBitsCannotSlipTiocstiPast() {
        assertThat(rules("ioctl"))
                .extracting(r -> r.get("args"))
                .containsExactlyInAnyOrder(
                        List.of(Map.of(
                                "index", 1, "value", 0xffff_ffffL, "valueTwo", 0x5412L, "op", "SCMP_CMP_MASKED_EQ")),
                        List.of(Map.of(
                                "index", 1, "value", 0xffff_ffffL, "valueTwo", 0x541CL, "op", "SCMP_CMP_MASKED_EQ")));
    }

    @Test
    void cloneIsDeniedForEachNamespaceFlagOnItsOwn() {
        List<Map<String, Object>> clone = rules("clone");

        assertThat(clone).hasSize(Integer.bitCount(DefaultPolicy.CLONE_NAMESPACE_FLAGS));
        assertThat(clone)
                .extracting(r -> r.get("args"))
                .contains(List.of(
                        Map.of("index", 0, "value", 0x10000000L, "valueTwo", 0x10000000L, "op", "SCMP_CMP_MASKED_EQ")));
    }

    @Test
    void personalityIsDeniedForAnyUnsafeBitButNotForTheQuery() {
        List<Map<String, Object>> personality = rules("personality");

        // 32 bits minus PER_LINUX32 (bit 3) and UNAME26 (bit 17), each unless the argument is the query.
        assertThat(personality).hasSize(30);
        assertThat(personality)
                .allSatisfy(r -> assertThat(r.get("args").toString())
                        .contains(Map.of("index", 0, "value", 0xffff_ffffL, "op", "SCMP_CMP_NE")
                                .toString()));
    }
}
