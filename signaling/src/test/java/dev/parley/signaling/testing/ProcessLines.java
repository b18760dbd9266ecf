package dev.parley.signaling.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** A child process's output, read line by line on a daemon thread and kept whole for failure messages. */
final class ProcessLines {

    private ProcessLines() {
    }

    /** Hands each line to {@code onLine}, then runs {@code onEnd} once the output ends (the process exited). */
    static StringBuffer follow(Process process, String name, Consumer<String> onLine, Runnable onEnd) {
        StringBuffer output = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                    onLine.accept(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
            onEnd.run();
        }, name + "-output");
        reader.setDaemon(true);
        reader.start();
        return output;
    }
}
