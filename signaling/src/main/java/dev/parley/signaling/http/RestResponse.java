package dev.parley.signaling.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** What a route answers: a status and a JSON body (null for none). */
public record RestResponse(HttpResponseStatus status, Object body) {

    public static RestResponse ok(Object body) {
        return new RestResponse(HttpResponseStatus.OK, body);
    }

    public static RestResponse created(Object body) {
        return new RestResponse(HttpResponseStatus.CREATED, body);
    }

    public static RestResponse noContent() {
        return new RestResponse(HttpResponseStatus.NO_CONTENT, null);
    }
}
