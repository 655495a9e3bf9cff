package dev.cordon.core.channel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ids of the platform events an adapter handled lately (event ids, update ids, delivery ids),
 * so that a redelivery can be answered at once without reaching the sink again. Bounded: past
 * {@code capacity} the oldest is forgotten, and it is all forgotten on restart, so it is a shortcut
 * only; the host's dedup on (chat, message id), kept in the store, is what makes a redelivery
 * harmless. Thread-safe.
 *
 * @param <K> the kind of id
 */
public final class RecentIds<K> {
    private final Map<K, Boolean> ids;

    /** @param capacity how many ids are kept, newest last */
    public RecentIds(int capacity) {
        this.ids = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Whether {@code id} was {@link #add added} and not forgotten since. */
    public synchronized boolean contains(K id) {
        return ids.containsKey(id);
    }

    /** Remembers {@code id}, the oldest one going if there are more than the capacity. */
    public synchronized void add(K id) {
        ids.put(id, Boolean.TRUE);
    }
}
