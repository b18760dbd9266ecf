package dev.parley.media.srtp;

import java.util.Arrays;

/**
 * A map from SSRC to a value, read without locks or boxing (the per-packet lookup), written rarely under a lock
 * by replacing its arrays.
 */
public final class SsrcTable<V> {
    private static final class Snapshot {
        final long[] keys;
        final Object[] values;

        Snapshot(long[] keys, Object[] values) {
            this.keys = keys;
            this.values = values;
        }
    }

    private volatile Snapshot snapshot = new Snapshot(new long[0], new Object[0]);

    @SuppressWarnings("unchecked")
    public V get(long ssrc) {
        Snapshot s = snapshot;
        long[] keys = s.keys;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] == ssrc) {
                return (V) s.values[i];
            }
        }
        return null;
    }

    public synchronized void put(long ssrc, V value) {
        Snapshot s = snapshot;
        for (int i = 0; i < s.keys.length; i++) {
            if (s.keys[i] == ssrc) {
                Object[] values = s.values.clone();
                values[i] = value;
                snapshot = new Snapshot(s.keys, values);
                return;
            }
        }
        long[] keys = Arrays.copyOf(s.keys, s.keys.length + 1);
        Object[] values = Arrays.copyOf(s.values, s.values.length + 1);
        keys[keys.length - 1] = ssrc;
        values[values.length - 1] = value;
        snapshot = new Snapshot(keys, values);
    }

    /** Removes the entry; the table keeps its size small because SSRCs come and go rarely. */
    public synchronized void remove(long ssrc) {
        Snapshot s = snapshot;
        for (int i = 0; i < s.keys.length; i++) {
            if (s.keys[i] == ssrc) {
                long[] keys = new long[s.keys.length - 1];
                Object[] values = new Object[s.values.length - 1];
                System.arraycopy(s.keys, 0, keys, 0, i);
                System.arraycopy(s.keys, i + 1, keys, i, keys.length - i);
                System.arraycopy(s.values, 0, values, 0, i);
                System.arraycopy(s.values, i + 1, values, i, values.length - i);
                snapshot = new Snapshot(keys, values);
                return;
            }
        }
    }

    public int size() {
        return snapshot.keys.length;
    }
}
