package dev.parley.signaling.http;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The web client's files, read once at start into memory: from the jar's {@code web/} folder, or from a folder on
 * disk during web development (restart the gateway to serve a new build). Requests are answered from that index
 * alone, so nothing is read from disk on the event loop and a missing path costs nothing but a lookup. Paths without
 * an extension are the single-page app's routes and get index.html.
 */
public final class StaticFiles {

    /** A file to send. */
    public record StaticFile(byte[] bytes, String contentType, boolean immutable) {
    }

    /** The most files, and bytes over all of them, the index holds; a bigger folder stops the start. */
    static final int MAX_FILES = 5_000;
    static final long MAX_TOTAL_BYTES = 128L * 1024 * 1024;

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

    private final Map<String, StaticFile> files;

    private StaticFiles(Map<String, StaticFile> files) {
        this.files = Map.copyOf(files);
    }

    /**
     * Reads every file to serve.
     *
     * @param directory a folder to serve from, or null for the jar's bundled client (none bundled: nothing served)
     */
    public static StaticFiles load(Path directory) throws IOException {
        if (directory != null) {
            if (!Files.isDirectory(directory)) {
                throw new IOException("parley.http.static-dir " + directory + " is not a folder");
            }
            return new StaticFiles(index(directory.toAbsolutePath().normalize()));
        }
        URL bundled = StaticFiles.class.getClassLoader().getResource("web/index.html");
        if (bundled == null) {
            return new StaticFiles(Map.of());
        }
        URI folder;
        try {
            URI index = bundled.toURI();
            folder = URI.create(index.toString().substring(0, index.toString().length() - "index.html".length()));
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the bundled web client: " + e.getMessage(), e);
        }
        if (!folder.getScheme().equals("jar")) {
            return new StaticFiles(index(Path.of(folder)));
        }
        FileSystem jar;
        try {
            jar = FileSystems.newFileSystem(folder, Map.of());
        } catch (FileSystemAlreadyExistsException e) {
            return new StaticFiles(index(Path.of(folder)));
        }
        try (jar) {
            return new StaticFiles(index(jar.provider().getPath(folder)));
        }
    }

    /** Number of files indexed. */
    public int size() {
        return files.size();
    }

    public Optional<StaticFile> find(String path) {
        if (path.contains("..") || path.contains("\\") || path.contains("\0")) {
            return Optional.empty();
        }
        String relative = path.equals("/") ? "index.html" : path.substring(1);
        String name = relative.substring(relative.lastIndexOf('/') + 1);
        if (name.lastIndexOf('.') < 0) {
            relative = "index.html";
        }
        return Optional.ofNullable(files.get(relative));
    }

    private static Map<String, StaticFile> index(Path root) throws IOException {
        List<Path> regular;
        try (Stream<Path> walk = Files.walk(root)) {
            // Links are not followed: only what the folder itself holds is served.
            regular = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).limit(MAX_FILES + 1L)
                    .toList();
        }
        if (regular.size() > MAX_FILES) {
            throw new IOException("the web client folder " + root + " holds more than " + MAX_FILES + " files");
        }
        Map<String, StaticFile> files = new HashMap<>();
        long total = 0;
        for (Path file : regular) {
            String relative = root.relativize(file).toString().replace('\\', '/');
            byte[] bytes = Files.readAllBytes(file);
            total += bytes.length;
            if (total > MAX_TOTAL_BYTES) {
                throw new IOException("the web client folder " + root + " holds more than " + MAX_TOTAL_BYTES
                        + " bytes");
            }
            String name = relative.substring(relative.lastIndexOf('/') + 1);
            String extension = name.lastIndexOf('.') < 0 ? "" : name.substring(name.lastIndexOf('.') + 1);
            files.put(relative, new StaticFile(bytes, TYPES.getOrDefault(extension, "application/octet-stream"),
                    relative.startsWith("assets/")));
        }
        return files;
    }
}
