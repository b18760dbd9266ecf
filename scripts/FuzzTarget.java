import java.io.PrintWriter;
import java.lang.reflect.Method;

import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs one Jazzer {@code @FuzzTest} (scripts/fuzz: {@code java -cp <test classpath> scripts/FuzzTarget.java
 * pkg.Class#method}) without a Maven run per target. JAZZER_FUZZ and the jazzer.* system properties decide what
 * Jazzer does, as under Surefire. Exits 0 only when the method ran and nothing failed.
 */
public class FuzzTarget {
    public static void main(String[] args) throws Exception {
        String[] target = args[0].split("#", 2);
        Class<?> testClass = Class.forName(target[0]);
        Method method = null;
        for (Method candidate : testClass.getDeclaredMethods()) {
            if (candidate.getName().equals(target[1])) {
                method = candidate;
            }
        }
        if (method == null) {
            System.err.println("no method " + target[1] + " in " + target[0]);
            System.exit(2);
        }
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectMethod(testClass, method)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter err = new PrintWriter(System.err, true);
        summary.printFailuresTo(err, 30);
        summary.printTo(err);
        System.exit(summary.getTestsStartedCount() > 0 && summary.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
