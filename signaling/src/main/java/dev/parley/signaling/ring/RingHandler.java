package dev.parley.signaling.ring;

import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.MessageDispatcher;

/** Ringing on the WebSocket: each request is answered with the ring as it now stands (ring.state). */
public final class RingHandler implements Capability {

    private final RingService rings;

    public RingHandler(RingService rings) {
        this.rings = rings;
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.RingStart.class, (c, start, re) -> c.answerWith(re,
                        () -> rings.start(c.account(), start.userId(), start.media(), start.meetingId())))
                .on(ClientMessage.RingAccept.class, (c, accept, re) -> c.answerWith(re,
                        () -> rings.accept(c.userId(), accept.ringId())))
                .on(ClientMessage.RingDecline.class, (c, decline, re) -> c.answerWith(re,
                        () -> rings.decline(c.userId(), decline.ringId())))
                .on(ClientMessage.RingCancel.class, (c, cancel, re) -> c.answerWith(re,
                        () -> rings.cancel(c.userId(), cancel.ringId())));
    }
}
