package dev.cordon.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
    @Test
    void portsAreBelowTheKernelsEphemeralRangeDistinctAndFreeToListenOn() throws Exception {
        int ephemeralStart = Ports.ephemeralStart();
        assertThat(ephemeralStart).as("ip_local_port_range read in full").isGreaterThan(20_000);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = Ports.free();
            assertThat(port).isBetween(10_000, ephemeralStart - 1);
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void aPortSomeoneListensOnIsSkipped() throws Exception {
        int port = Ports.free();
        // Hold the next candidates, as another process's servers would; none of them may come back.
        Set<ServerSocket> held = new HashSet<>();
        Set<Integer> taken = new HashSet<>();
        try {
            for (int p = port + 1; taken.size() < 5 && p < port + 50; p++) {
                try {
                    held.add(new ServerSocket(p, 1, InetAddress.getLoopbackAddress()));
                    taken.add(p);
                } catch (java.io.IOException busy) {
                    // already someone's: just as good for this test
                }
            }
            for (int i = 0; i < 10; i++) {
                assertThat(taken).doesNotContain(Ports.free());
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }
}
