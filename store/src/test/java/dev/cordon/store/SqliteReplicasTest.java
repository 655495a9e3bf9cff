package dev.cordon.store;

import static org.assertj.core.api.Assertions.assertThatNoException;

import dev.cordon.core.store.Store;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** {@link ReplicasContract} on one SQLite file opened twice. */
class SqliteReplicasTest extends ReplicasContract {
    @Override
    protected Store open(Path dir, Clock clock, String name) {
        return Stores.sqlite(dir.resolve("cordon.db"), clock, name);
    }

    @Test
    void listeningIsANoOpOnSqlite() {
        assertThatNoException().isThrownBy(() -> a.replicas().listen(n -> {}).close());
    }
}
