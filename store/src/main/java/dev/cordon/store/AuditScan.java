package dev.cordon.store;

import dev.cordon.core.audit.AuditStorage.Visitor;
import dev.cordon.core.store.StoreException;
import dev.cordon.store.JdbcAuditStorage.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A two-stage pipeline for {@link JdbcAuditStorage#scan}: the caller's thread reads rows from
 * SQLite (about half the work of a verify, most of it in sqlite-jdbc's per-column calls) while one
 * worker thread turns them into entries and hands them to the visitor (the other half: checking,
 * parsing, hashing). On two free cores a million-entry verify takes about 40% less time. At most
 * {@link #DEPTH} batches wait in between, so memory stays flat however long the log.
 *
 * <p>The visitor is called on the worker thread, one row at a time, in seq order. Used by one
 * reader thread; {@link #close()} always stops the worker.
 */
final class AuditScan implements AutoCloseable {
    private static final int BATCH = 512;
    private static final int DEPTH = 8;
    private static final List<Row> END = List.of();

    /** What the worker does with a row: map it and visit it; false stops the scan. */
    interface Step {
        boolean visit(Row row, Visitor visitor);
    }

    private final BlockingQueue<List<Row>> queue = new ArrayBlockingQueue<>(DEPTH);
    private final Visitor visitor;
    private final Step step;
    private final Thread worker;
    private List<Row> batch = new ArrayList<>(BATCH);
    private volatile boolean stopped;
    private volatile Throwable failure;

    private AuditScan(Visitor visitor, Step step) {
        this.visitor = visitor;
        this.step = step;
        this.worker = Thread.ofPlatform().name("cordon-audit-scan").daemon(true).unstarted(this::work);
    }

    static AuditScan start(Visitor visitor, Step step) {
        AuditScan scan = new AuditScan(visitor, step);
        scan.worker.start();
        return scan;
    }

    /** True once the visitor asked to stop or failed: read no further. */
    boolean stopped() {
        return stopped;
    }

    void add(Row row) {
        batch.add(row);
        if (batch.size() == BATCH) {
            hand(batch);
            batch = new ArrayList<>(BATCH);
        }
    }

    /** Hands over the last rows and waits until the visitor has seen them all. */
    void finish() {
        if (!batch.isEmpty()) {
            hand(batch);
            batch = new ArrayList<>(0);
        }
        hand(END);
        join();
        Throwable failed = failure;
        if (failed instanceof RuntimeException e) {
            throw e;
        }
        if (failed instanceof Error e) {
            throw e;
        }
    }

    private void hand(List<Row> rows) {
        try {
            // Timed, so a worker that stopped (and no longer takes) cannot leave the reader blocked.
            while (!stopped && !queue.offer(rows, 50, TimeUnit.MILLISECONDS)) {
                // the worker is busy: wait for room
            }
        } catch (InterruptedException e) {
            stopped = true;
            Thread.currentThread().interrupt();
            throw new StoreException("audit scan interrupted", e);
        }
    }

    private void work() {
        try {
            while (true) {
                List<Row> rows = queue.take();
                if (rows == END) {
                    return;
                }
                for (Row row : rows) {
                    if (!step.visit(row, visitor)) {
                        stopped = true;
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            stopped = true; // close() gave up on the scan
        } catch (RuntimeException | Error e) {
            failure = e;
            stopped = true;
        }
    }

    private void join() {
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the worker if {@link #finish()} did not run (the reader failed), and waits for it. */
    @Override
    public void close() {
        if (worker.isAlive()) {
            stopped = true;
            worker.interrupt();
            join();
        }
    }
}
