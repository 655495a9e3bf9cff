package dev.cordon.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A named pipe that sandboxed programs write one byte to, and the moment ({@link System#nanoTime})
 * each byte arrived. The host holds the pipe open for reading <em>and</em> writing for its whole
 * life, so a writer's {@code open} never blocks and no byte is lost between runs; one platform
 * thread sits in {@code read} and stamps every byte as it comes.
 *
 * <p>Not thread-safe: one measuring thread calls {@link #clear} and {@link #await}.
 */
final class Fifo implements AutoCloseable {
    private final Path path;
    private final RandomAccessFile file;
    private final BlockingQueue<Long> arrivals = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile boolean closing;

    private Fifo(Path path) throws IOException {
        this.path = path;
        // O_RDWR on a FIFO (Linux): never blocks, and the pipe never reports end-of-file.
        this.file = new RandomAccessFile(path.toFile(), "rw");
        this.reader = Thread.ofPlatform().daemon().name("fifo-reader").start(this::read);
    }

    /**
     * Makes a FIFO at {@code path} that any uid may write to (its directory must be traversable).
     *
     * @throws IOException if {@code mkfifo} is missing or fails
     */
    static Fifo create(Path path) throws IOException, InterruptedException {
        Files.deleteIfExists(path);
        Processes.run(List.of("mkfifo", "-m", "0666", path.toString()));
        return new Fifo(path);
    }

    Path path() {
        return path;
    }

    private void read() {
        try {
            while (!closing) {
                int b = file.read();
                long now = System.nanoTime();
                if (b < 0 || closing) {
                    return;
                }
                arrivals.add(now);
            }
        } catch (IOException e) {
            if (!closing) {
                System.out.println("fifo reader stopped: " + e);
            }
        }
    }

    /** Forgets bytes that arrived so far (a sandbox of a failed run may write late). */
    void clear() {
        arrivals.clear();
    }

    /**
     * The {@link System#nanoTime} at which the next byte arrived; blocks until one does. The stamp
     * is taken by the reader thread, so how long this call waits does not change it.
     *
     * @param writerDone completes when the writer has exited: then a byte that has not come is
     *     not coming
     * @throws IllegalStateException if none arrives within {@code timeout}, or the writer exited
     *     without writing
     */
    long await(Duration timeout, Future<?> writerDone) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean done = writerDone.isDone();
            Long at = arrivals.poll(done ? 200 : 50, TimeUnit.MILLISECONDS);
            if (at != null) {
                return at;
            }
            if (done) {
                throw new IllegalStateException("the writer exited without writing to " + path);
            }
        }
        throw new IllegalStateException("nothing was written to " + path + " within " + timeout);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        closing = true;
        // Wake the reader: closing the file under a blocked read() does not.
        file.write('x');
        reader.join(5_000);
        file.close();
        Files.deleteIfExists(path);
    }
}
