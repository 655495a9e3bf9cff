package dev.cordon.runner;

import dev.cordon.protocol.HostMessage;
import dev.cordon.protocol.ModelApi;
import dev.cordon.protocol.RunnerMessage;
import dev.cordon.runner.model.HttpTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Model HTTP over the host channel: a POST becomes a {@code model_request}; the host's gateway
 * answers with head, chunks and end, which this class turns back into a streaming response. The
 * runner never sees a base URL or key. Thread-safe; {@link #dispatch} is called by the reader thread.
 */
final class ChannelTransport {
    private final HostConnection host;
    private final Map<String, Call> calls = new ConcurrentHashMap<>();

    ChannelTransport(HostConnection host) {
        this.host = host;
    }

    /** The transport for one provider API. */
    HttpTransport forApi(ModelApi api) {
        return (path, headers, body) -> post(api, path, headers, body);
    }

    private HttpTransport.Response post(ModelApi api, String path, Map<String, String> headers, byte[] body)
            throws IOException {
        String callId = UUID.randomUUID().toString();
        Call call = new Call(callId);
        calls.put(callId, call);
        host.send(new RunnerMessage.ModelRequest(callId, api, path, headers, body));
        HostMessage first = call.take();
        if (first instanceof HostMessage.ModelResponseHead head) {
            return new HttpTransport.Response(head.status(), head.headers(), call);
        }
        calls.remove(callId);
        throw new IOException("model gateway ended call " + callId + " before a response head: "
                + (first instanceof HostMessage.ModelResponseEnd end ? end.error() : first));
    }

    /** Routes a model_* message from the host to its waiting call; unknown call ids are ignored. */
    void dispatch(HostMessage message) {
        String callId = switch (message) {
            case HostMessage.ModelResponseHead h -> h.callId();
            case HostMessage.ModelResponseChunk c -> c.callId();
            case HostMessage.ModelResponseEnd e -> e.callId();
            case HostMessage.StartTurn s -> throw new IllegalArgumentException("not a model message");
            case HostMessage.Shutdown s -> throw new IllegalArgumentException("not a model message");
            case HostMessage.ApprovalDecision d -> throw new IllegalArgumentException("not a model message");
            case HostMessage.HostToolResult r -> throw new IllegalArgumentException("not a model message");
            case HostMessage.PutFile f -> throw new IllegalArgumentException("not a model message");
            case HostMessage.StreamData d -> throw new IllegalArgumentException("not a model message");
            case HostMessage.StreamEnd d -> throw new IllegalArgumentException("not a model message");
            case HostMessage.StreamAck d -> throw new IllegalArgumentException("not a model message");
        };
        Call call = calls.get(callId);
        if (call != null) {
            call.events.add(message);
        }
    }

    /** Fails every open call: the host is gone. */
    void failAll() {
        calls.values().forEach(c -> c.events.add(new HostMessage.ModelResponseEnd(c.callId, "host connection closed")));
    }

    private final class Call extends InputStream {
        final String callId;
        final BlockingQueue<HostMessage> events = new LinkedBlockingQueue<>();
        byte[] current = new byte[0];
        int position;
        /** No more of the call will be read: its end arrived, or it was closed (from any thread). */
        volatile boolean ended;

        Call(String callId) {
            this.callId = callId;
        }

        HostMessage take() throws IOException {
            try {
                return events.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("model call " + callId + " interrupted");
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (position >= current.length) {
                if (ended) {
                    return -1;
                }
                switch (take()) {
                    case HostMessage.ModelResponseChunk chunk -> {
                        current = chunk.data();
                        position = 0;
                    }
                    case HostMessage.ModelResponseEnd end -> {
                        ended = true;
                        calls.remove(callId);
                        if (end.error() != null) {
                            throw new IOException(end.error());
                        }
                        return -1;
                    }
                    default -> throw new IOException("unexpected message in model call " + callId);
                }
            }
            int n = Math.min(len, current.length - position);
            System.arraycopy(current, position, b, off, n);
            position += n;
            return n;
        }

        /**
         * Cancels the call at the host if its end has not arrived, and wakes a read blocked on it:
         * the idle guard closes a call from its own thread while the reader waits, and the host
         * sends nothing more for a call cancelled, not even its end.
         */
        @Override
        public synchronized void close() {
            if (!ended) {
                ended = true;
                calls.remove(callId);
                events.add(new HostMessage.ModelResponseEnd(callId, "model call " + callId + " was closed"));
                host.send(new RunnerMessage.ModelCancel(callId));
            }
        }
    }
}
