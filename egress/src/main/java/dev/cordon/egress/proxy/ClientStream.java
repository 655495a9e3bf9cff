package dev.cordon.egress.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** One proxied connection from a sandbox: a socket today, a stream relayed over the sandbox's channel later. */
public interface ClientStream extends Closeable {
    InputStream in() throws IOException;

    OutputStream out() throws IOException;

    /** Signals end of data to the client while still reading from it (a tunnel's half close). */
    void shutdownOutput() throws IOException;

    static ClientStream of(Socket socket) {
        return new ClientStream() {
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
