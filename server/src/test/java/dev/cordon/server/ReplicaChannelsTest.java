package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cordon.egress.vault.Vault;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.protocol.control.ControlRequest;
import dev.cordon.testkit.FakeTelegram;
import dev.cordon.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A replica on a real PostgreSQL holding the Telegram connection ({@link FakeTelegram} in place of
 * the Bot API): it stops the connection when another replica takes the lease or when it cannot renew
 * its leases, and takes the channel again, with a fresh connection, once the lease is free, without
 * a restart.
 */
class ReplicaChannelsTest extends DaemonTestBase {
    static final PostgresServer PG = PostgresServer.shared();
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String TOKEN = "987654321:AAE2e-test-token-for-the-daemon_01234";
    static final String LEASE = "channel:telegram";

    String url;
    FakeTelegram telegram;
    FakeTelegram.User alice;
    FakeTelegram.Chat dm;

    @BeforeEach
    void start() throws Exception {
        url = PG.createDatabase();
        telegram = FakeTelegram.start(TOKEN, "cordon_bot");
        Home h = new Home(home);
        Vault vault = Vault.open(h.vault(), h.vaultKey());
        vault.put("PG_PASSWORD", PG.password().getBytes(StandardCharsets.UTF_8), List.of());
        vault.put("TELEGRAM_BOT_TOKEN", TOKEN.getBytes(StandardCharsets.UTF_8), List.of());
        Files.writeString(home.resolve("cordon.yaml"), """
                store:
                  kind: postgres
                  url: %s
                  user: %s
                  password_secret: PG_PASSWORD
                channels:
                  telegram:
                    token_secret: TELEGRAM_BOT_TOKEN
                    api_url: %s
                    poll_seconds: 1
                """.formatted(url, PG.user(), telegram.url()));
        startDaemon();
        alice = telegram.user("alice");
        dm = telegram.privateChat(alice);
        await().atMost(WAIT).until(() -> daemon.channelsHere().contains("telegram"));
        String code = ((ControlEvent.PairingCode) ChannelTests.control(daemon, new ControlRequest.Pair("main"))).code();
        telegram.say(dm, alice, code);
        assertThat(telegram.nextSent(WAIT).text()).containsIgnoringCase("main");
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
        telegram.close();
        PG.dropDatabase(url);
    }

    Connection sql() throws Exception {
        return DriverManager.getConnection(url, PG.user(), PG.password());
    }

    @Test
    void aChannelLostToAnotherReplicaWhileAliveIsTakenAgainOnceItsLeaseIsFree() throws Exception {
        try (Connection c = sql();
                Statement s = c.createStatement()) {
            // What a replica does that took the lease after this one stalled past its expiry: a live
            // row of its own (expiring in 4 s: it then dies) and the channel's lease.
            long until = System.currentTimeMillis() + 4_000;
            s.execute("INSERT INTO replicas (id, started_at, heartbeat_at, expires_at) VALUES ('intruder', "
                    + System.currentTimeMillis() + ", " + System.currentTimeMillis() + ", " + until + ")");
            s.execute("UPDATE leases SET owner = 'intruder', expires_at = " + until + " WHERE name = '" + LEASE + "'");
        }

        await().atMost(WAIT)
                .alias("the connection stops here at the next heartbeat")
                .until(() -> !daemon.channelsHere().contains("telegram"));
        await().atMost(WAIT)
                .alias("the intruder dies, this replica takes it over and the channel again")
                .until(() -> daemon.channelsHere().contains("telegram"));

        telegram.say(dm, alice, "still there?");
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("You said: still there?");
        assertThat(leaseOwner()).isEqualTo(StoreChoice.replicaName(new Home(home)));
    }

    @Test
    void aReplicaThatCannotRenewItsLeasesStopsItsChannelBeforeTheyExpireAndResumesAfter() throws Exception {
        try (Connection blocker = sql()) {
            blocker.setAutoCommit(false);
            try (Statement s = blocker.createStatement()) {
                // The heartbeat's UPDATE waits behind this lock: to the replica, the database is away.
                s.execute("LOCK TABLE replicas IN ACCESS EXCLUSIVE MODE");
            }
            await().atMost(WAIT)
                    .alias("stopped while its leases still hold, so no other replica connects alongside")
                    .until(() -> !daemon.channelsHere().contains("telegram"));
            assertThat(leaseOwner())
                    .as("no one else took it meanwhile: the replica stopped on its own")
                    .isEqualTo(StoreChoice.replicaName(new Home(home)));
            blocker.rollback();
        }

        await().atMost(WAIT).until(() -> daemon.channelsHere().contains("telegram"));
        telegram.say(dm, alice, "back?");
        assertThat(telegram.nextSent(WAIT).text()).isEqualTo("You said: back?");
    }

    String leaseOwner() throws Exception {
        try (Connection c = sql();
                Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT owner FROM leases WHERE name = '" + LEASE + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
