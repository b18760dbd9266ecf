package dev.parley.signaling.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real Firebase Auth emulator (npm firebase-tools, installed by scripts/test into src/test/emulator), started on a
 * free loopback port by the test and stopped by it, with helpers for its REST API.
 */
public final class FirebaseEmulator implements AutoCloseable {

    public static final String PROJECT = "demo-parley";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final int port;
    private final Path workDir;
    private Process process;

    private FirebaseEmulator(int port, Path workDir) {
        this.port = port;
        this.workDir = workDir;
    }

    public static FirebaseEmulator start() throws Exception {
        Path cli = Path.of("src/test/emulator/node_modules/firebase-tools/lib/bin/firebase.js").toAbsolutePath();
        if (!Files.isRegularFile(cli)) {
            throw new IllegalStateException("the Firebase emulator is not installed: run "
                    + "'npm ci --prefix signaling/src/test/emulator' (scripts/test does)");
        }
        Path dir = Files.createTempDirectory("parley-firebase");
        int port = RedisServer.freePort();
        Files.writeString(dir.resolve("firebase.json"), "{\"emulators\":{\"auth\":{\"host\":\"127.0.0.1\",\"port\":"
                + port + "},\"ui\":{\"enabled\":false},\"hub\":{\"host\":\"127.0.0.1\",\"port\":"
                + RedisServer.freePort() + "},\"logging\":{\"host\":\"127.0.0.1\",\"port\":"
                + RedisServer.freePort() + "}}}");
        FirebaseEmulator emulator = new FirebaseEmulator(port, dir);
        emulator.launch(cli);
        return emulator;
    }

    private void launch(Path cli) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("node", cli.toString(), "emulators:start", "--only", "auth",
                "--project", PROJECT).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(workDir.resolve("emulator.log").toFile());
        builder.environment().put("FIREBASE_CLI_DISABLE_UPDATE_CHECK", "true");
        builder.environment().put("CI", "true");
        builder.environment().put("NO_UPDATE_NOTIFIER", "1");
        builder.environment().put("HOME", workDir.toString());
        process = builder.start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the Firebase emulator exited:\n" + Files.readString(workDir.resolve("emulator.log")));
            }
            if (answers()) {
                return;
            }
            Thread.sleep(200);
        }
        close();
        throw new IOException("the Firebase emulator did not start within 60 s:\n"
                + Files.readString(workDir.resolve("emulator.log")));
    }

    private boolean answers() {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return get("/emulator/v1/projects/" + PROJECT + "/config").statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    /** host:port, the value of FIREBASE_AUTH_EMULATOR_HOST. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** Creates an email/password user and returns the sign-up answer (idToken, localId, ...). */
    public JsonNode signUp(String email, String password, String displayName) throws Exception {
        JsonNode created = post("/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key",
                Map.of("email", email, "password", password, "returnSecureToken", true), false);
        if (displayName != null) {
            adminUpdate(created.get("localId").asText(), Map.of("displayName", displayName));
        }
        return created;
    }

    public String signIn(String email, String password) throws Exception {
        return post("/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake-api-key",
                Map.of("email", email, "password", password, "returnSecureToken", true), false).get("idToken").asText();
    }

    /** Admin update of a user (as the Admin SDK would do it), e.g. disableUser or validSince. */
    public void adminUpdate(String localId, Map<String, Object> changes) throws Exception {
        Map<String, Object> body = new java.util.HashMap<>(changes);
        body.put("localId", localId);
        post("/identitytoolkit.googleapis.com/v1/projects/" + PROJECT + "/accounts:update", body, true);
    }

    /** Deletes a user, as the Admin SDK would. */
    public void adminDelete(String localId) throws Exception {
        post("/identitytoolkit.googleapis.com/v1/projects/" + PROJECT + "/accounts:delete", Map.of("localId", localId),
                true);
    }

    /** An emulator-style (unsigned) ID token with the given claims, for tokens the emulator will not mint. */
    public static String unsignedToken(Map<String, Object> claims) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims)) + ".";
    }

    /** A REST call as a browser would make it, or as the Admin SDK ({@code admin}: the emulator's owner token). */
    private JsonNode post(String path, Object body, boolean admin) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + host() + path))
                .header("Content-Type", "application/json");
        if (admin) {
            request.header("Authorization", "Bearer owner");
        }
        HttpResponse<String> response = HTTP.send(request
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("emulator " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host() + path)).timeout(Duration.ofSeconds(5))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Stops the emulator (node itself, by its PID). */
    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
