package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cordon pair} and {@code cordon users|chats|senders} through a real daemon's control
 * socket, speaking the real frames. No model and no sandbox are needed: nothing here reaches an agent.
 */
class AccessControlTest {
    @TempDir
    Path home;

    Daemon daemon;
    ControlClient client;

    @BeforeEach
    void start() throws Exception {
        daemon = Daemon.start(home, Map.of(), EndToEndTest.RUNNER_LIB);
        client = new ControlClient(daemon.controlSocket());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    <T extends ControlEvent> T ask(ControlRequest request, Class<T> answer) throws Exception {
        client.send(request);
        ControlEvent event = client.await(ControlEvent.class, e -> true, Duration.ofSeconds(30));
        assertThat(event).isInstanceOf(answer);
        return answer.cast(event);
    }

    @Test
    void pairPrintsAOneTimeCodeThatIsStoredOnlyAsAHash() throws Exception {
        ControlEvent.PairingCode code = ask(new ControlRequest.Pair("main"), ControlEvent.PairingCode.class);

        assertThat(code.agent()).isEqualTo("main");
        assertThat(code.code()).matches("[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}");
        long minutes = Duration.ofMillis(code.expiresAtMillis() - System.currentTimeMillis())
                .toMinutes();
        assertThat(minutes).isBetween(8L, 10L);
        assertThat(daemon.audit().read(0, 1000))
                .map(AuditEntry::event)
                .filteredOn(e -> e.action().equals("pairing.create"))
                .singleElement()
                .satisfies(e -> assertThat(e.actor().id()).isEqualTo("terminal:owner"));
        daemon.close();
        daemon = null;
        // Not in the database, its WAL, or the audit log: only its SHA-256 is kept.
        try (Stream<Path> files = Files.walk(home)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1))
                        .as(file.toString())
                        .doesNotContain(code.code());
            }
        }
    }

    @Test
    void pairForAnAgentThatDoesNotExistFailsNamingTheAgents() throws Exception {
        ControlEvent.Failure failure = ask(new ControlRequest.Pair("ghost"), ControlEvent.Failure.class);

        assertThat(failure.message()).isEqualTo("there is no agent named 'ghost'; agents: [main]");
    }

    @Test
    void usersGrantIsAuditedAndListedAndBadInputSaysWhatIsWrong() throws Exception {
        ControlEvent.Done done =
                ask(new ControlRequest.UsersGrant("slack:U123", "admin", "main"), ControlEvent.Done.class);

        assertThat(done.message()).isEqualTo("granted admin on agent main to slack:U123");
        ControlEvent.UserList users = ask(new ControlRequest.UsersList(), ControlEvent.UserList.class);
        assertThat(users.users())
                .extracting(ControlEvent.UserRow::user, ControlEvent.UserRow::role, ControlEvent.UserRow::agent)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("terminal:owner", "owner", null),
                        org.assertj.core.groups.Tuple.tuple("slack:U123", "admin", "main"));
        assertThat(daemon.audit().read(0, 1000))
                .map(AuditEntry::event)
                .filteredOn(e -> e.action().equals("role.grant"))
                .singleElement()
                .satisfies(e -> assertThat(e.details()).containsEntry("user", "slack:U123"));

        assertThat(ask(new ControlRequest.UsersGrant("slack:U123", "boss", null), ControlEvent.Failure.class)
                        .message())
                .isEqualTo("unknown role 'boss': use one of [owner, admin, member]");
        assertThat(ask(new ControlRequest.UsersGrant("U123", "member", null), ControlEvent.Failure.class)
                        .message())
                .startsWith("invalid user 'U123'");
        assertThat(ask(new ControlRequest.UsersRevoke("terminal:owner", "owner", null), ControlEvent.Failure.class)
                        .message())
                .contains("cannot be revoked");
    }

    @Test
    void chatsListShowsTheTerminalChatAndPolicyChangesAreApplied() throws Exception {
        client.send(new ControlRequest.Attach("main", false));
        client.await(ControlEvent.Attached.class);

        ControlEvent.Done done =
                ask(new ControlRequest.ChatsPolicy("terminal:main", "approval"), ControlEvent.Done.class);

        assertThat(done.message()).isEqualTo("chat terminal:main: sender policy strict -> approval");
        assertThat(ask(new ControlRequest.ChatsList(), ControlEvent.ChatList.class)
                        .chats())
                .containsExactly(new ControlEvent.ChatRow("terminal:main", "main", "approval"));
        assertThat(ask(new ControlRequest.ChatsPolicy("terminal:main", "open"), ControlEvent.Failure.class)
                        .message())
                .startsWith("unknown sender policy 'open'");
        assertThat(ask(new ControlRequest.SendersList(), ControlEvent.SenderList.class)
                        .senders())
                .isEmpty();
        assertThat(ask(new ControlRequest.SendersAdmit(7), ControlEvent.Failure.class)
                        .message())
                .isEqualTo("there is no sender request 7; cordon senders list shows them");
    }
}
