package dev.cordon.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Ids.AgentId;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.sandbox.disk.WorkspaceQuota;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's workspace mounts (real loop-mounted ext4 images) when it stops while sessions are
 * still starting: nothing may stay mounted after {@link Workspaces#close}.
 */
class WorkspacesTest {
    static final WorkspaceQuota QUOTA = WorkspaceQuota.detect();
    static final int UID = 200_091;

    @TempDir
    Path dir;

    Home home;
    Workspaces workspaces;

    @BeforeEach
    void setUp() {
        home = new Home(dir);
        workspaces = new Workspaces(home, QUOTA, false);
    }

    @AfterEach
    void unmountLeftovers() throws Exception {
        for (String mount : mountsUnder(dir)) {
            new ProcessBuilder("/usr/bin/umount", mount).inheritIO().start().waitFor();
        }
    }

    static Agent agent(int n) {
        return new Agent(new AgentId(n), new AgentName("agent" + n), Instant.EPOCH);
    }

    void prepare(Agent agent) throws IOException {
        Path workspace = Files.createDirectories(home.workspace(agent.name()));
        workspaces.prepare(agent, workspace, WorkspaceQuota.MIN_BYTES, UID);
    }

    static List<String> mountsUnder(Path dir) throws IOException {
        String root = dir.toRealPath().toString();
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4];
            if (point.startsWith(root)) {
                mounts.add(point);
            }
        }
        return mounts.reversed();
    }

    @Test
    void closeUnmountsWhatWasMountedAndAMountAfterItIsRefused() throws Exception {
        prepare(agent(1));
        assertThat(mountsUnder(dir)).hasSize(1);

        workspaces.close();

        assertThat(mountsUnder(dir)).isEmpty();
        assertThatThrownBy(() -> prepare(agent(2)))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("the daemon is stopping");
        assertThat(mountsUnder(dir)).isEmpty();
    }

    @Test
    void closeWaitsForMountsInProgressSoThatNoneIsLeftBehind() throws Exception {
        int n = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> starts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            for (int i = 0; i < n; i++) {
                Agent agent = agent(i);
                starts.add(pool.submit(() -> {
                    go.await();
                    try {
                        prepare(agent);
                    } catch (SandboxException stopping) {
                        // refused after close: as it should be
                    }
                    return null;
                }));
            }
            go.countDown();
            Thread.sleep(50); // some mounts are under way, some not begun: the daemon stops now
            workspaces.close();
            for (Future<?> f : starts) {
                f.get();
            }
        }
        assertThat(mountsUnder(dir))
                .as("workspaces still mounted after the daemon stopped")
                .isEmpty();
    }
}
