package dev.parley.signaling.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Registers benchmark users over the real REST API, a bounded number at a time so the gateway's hashing queue never
 * overflows, and hands back their tokens. One live session per user means one user per concurrent client.
 */
final class BenchUsers {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IN_FLIGHT = 16;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final URI registerUri;
    private final String prefix = "bench" + Long.toString(System.nanoTime() % 1_000_000, 36) + "-";
    private int registered;

    BenchUsers(int gatewayPort) {
        this.registerUri = URI.create("http://127.0.0.1:" + gatewayPort + "/api/auth/register");
    }

    /** Registers {@code count} new users within {@code timeout}; returns their session tokens in order. */
    List<String> register(int count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        List<CompletableFuture<String>> pending = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (!inFlight.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new TimeoutException("registering " + count + " users took longer than " + timeout);
            }
            String username = prefix + (registered++);
            String body = JSON.writeValueAsString(Map.of("username", username, "password", "correct horse battery",
                    "displayName", "Bench " + username));
            HttpRequest request = HttpRequest.newBuilder(registerUri).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            CompletableFuture<String> token = http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .thenApply(BenchUsers::tokenOf);
            token.whenComplete((t, e) -> inFlight.release());
            pending.add(token);
        }
        List<String> tokens = new ArrayList<>(count);
        for (CompletableFuture<String> token : pending) {
            try {
                tokens.add(token.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                throw new IllegalStateException("registering a user failed: " + e.getCause().getMessage(),
                        e.getCause());
            }
        }
        return tokens;
    }

    private static String tokenOf(HttpResponse<String> response) {
        if (response.statusCode() != 201) {
            throw new IllegalStateException("register answered " + response.statusCode() + ": " + response.body());
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            return body.path("token").asText();
        } catch (Exception e) {
            throw new IllegalStateException("register answered unreadable JSON: " + response.body(), e);
        }
    }

    static String helloJson(String token) {
        return JSON.createObjectNode().put("type", "hello").put("token", token).toString();
    }
}
