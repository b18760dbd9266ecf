package dev.parley.signaling.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The PIDs of this JVM's child processes, written down so the calling script can stop them if this JVM dies first. */
public final class ChildPids {

    private ChildPids() {
    }

    /** Appends every child PID to the file named by {@code -Dbench.pidFile}; does nothing without that property. */
    public static void record() throws IOException {
        String file = System.getProperty("bench.pidFile");
        if (file == null) {
            return;
        }
        StringBuilder pids = new StringBuilder();
        ProcessHandle.current().children().forEach(child -> pids.append(child.pid()).append('\n'));
        Files.writeString(Path.of(file), pids, StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }
}
