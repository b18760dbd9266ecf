package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ApiException;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** One REST request as a route sees it: path parameters, query, bearer token, body and the client's address. */
public record RestRequest(String method, String path, Map<String, String> pathParams,
                          Map<String, List<String>> query, String bearerToken, byte[] body, String clientAddress,
                          ObjectMapper json) {

    /** The body as a JSON object; bad_request when it is missing or not an object. */
    public JsonNode jsonBody() {
        if (body.length == 0) {
            throw ApiException.badRequest("request body must be a JSON object");
        }
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (IOException e) {
            throw ApiException.badRequest("request body is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("request body must be a JSON object");
        }
        return node;
    }

    /** A string field of the body, or null when absent; bad_request naming the field when it is not a string. */
    public static String stringField(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.badRequest(field + " must be a string");
        }
        return node.textValue();
    }

    public String pathParam(String name) {
        return pathParams.get(name);
    }

    public String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /**
     * A whole-number query parameter from 1 to {@code max}, {@code fallback} when absent; bad_request naming it and
     * its range otherwise.
     */
    public int intParam(String name, int fallback, int max) {
        String value = queryParam(name);
        if (value == null) {
            return fallback;
        }
        try {
            int number = Integer.parseInt(value);
            if (number >= 1 && number <= max) {
                return number;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw ApiException.badRequest(name + " must be a whole number from 1 to " + max);
    }
}
