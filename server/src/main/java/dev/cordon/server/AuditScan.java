package dev.cordon.server;

import dev.cordon.core.audit.AuditEntry;
import dev.cordon.core.audit.AuditLog;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Reads the audit log newest first, for the dashboard's audit and egress pages. The log reads only
 * oldest first ({@link AuditLog#read}), so the newest seq is found with O(log n) one-entry reads and
 * the log is then read back from it a page at a time, stopping as soon as enough entries match.
 * Stateless; as thread-safe as the log.
 */
final class AuditScan {
    private static final int PAGE = 1_000;

    private AuditScan() {}

    /** The highest seq in the log, 0 if it is empty. */
    static long head(AuditLog audit) {
        if (!atOrAfter(audit, 1)) {
            return 0;
        }
        long known = 1;
        long beyond = 2;
        while (atOrAfter(audit, beyond)) {
            known = beyond;
            beyond *= 2;
        }
        while (beyond - known > 1) {
            long mid = (known + beyond) >>> 1;
            if (atOrAfter(audit, mid)) {
                known = mid;
            } else {
                beyond = mid;
            }
        }
        return known;
    }

    private static boolean atOrAfter(AuditLog audit, long seq) {
        return !audit.read(seq - 1, 1).isEmpty();
    }

    /**
     * Up to {@code limit} entries with a seq above {@code after} that {@code match}, newest first,
     * read back from {@code head}. A filter that matches nothing reads the whole range.
     */
    static List<AuditEntry> newest(AuditLog audit, long head, long after, Predicate<AuditEntry> match, int limit) {
        List<AuditEntry> found = new ArrayList<>();
        for (long end = head; end > after && found.size() < limit; end -= PAGE) {
            long from = Math.max(after, end - PAGE);
            List<AuditEntry> page = audit.read(from, PAGE);
            for (int i = page.size() - 1; i >= 0 && found.size() < limit; i--) {
                AuditEntry e = page.get(i);
                if (e.seq() <= end && match.test(e)) {
                    found.add(e);
                }
            }
        }
        return found;
    }
}
