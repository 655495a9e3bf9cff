package dev.cordon.protocol;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Byte streams multiplexed over the sandbox's one channel (invariant 2): each side of a proxied TCP
 * connection is a {@link Channel} with an {@link InputStream} and an {@link OutputStream}. Both
 * ends run one of these; the frames they exchange are data, end and ack messages carrying the
 * stream's id.
 *
 * <p>Flow control: a sender may have at most {@link #WINDOW} bytes of a stream unacknowledged; the
 * receiver acknowledges bytes as its reader consumes them. So the thread that reads the channel
 * only ever queues (never blocks on a slow consumer), one stalled stream holds up no other, and a
 * peer that sends past the window is refused: that stream is aborted, nothing else.
 *
 * <p>Thread-safe. {@link #data}, {@link #end} and {@link #ack} never block; they are meant for the
 * channel's reading thread. Channel streams block (run them on virtual threads).
 */
public final class StreamMux {
    /** Unacknowledged bytes a sender may have in flight per stream. */
    public static final int WINDOW = 2 * 1024 * 1024;

    /**
     * A reader acknowledges consumed bytes in batches of at least this many, or as soon as it has
     * read everything queued (so a sender waiting on the window is never left waiting on bytes
     * already read): one ack frame per quarter window instead of one per read.
     */
    static final int ACK_BATCH = WINDOW / 4;

    /**
     * The largest data frame a sender writes. 256 KiB rather than 64 KiB: a download through the
     * relay costs per frame (a wake-up of the reading thread, system calls, an allocation), and in the
     * benchmark it went about 10-50 % faster with a quarter of the frames. A frame holds the channel
     * for about 0.1 ms, so other streams' frames wait at most that long behind it.
     */
    public static final int CHUNK = 256 * 1024;

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,32}");

    /** How frames reach the peer. Implementations must be safe to call from several threads. */
    public interface Wire {
        void data(String id, byte[] bytes) throws IOException;

        /**
         * {@code len} bytes of {@code bytes} from {@code off}. The array is the writer's and is
         * reused once this returns: a wire that sends synchronously passes it on as it is (saving
         * a copy of every byte); this default copies it for one that does not.
         */
        default void data(String id, byte[] bytes, int off, int len) throws IOException {
            data(id, java.util.Arrays.copyOfRange(bytes, off, off + len));
        }

        /** The sender's side is done: {@code error} null for a clean end of data, else why it was aborted. */
        void end(String id, String error) throws IOException;

        void ack(String id, int bytes) throws IOException;
    }

    private final Wire wire;
    private final int maxStreams;
    private final Map<String, Channel> streams = new ConcurrentHashMap<>();

    public StreamMux(Wire wire, int maxStreams) {
        this.wire = Objects.requireNonNull(wire, "wire");
        this.maxStreams = maxStreams;
    }

    /**
     * Opens stream {@code id} on this side.
     *
     * @throws ProtocolException if the id is malformed or in use, or {@code maxStreams} are open
     */
    public Channel open(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new ProtocolException("stream id must be 1-32 letters, digits or dashes");
        }
        if (streams.size() >= maxStreams) {
            throw new ProtocolException("more than " + maxStreams + " streams open at once");
        }
        Channel channel = new Channel(id);
        if (streams.putIfAbsent(id, channel) != null) {
            throw new ProtocolException("stream " + id + " is already open");
        }
        return channel;
    }

    /** Data from the peer. Unknown streams (closed here meanwhile) are ignored. */
    public void data(String id, byte[] bytes) {
        Channel c = streams.get(id);
        if (c != null) {
            c.received(bytes);
        }
    }

    /** The peer finished sending ({@code error == null}) or aborted the stream. */
    public void end(String id, String error) {
        Channel c = streams.get(id);
        if (c != null) {
            c.peerEnded(error);
        }
    }

    /** The peer consumed {@code bytes} of what this side sent. */
    public void ack(String id, int bytes) {
        Channel c = streams.get(id);
        if (c != null) {
            c.acked(bytes);
        }
    }

    /**
     * Copies {@code in} to {@code out} until end of stream, in pieces of up to {@link #CHUNK} bytes:
     * {@code InputStream.transferTo}'s 16 KiB pieces would make up to sixteen times the frames, each
     * with its own system calls and wake-ups. Flushes after each piece. Returns the bytes copied.
     */
    public static long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
            out.flush();
            total += n;
        }
        return total;
    }

    /** Aborts every stream (the channel is going away); their readers and writers fail with {@code reason}. */
    public void closeAll(String reason) {
        for (Channel c : streams.values()) {
            c.abort(reason);
        }
    }

    public int open() {
        return streams.size();
    }

    /** One multiplexed stream. Its input and output may be used by two threads at once. */
    public final class Channel implements Closeable {
        private final String id;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final ArrayDeque<byte[]> incoming = new ArrayDeque<>();
        private int offset;
        private int queued;
        private int unacked;
        private int inFlight;
        private boolean peerDone;
        private boolean sentEnd;
        /** Why reading fails (after what is queued), or null. */
        private String inFailure;
        /** Why writing fails, or null. */
        private String outFailure;

        private final InputStream in = new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                int n;
                int ack;
                lock.lock();
                try {
                    if (!awaitQueued()) {
                        return -1;
                    }
                    byte[] head = incoming.peekFirst();
                    n = Math.min(len, head.length - offset);
                    System.arraycopy(head, offset, b, off, n);
                    offset += n;
                    if (offset == head.length) {
                        incoming.removeFirst();
                        offset = 0;
                    }
                    ack = consumed(n);
                } finally {
                    lock.unlock();
                }
                if (ack > 0) {
                    wire.ack(id, ack);
                }
                return n;
            }

            /**
             * Writes each received frame to {@code out} as it is, without copying it into a buffer
             * of the caller's first: in the sandbox, where a download's bytes pass under a one-CPU
             * quota, that copy was one of the three each byte paid in the runner. Flushes after each
             * frame; returns at the peer's clean end, throws as {@link #read} does.
             */
            @Override
            public long transferTo(OutputStream out) throws IOException {
                Objects.requireNonNull(out, "out");
                long total = 0;
                while (true) {
                    byte[] head;
                    int from;
                    int ack;
                    lock.lock();
                    try {
                        if (!awaitQueued()) {
                            return total;
                        }
                        head = incoming.removeFirst();
                        from = offset;
                        offset = 0;
                        ack = consumed(head.length - from);
                    } finally {
                        lock.unlock();
                    }
                    if (ack > 0) {
                        wire.ack(id, ack);
                    }
                    out.write(head, from, head.length - from);
                    out.flush();
                    total += head.length - from;
                }
            }
        };

        /** Waits, holding {@link #lock}, for received bytes: false at the peer's clean end, IOException after an abort. */
        private boolean awaitQueued() throws IOException {
            while (incoming.isEmpty()) {
                if (inFailure != null) {
                    throw new IOException(inFailure);
                }
                if (peerDone) {
                    return false;
                }
                await();
            }
            return true;
        }

        /** Counts {@code n} bytes as read, holding {@link #lock}; returns how many to acknowledge now (0: not yet). */
        private int consumed(int n) {
            queued -= n;
            unacked += n;
            if (unacked < ACK_BATCH && !incoming.isEmpty()) {
                return 0;
            }
            int ack = unacked;
            unacked = 0;
            return ack;
        }

        private final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                while (len > 0) {
                    int n = Math.min(len, CHUNK);
                    lock.lock();
                    try {
                        while (true) {
                            if (outFailure != null) {
                                throw new IOException(outFailure);
                            }
                            if (sentEnd) {
                                throw new IOException("stream " + id + ": output already shut down");
                            }
                            if (inFlight + n <= WINDOW) {
                                break;
                            }
                            await();
                        }
                        inFlight += n;
                    } finally {
                        lock.unlock();
                    }
                    wire.data(id, b, off, n);
                    off += n;
                    len -= n;
                }
            }
        };

        Channel(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public InputStream in() {
            return in;
        }

        public OutputStream out() {
            return out;
        }

        /** Tells the peer this side sends nothing more; reading goes on. */
        public void shutdownOutput() throws IOException {
            lock.lock();
            try {
                if (sentEnd || outFailure != null) {
                    return;
                }
                sentEnd = true;
                forgetIfDone();
            } finally {
                lock.unlock();
            }
            wire.end(id, null);
        }

        /** Ends the stream both ways; if this side had not finished sending, the peer sees an abort. */
        @Override
        public void close() {
            abort("stream " + id + " was closed");
        }

        void received(byte[] bytes) {
            lock.lock();
            try {
                if (inFailure != null || peerDone) {
                    return;
                }
                if (queued + bytes.length <= WINDOW) {
                    incoming.addLast(bytes);
                    queued += bytes.length;
                    changed.signalAll();
                    return;
                }
            } finally {
                lock.unlock();
            }
            abort("stream " + id + ": the peer sent more than the " + WINDOW + "-byte window");
        }

        void peerEnded(String error) {
            lock.lock();
            try {
                if (error != null) {
                    String why = "stream " + id + " aborted by the peer: " + error;
                    // After a clean end of the peer's data, an abort only stops this side's writing.
                    if (!peerDone && inFailure == null) {
                        inFailure = why;
                    }
                    if (outFailure == null) {
                        outFailure = why;
                    }
                }
                peerDone = true;
                changed.signalAll();
                forgetIfDone();
            } finally {
                lock.unlock();
            }
        }

        void acked(int bytes) {
            String bogus;
            lock.lock();
            try {
                if (outFailure != null) {
                    return;
                }
                if (bytes > 0 && bytes <= inFlight) {
                    inFlight -= bytes;
                    changed.signalAll();
                    return;
                }
                bogus = "stream " + id + ": the peer acknowledged " + bytes + " bytes of " + inFlight + " sent";
            } finally {
                lock.unlock();
            }
            abort(bogus);
        }

        /**
         * Fails what is still open in either direction, tells the peer (unless both sides had
         * already finished cleanly), and forgets the stream.
         */
        void abort(String reason) {
            boolean tell;
            lock.lock();
            try {
                tell = !sentEnd || !peerDone;
                if (!peerDone && inFailure == null) {
                    inFailure = reason;
                }
                if (!sentEnd && outFailure == null) {
                    outFailure = reason;
                }
                sentEnd = true;
                peerDone = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            streams.remove(id, this);
            if (tell) {
                try {
                    wire.end(id, reason);
                } catch (IOException | RuntimeException e) {
                    // the channel is gone; the peer tears the stream down with it
                }
            }
        }

        /** Both sides finished: the id may be reused; a reader still drains what is queued. */
        private void forgetIfDone() {
            if (sentEnd && peerDone) {
                streams.remove(id, this);
            }
        }

        private void await() throws InterruptedIOException {
            try {
                changed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("stream " + id + " interrupted");
            }
        }
    }
}
