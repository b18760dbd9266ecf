package dev.parley.signaling.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every chat.send of a chat benchmark run and what came back for it. A send is known by its sequence number, carried
 * as its clientMsgId ({@code b<seq>}); its send time is {@link System#nanoTime()} in this JVM, so a recipient's
 * arrival time minus it is the end-to-end latency. Written by the sending thread and every client event loop at once.
 */
final class ChatLedger {

    private static final String CLIENT_MSG_ID = "\"clientMsgId\":\"b";
    private static final long MAX_MICROS = 120_000_000L;

    private final AtomicLongArray sentNanos;
    private final AtomicIntegerArray senderOf;
    private final AtomicIntegerArray deliveries;
    private final AtomicIntegerArray acks;
    private final int recipientsPerMessage;
    private final Recorder deliveryMicros = new Recorder(MAX_MICROS, 3);
    private final Recorder ackMicros = new Recorder(MAX_MICROS, 3);
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder late = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final LongAccumulator lastDeliveryNanos = new LongAccumulator(Math::max, Long.MIN_VALUE);
    private volatile int stepFirst;
    private int next;

    ChatLedger(int capacity, int recipientsPerMessage) {
        this.sentNanos = new AtomicLongArray(capacity);
        this.senderOf = new AtomicIntegerArray(capacity);
        this.deliveries = new AtomicIntegerArray(capacity);
        this.acks = new AtomicIntegerArray(capacity);
        this.recipientsPerMessage = recipientsPerMessage;
    }

    int capacity() {
        return sentNanos.length();
    }

    int recipientsPerMessage() {
        return recipientsPerMessage;
    }

    /** Starts a step: arrivals for earlier sends no longer count, and the latency records start empty. */
    int beginStep() {
        stepFirst = next;
        deliveryMicros.getIntervalHistogram();
        ackMicros.getIntervalHistogram();
        return next;
    }

    /** The sequence number of the next send, its time recorded now; only the sending thread calls this. */
    int recordSend(int senderIndex) {
        int seq = next++;
        senderOf.set(seq, senderIndex);
        sentNanos.set(seq, System.nanoTime());
        return seq;
    }

    int sent() {
        return next;
    }

    /** A text frame that reached member {@code memberIndex} at {@code nanos}. */
    void onArrival(int memberIndex, String text, long nanos) {
        int seq = seqOf(text);
        if (seq < 0) {
            if (text.startsWith("{\"type\":\"error\"")) {
                errors.increment();
                firstError.compareAndSet(null, text);
            }
            return;
        }
        long micros = Math.max(0, Math.min(MAX_MICROS, (nanos - sentNanos.get(seq)) / 1000));
        if (text.startsWith("{\"type\":\"chat.ack\"")) {
            acks.incrementAndGet(seq);
            if (seq >= stepFirst) {
                ackMicros.recordValue(micros);
            }
        } else if (text.startsWith("{\"type\":\"chat.message\"") && senderOf.get(seq) != memberIndex) {
            if (deliveries.incrementAndGet(seq) > recipientsPerMessage) {
                duplicates.increment();
            }
            if (seq >= stepFirst) {
                deliveryMicros.recordValue(micros);
                lastDeliveryNanos.accumulate(nanos);
            } else {
                late.increment();
            }
        }
    }

    private static int seqOf(String text) {
        int at = text.indexOf(CLIENT_MSG_ID);
        if (at < 0) {
            return -1;
        }
        int seq = 0;
        for (int i = at + CLIENT_MSG_ID.length(); i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                return seq;
            }
            if (c < '0' || c > '9') {
                return -1;
            }
            seq = seq * 10 + (c - '0');
        }
        return -1;
    }

    /** Deliveries to other members so far for the sends in [from, to). */
    long deliveredBetween(int from, int to) {
        long sum = 0;
        for (int seq = from; seq < to; seq++) {
            sum += Math.min(deliveries.get(seq), recipientsPerMessage);
        }
        return sum;
    }

    /** Sends in [from, to) that have their chat.ack. */
    int ackedBetween(int from, int to) {
        int sum = 0;
        for (int seq = from; seq < to; seq++) {
            sum += acks.get(seq) > 0 ? 1 : 0;
        }
        return sum;
    }

    /** The latencies recorded since the step began (and empties the record). */
    Histogram takeDeliveryMicros() {
        return deliveryMicros.getIntervalHistogram();
    }

    Histogram takeAckMicros() {
        return ackMicros.getIntervalHistogram();
    }

    long lastDeliveryNanos() {
        return lastDeliveryNanos.get();
    }

    long duplicates() {
        return duplicates.sum();
    }

    long late() {
        return late.sum();
    }

    long errors() {
        return errors.sum();
    }

    String firstError() {
        return firstError.get();
    }
}
