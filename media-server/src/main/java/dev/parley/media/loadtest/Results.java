package dev.parley.media.loadtest;

import java.util.List;
import java.util.Map;

/** What a run produced: per-second samples and per-window summaries, for each phase (Parley, baseline). */
final class Results {
    private Results() {
    }

    /** One second of a phase. Rates are per second; CPU in percent of one core; NaN where unknown. */
    record Sample(double t, String stage, int window, double multiplier, double sentPps, double receivedPps,
                  double lossPercent, double latencyP50Ms, double latencyP99Ms, double serverCpuPercent,
                  double clientCpuPercent, double serverInPps, double serverOutPps, double serverDropsPerSecond,
                  double serverHeapMb, double serverGcPauseMs, double endpoints) {
    }

    /**
     * One measurement window. Every packet sent in it is accounted for: {@code expected} = sent × receivers of its
     * stream = {@code received} (unique) + {@code lost}.
     */
    record Window(int index, double multiplier, double seconds, int streams, long sent, long expected, long received,
                  long lost, double lossPercent, long duplicates, long reordered, long late, double offeredPps,
                  double sentPps, double receivedPps, double serverInPps, double serverOutPps, double jitterMs,
                  double latencyP50Ms, double latencyP90Ms, double latencyP99Ms, double latencyP999Ms,
                  double latencyMaxMs, double latencyMeanMs, double serverCpuPercent, double clientCpuPercent,
                  double serverCpuMicrosPerForwarded, double clientCpuMicrosPerPacket, Map<String, Long> serverDrops,
                  double serverGcPauseMs, double serverGcPauses, double serverHeapMaxMb, long senderSkipped,
                  long sendFailures, long hostUdpReceiveBufferErrors, Map<String, Long> clientDrops,
                  List<Layer> layers, double serverQueueP99Ms, double serverQueueWorstMs) {
    }

    /**
     * One simulcast layer in a window ({@code --simulcast}; none otherwise): its streams' packets, and who got
     * them. {@code expected} = sent × the receivers that asked for the layer; {@code toOtherReceivers} counts the
     * layer's packets that reached a receiver that asked for another layer (0 when each gets only its own).
     */
    record Layer(int layer, String rid, int width, int height, int streams, long sent, long expected, long received,
                 long lost, double lossPercent, double sentPps, long toOtherReceivers) {
    }

    /** One phase: the relay it measured, its windows and samples; for capacity runs, the last good window. */
    record Phase(String name, String target, List<Window> windows, List<Sample> samples, Integer lastGoodWindow,
                 boolean interrupted, String note) {
        Window window(int index) {
            for (Window w : windows) {
                if (w.index() == index) {
                    return w;
                }
            }
            return null;
        }
    }
}
