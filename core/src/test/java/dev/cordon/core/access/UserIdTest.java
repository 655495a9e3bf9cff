package dev.cordon.core.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserIdTest {
    @Test
    void parsesChannelAndEverythingAfterTheFirstColonAsThePlatformId() {
        assertThat(UserId.parse("slack:U123")).isEqualTo(new UserId("slack", "U123"));
        assertThat(UserId.parse("matrix:@ada:example.org")).isEqualTo(new UserId("matrix", "@ada:example.org"));
        assertThat(UserId.parse("matrix:@ada:example.org").toString()).isEqualTo("matrix:@ada:example.org");
        assertThat(UserId.TERMINAL_OWNER).hasToString("terminal:owner");
    }

    @ParameterizedTest
    @ValueSource(strings = {"U123", ":U123", "slack:", "Slack:U1", "sl ack:U1", "slack:U 1", "slack:U1\n"})
    void rejectsMalformedUsersSayingWhichAndHowToWriteThem(String text) {
        assertThatThrownBy(() -> UserId.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid user '");
    }

    @Test
    void rolesAndPoliciesParseTheirLabelsAndNameTheChoicesOtherwise() {
        assertThat(Role.ofLabel("admin")).isEqualTo(Role.ADMIN);
        assertThat(SenderPolicy.ofLabel("approval")).isEqualTo(SenderPolicy.APPROVAL);
        assertThatThrownBy(() -> Role.ofLabel("Admin"))
                .hasMessage("unknown role 'Admin': use one of [owner, admin, member]");
        assertThatThrownBy(() -> SenderPolicy.ofLabel("open"))
                .hasMessage("unknown sender policy 'open': use one of [strict, approval, public]");
    }

    @Test
    void onlyEightCharactersOfTheUnambiguousAlphabetLookLikeAPairingCode() {
        assertThat(AccessService.looksLikeCode("K7Q2MXRB")).isTrue();
        assertThat(AccessService.looksLikeCode("K7Q2MXR")).isFalse();
        assertThat(AccessService.looksLikeCode("K7Q2MXRB9")).isFalse();
        assertThat(AccessService.looksLikeCode("HELLO123")).isFalse();
        assertThat(AccessService.looksLikeCode("K7Q2-XRB")).isFalse();
    }
}
