package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Ids.SessionId;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The host side of a sandbox's network connections (invariant 5): each connection a program in the
 * sandbox makes to its local proxy port arrives here as a {@link Connection}, relayed over the
 * sandbox's one channel. The gateway judges it against the agent's egress policy and serves it.
 */
@FunctionalInterface
public interface EgressGateway {

    /** Serves one connection from {@code agent}'s sandbox to its end, then closes it. Blocks. */
    void serve(Agent agent, SessionId session, Connection connection);

    /** A bidirectional byte stream: a relayed connection from a sandbox, or a socket in tests. */
    interface Connection extends Closeable {
        InputStream in() throws IOException;

        OutputStream out() throws IOException;

        /** Ends what this side sends while still reading (a half close). */
        void shutdownOutput() throws IOException;

        static Connection of(Socket socket) {
            return new Connection() {
                @Override
                public InputStream in() throws IOException {
                    return socket.getInputStream();
                }

                @Override
                public OutputStream out() throws IOException {
                    return socket.getOutputStream();
                }

                @Override
                public void shutdownOutput() throws IOException {
                    socket.shutdownOutput();
                }

                @Override
                public void close() throws IOException {
                    socket.close();
                }
            };
        }
    }
}
