package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.access.UserId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Login codes, browser sessions and API tokens on a clock the test moves. */
class WebAuthTest {
    static final UserId ALICE = UserId.parse("web:alice");

    @TempDir
    Path dir;

    final RouterAccessTest.FakeClock clock = new RouterAccessTest.FakeClock(Instant.parse("2030-01-02T03:04:05Z"));

    WebAuth auth() {
        return new WebAuth(dir.resolve("web-tokens"), clock, new SecureRandom());
    }

    @Test
    void aLoginCodeWorksOnceAndOnlyWithinItsLifetime() {
        WebAuth auth = auth();
        String code = auth.newLoginCode(ALICE);
        WebAuth.Login login = auth.redeem(code).orElseThrow();
        assertThat(login.caller().user()).isEqualTo(ALICE);
        assertThat(login.caller().csrf()).isNotBlank();
        assertThat(auth.redeem(code)).as("spent").isEmpty();

        String late = auth.newLoginCode(ALICE);
        clock.advance(WebAuth.LOGIN_CODE_LIFETIME.plusSeconds(1));
        assertThat(auth.redeem(late)).isEmpty();
        assertThat(auth.redeem("made-up")).isEmpty();
        assertThat(auth.redeem(null)).isEmpty();
    }

    @Test
    void aBrowserSessionEndsAtLogoutOrAfterItsLifetimeAndEachHasItsOwnCsrfToken() {
        WebAuth auth = auth();
        WebAuth.Login first = auth.redeem(auth.newLoginCode(ALICE)).orElseThrow();
        WebAuth.Login second = auth.redeem(auth.newLoginCode(ALICE)).orElseThrow();
        assertThat(first.caller().csrf()).isNotEqualTo(second.caller().csrf());
        assertThat(auth.session(first.sessionId())).contains(first.caller());

        auth.logout(first.sessionId());
        assertThat(auth.session(first.sessionId())).isEmpty();
        clock.advance(WebAuth.SESSION_LIFETIME.plus(Duration.ofSeconds(1)));
        assertThat(auth.session(second.sessionId())).isEmpty();
    }

    @Test
    void tokensAreStoredAsHashesOnlyOwnerReadableSurviveARestartAndANewOneReplacesTheOld() throws Exception {
        WebAuth auth = auth();
        String old = auth.newToken(ALICE);
        String current = auth.newToken(ALICE);
        Path file = dir.resolve("web-tokens");
        assertThat(Files.readString(file))
                .doesNotContain(old)
                .doesNotContain(current)
                .contains(WebAuth.sha256(current));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");

        WebAuth restarted = auth();
        assertThat(restarted.bearer(current).orElseThrow().user()).isEqualTo(ALICE);
        assertThat(restarted.bearer(current).orElseThrow().csrf()).isNull();
        assertThat(restarted.bearer(old)).as("replaced").isEmpty();
        assertThat(restarted.bearer("cordon_guess")).isEmpty();
        assertThat(restarted.hasToken(ALICE)).isTrue();
    }
}
