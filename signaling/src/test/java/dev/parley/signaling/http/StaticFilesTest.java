package dev.parley.signaling.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaticFilesTest {

    @Test
    void aFolderIsIndexedOnceAtStartAndServedFromMemory(@TempDir Path web) throws Exception {
        Files.writeString(web.resolve("index.html"), "<title>Parley</title>");
        Files.createDirectories(web.resolve("assets"));
        Files.writeString(web.resolve("assets/app.js"), "console.log(1)");
        StaticFiles files = StaticFiles.load(web);
        assertEquals(2, files.size());
        var script = files.find("/assets/app.js").orElseThrow();
        assertEquals("console.log(1)", new String(script.bytes(), StandardCharsets.UTF_8));
        assertEquals("text/javascript; charset=utf-8", script.contentType());
        assertTrue(script.immutable());
        assertFalse(files.find("/").orElseThrow().immutable());
        assertEquals("<title>Parley</title>", new String(files.find("/meetings/m1").orElseThrow().bytes(),
                StandardCharsets.UTF_8), "an app route gets index.html");

        // Not read again: a file that appears later, or changes, is not served until the next start.
        Files.writeString(web.resolve("assets/late.js"), "late");
        Files.writeString(web.resolve("assets/app.js"), "changed");
        assertTrue(files.find("/assets/late.js").isEmpty());
        assertEquals("console.log(1)", new String(files.find("/assets/app.js").orElseThrow().bytes(),
                StandardCharsets.UTF_8));
        assertTrue(files.find("/../secret.txt").isEmpty());
    }

    @Test
    void theBundledClientIsIndexedFromTheWebClientJar() throws Exception {
        StaticFiles files = StaticFiles.load(null);
        assertTrue(files.size() > 1, "index.html and the built assets");
        String index = new String(files.find("/").orElseThrow().bytes(), StandardCharsets.UTF_8);
        assertTrue(index.contains("id=\"root\""), index);
        assertTrue(files.find("/assets/nothing-here.js").isEmpty());
    }

    @Test
    void aMissingFolderStopsTheStartWithItsName(@TempDir Path web) {
        IOException error = assertThrows(IOException.class, () -> StaticFiles.load(web.resolve("nope")));
        assertTrue(error.getMessage().contains("parley.http.static-dir"), error.getMessage());
    }
}
