package dev.parley.signaling.chaos;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The short chaos run ({@link ChaosSettings#shortRun()}): every process of a two-gateway, two-node, Sentinel-watched
 * install is killed once with kill -9 under chat and call load, and nobody notices more than a pause: no double
 * session, no acknowledged message lost or doubled, every call's media back. {@code scripts/chaos} runs it longer.
 */
class ChaosTest {

    @Test
    void killingEachProcessInTurnLosesNoMessageDoublesNoSessionAndEveryCallComesBack() throws Exception {
        ChaosSettings settings = ChaosSettings.shortRun();
        ChaosReport report = ChaosRun.run(settings, System.out);
        report.print(System.out);
        report.write(settings.report());
        assertEquals(java.util.List.of(), report.failures());
    }
}
