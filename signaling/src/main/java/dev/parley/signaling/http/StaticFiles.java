package dev.parley.signaling.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web client's files: from the jar's {@code web/} folder, or from a folder on disk during web development.
 * Paths without an extension are the single-page app's routes and get index.html.
 */
public final class StaticFiles {

    /** A file to send. */
    public record StaticFile(byte[] bytes, String contentType, boolean immutable) {
    }

    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("map", "application/json"));

    private final Path directory;
    private final Map<String, Optional<byte[]>> cache = new ConcurrentHashMap<>();

    /** @param directory a folder to serve from, or null for the jar's bundled client */
    public StaticFiles(Path directory) {
        this.directory = directory;
    }

    public Optional<StaticFile> find(String path) {
        if (path.contains("..") || path.contains("\\") || path.contains("\0")) {
            return Optional.empty();
        }
        String relative = path.equals("/") ? "index.html" : path.substring(1);
        String name = relative.substring(relative.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            relative = "index.html";
            name = relative;
            dot = name.lastIndexOf('.');
        }
        String extension = name.substring(dot + 1);
        Optional<byte[]> bytes = directory == null
                ? cache.computeIfAbsent(relative, StaticFiles::readBundled)
                : readFromDirectory(relative);
        boolean immutable = relative.startsWith("assets/");
        String type = TYPES.getOrDefault(extension, "application/octet-stream");
        return bytes.map(b -> new StaticFile(b, type, immutable));
    }

    private static Optional<byte[]> readBundled(String relative) {
        try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream("web/" + relative)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Optional<byte[]> readFromDirectory(String relative) {
        Path file = directory.resolve(relative).normalize();
        if (!file.startsWith(directory) || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
