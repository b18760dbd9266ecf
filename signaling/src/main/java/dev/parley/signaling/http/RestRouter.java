package dev.parley.signaling.http;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** The REST routes: a method and a path template such as {@code /api/meetings/{id}} mapped to a handler. */
public final class RestRouter {

    /** Handles one route; may throw an ApiException directly or complete exceptionally with one. */
    @FunctionalInterface
    public interface Handler {
        CompletionStage<RestResponse> handle(RestRequest request);
    }

    /** A matched route with the path parameters it captured. */
    public record Match(Handler handler, Map<String, String> params) {
    }

    private record Route(String method, String[] segments, Handler handler) {
    }

    private final List<Route> routes = new ArrayList<>();

    public RestRouter add(String method, String template, Handler handler) {
        routes.add(new Route(method, template.substring(1).split("/"), handler));
        return this;
    }

    /** The route for this request; not_found or method_not_allowed when there is none. */
    public Match match(String method, String path) {
        String[] parts = path.length() <= 1 ? new String[]{""} : path.substring(1).split("/", -1);
        boolean pathKnown = false;
        for (Route route : routes) {
            Optional<Map<String, String>> params = bind(route.segments(), parts);
            if (params.isPresent()) {
                pathKnown = true;
                if (route.method().equals(method)) {
                    return new Match(route.handler(), params.get());
                }
            }
        }
        if (pathKnown) {
            throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, method + " is not allowed on " + path);
        }
        throw new ApiException(ErrorCode.NOT_FOUND, "No such API route: " + path);
    }

    private static Optional<Map<String, String>> bind(String[] template, String[] parts) {
        if (template.length != parts.length) {
            return Optional.empty();
        }
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < template.length; i++) {
            String segment = template[i];
            if (segment.startsWith("{") && segment.endsWith("}")) {
                if (parts[i].isEmpty()) {
                    return Optional.empty();
                }
                params.put(segment.substring(1, segment.length() - 1), parts[i]);
            } else if (!segment.equals(parts[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(params);
    }
}
