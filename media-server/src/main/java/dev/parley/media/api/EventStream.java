package dev.parley.media.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/conferences/{c}/events?after=N&stream}: the conference's events after N as they happen, one JSON
 * object per line (the shape of the polled route's entries), so a gateway driving the conference from another machine
 * hears of them at once instead of polling. An empty line every {@link #KEEPALIVE_SECONDS} seconds tells the reader
 * the server lives: a reader that hears nothing for a few of them may treat the server as gone. The stream ends
 * (cleanly) when the conference closes. A reader too slow to take the events is cut off rather than buffered for;
 * it opens the stream again with the last sequence it has and loses nothing the server still keeps.
 *
 * <p>Order: the stream subscribes first and only then reads what the conference kept, so no event falls between
 * the two; live events that arrive before the kept ones are written wait, and each sequence is written once.
 * Everything is written on the connection's event loop.
 */
final class EventStream {

    static final String MEDIA_TYPE = "application/x-ndjson";
    static final int KEEPALIVE_SECONDS = 2;
    /** Live events waiting for the kept ones to be written: beyond this the reader is cut off. */
    private static final int MAX_WAITING = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(EventStream.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ChannelHandlerContext ctx;
    private final MediaApi api;
    private final String conference;
    private final List<TrackEvent> waiting = new ArrayList<>();
    private long written;
    private boolean replayed;
    private boolean ended;
    private volatile AutoCloseable subscription;
    private ScheduledFuture<?> keepalive;

    private EventStream(ChannelHandlerContext ctx, MediaApi api, String conference, long after) {
        this.ctx = ctx;
        this.api = api;
        this.conference = conference;
        this.written = after;
    }

    /** Starts the stream on this connection (called off the event loop, after the request was authorized). */
    static void open(ChannelHandlerContext ctx, MediaApi api, String conference, long after, String allowedOrigin) {
        EventStream stream = new EventStream(ctx, api, conference, after);
        ctx.executor().execute(() -> stream.writeHead(allowedOrigin));
        try {
            stream.subscription = api.onEvent(conference, event -> ctx.executor().execute(() -> stream.live(event)));
            List<TrackEvent> kept = api.events(conference, after);
            ctx.executor().execute(() -> stream.replay(kept));
        } catch (MediaException e) {
            // Closed between the check and now: the stream ends at once.
            ctx.executor().execute(stream::end);
        }
        ctx.channel().closeFuture().addListener(f -> stream.stop());
    }

    private void writeHead(String allowedOrigin) {
        if (ctx.pipeline().get(ReadTimeoutHandler.class) != null) {
            // The reader sends nothing while it listens; the keepalive writes show whether it is still there.
            ctx.pipeline().remove(ReadTimeoutHandler.class);
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, MEDIA_TYPE);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        head.headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        if (allowedOrigin != null) {
            head.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowedOrigin);
        }
        ctx.writeAndFlush(head);
        keepalive = ctx.executor().scheduleAtFixedRate(this::tick, KEEPALIVE_SECONDS, KEEPALIVE_SECONDS,
                TimeUnit.SECONDS);
    }

    private void replay(List<TrackEvent> kept) {
        for (TrackEvent event : kept) {
            write(event);
        }
        for (TrackEvent event : waiting) {
            write(event);
        }
        waiting.clear();
        replayed = true;
        ctx.flush();
    }

    private void live(TrackEvent event) {
        if (ended) {
            return;
        }
        if (!replayed) {
            if (waiting.size() >= MAX_WAITING) {
                cutOff("too many events before the kept ones were written");
                return;
            }
            waiting.add(event);
            return;
        }
        write(event);
        ctx.flush();
    }

    private void write(TrackEvent event) {
        if (ended || event.sequence() <= written) {
            return;
        }
        if (!ctx.channel().isWritable()) {
            cutOff("the reader does not keep up");
            return;
        }
        written = event.sequence();
        try {
            byte[] line = (JSON.writeValueAsString(HttpApiHandler.eventJson(event)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(line)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every few seconds: an empty line, or the end once the conference is gone. */
    private void tick() {
        if (ended) {
            return;
        }
        try {
            api.events(conference, Long.MAX_VALUE);
        } catch (MediaException e) {
            end();
            return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[]{'\n'})));
    }

    /** The conference closed: the stream ends cleanly and the connection closes. */
    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        stop();
    }

    private void cutOff(String why) {
        LOG.info("event stream of conference {} cut off: {}", conference, why);
        ended = true;
        ctx.close();
        stop();
    }

    private void stop() {
        if (keepalive != null) {
            keepalive.cancel(false);
        }
        AutoCloseable subscribed = subscription;
        subscription = null;
        if (subscribed != null) {
            try {
                subscribed.close();
            } catch (Exception e) {
                LOG.debug("closing an event subscription failed", e);
            }
        }
    }
}
