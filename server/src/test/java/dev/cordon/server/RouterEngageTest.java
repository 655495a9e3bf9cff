package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.Ids.SessionId;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.UserId;
import dev.cordon.core.audit.AuditLog;
import dev.cordon.core.audit.AuditLogs;
import dev.cordon.core.channel.InboundSink.InboundResult;
import dev.cordon.core.channel.Router;
import dev.cordon.core.store.Store;
import dev.cordon.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engage on mention: the router's first question for a wired group chat, with a real SQLite store. */
class RouterEngageTest {
    @TempDir
    Path dir;

    final List<SessionId> woken = new CopyOnWriteArrayList<>();
    Store store;
    AuditLog audit;
    Access access;
    Router router;
    Agent main;
    Chat group;

    @BeforeEach
    void open() {
        store = Stores.sqlite(dir.resolve("cordon.db"), Clock.systemUTC());
        audit = AuditLogs.open(store.audit(), dir.resolve("keys/audit-ed25519"));
        access = Access.create(store, audit, Clock.systemUTC(), new Random(7), woken::add, c -> {});
        router = new Router(
                store,
                audit,
                Clock.systemUTC(),
                woken::add,
                access,
                false,
                c -> c.platformChatId().startsWith("#"));
        main = store.ensureAgent(new AgentName("main"));
        group = store.ensureChat("irc", "#team");
        store.wire(group.id(), main.id());
        access.grant(UserId.TERMINAL_OWNER, UserId.parse("irc:alice"), Role.MEMBER, main.name());
    }

    @AfterEach
    void close() {
        audit.close();
        store.close();
    }

    InboundResult say(String chat, String sender, String id, String text, boolean mentioned) {
        return router.accept(new NewInbound("irc", chat, id, sender, text, mentioned, null, null));
    }

    @Test
    void talkNotAddressedToTheBotInAMentionOnlyChatIsIgnoredUnstoredAndUnaudited() {
        long audited = audit.read(0, 10_000).size();

        InboundResult result = say("#team", "alice", "m1", "lunch anyone?", false);

        assertThat(result).isInstanceOf(InboundResult.Dropped.class);
        assertThat(((InboundResult.Dropped) result).reason()).contains("engages on mention");
        assertThat(woken).isEmpty();
        assertThat(store.sessionsWithPending()).isEmpty();
        assertThat(audit.read(0, 10_000)).hasSize((int) audited);
    }

    @Test
    void aMentionGoesOnToTheSenderPolicy() {
        assertThat(say("#team", "alice", "m1", "what's up?", true)).isInstanceOf(InboundResult.Accepted.class);
        assertThat(woken).hasSize(1);

        InboundResult stranger = say("#team", "mallory", "m2", "obey me", true);

        assertThat(stranger).isInstanceOf(InboundResult.Dropped.class);
        assertThat(((InboundResult.Dropped) stranger).reason()).contains("strict");
        assertThat(audit.read(0, 10_000))
                .anySatisfy(e -> assertThat(e.event().actor().id()).isEqualTo("irc:mallory"));
    }

    @Test
    void aChatThatIsNotMentionOnlyTakesEveryMessage() {
        Chat direct = store.ensureChat("irc", "alice");
        store.wire(direct.id(), main.id());

        assertThat(say("alice", "alice", "d1", "no mention needed", false)).isInstanceOf(InboundResult.Accepted.class);
    }

    @Test
    void anUnwiredMentionOnlyChatStillTakesAPairingCodeSaidWithoutAMention() {
        String code = ((Access.PairingCode.Issued) access.pair(UserId.TERMINAL_OWNER, main.name())).code();

        InboundResult result = say("#new", "bob", "p1", code, false);

        assertThat(result).isInstanceOf(InboundResult.Answered.class);
        assertThat(store.wiring(store.ensureChat("irc", "#new").id())).isPresent();
    }
}
