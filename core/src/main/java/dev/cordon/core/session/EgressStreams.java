package dev.cordon.core.session;

import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.StreamMux;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The host's end of a sandbox's relayed connections: frames to the runner, and the stream the gateway sees. */
final class EgressStreams {
    private EgressStreams() {}

    /** Sends a stream's frames to the runner; the link serializes concurrent senders. */
    record Wire(RunnerLink runner) implements StreamMux.Wire {
        @Override
        public void data(String id, byte[] bytes) throws IOException {
            runner.send(new HostMessage.StreamData(id, bytes));
        }

        @Override
        public void data(String id, byte[] bytes, int off, int len) throws IOException {
            runner.sendStreamData(id, bytes, off, len);
        }

        @Override
        public void end(String id, String error) throws IOException {
            runner.send(new HostMessage.StreamEnd(id, error));
        }

        @Override
        public void ack(String id, int bytes) throws IOException {
            runner.send(new HostMessage.StreamAck(id, bytes));
        }
    }

    /** One relayed connection as the egress gateway sees it. */
    record Connection(StreamMux.Channel channel) implements EgressGateway.Connection {
        @Override
        public InputStream in() {
            return channel.in();
        }

        @Override
        public OutputStream out() {
            return channel.out();
        }

        @Override
        public void shutdownOutput() throws IOException {
            channel.shutdownOutput();
        }

        @Override
        public void close() {
            channel.close();
        }
    }
}
