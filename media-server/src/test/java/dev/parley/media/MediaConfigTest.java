package dev.parley.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.media.srtp.SrtpProfile;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MediaConfigTest {

    private static Config media(String overrides) {
        return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference())
                .resolve().getConfig("parley.media");
    }

    @Test
    void theDefaultsAreLoopbackOnPort10000() {
        MediaConfig config = MediaConfig.from(media(""));
        assertEquals(10000, config.udpPort());
        assertEquals(8081, config.httpPort());
        assertEquals(java.util.List.of(InetAddress.getLoopbackAddress()), config.addresses());
        assertNull(config.publicAddress());
        assertEquals(SrtpProfile.AEAD_AES_128_GCM, config.srtpProfiles().get(0));
    }

    @Test
    void commaSeparatedOverridesAreReadAsLists() {
        MediaConfig config = MediaConfig.from(media(
                "parley.media { addresses = \"127.0.0.1, ::1\", allowed-remote-networks = \"127.0.0.0/8,::1/128\","
                        + " public-address = \"203.0.113.7\", udp-port = 0 }"));
        assertEquals(2, config.addresses().size());
        assertTrue(config.allowedRemoteNetworks().allows(InetAddress.getLoopbackAddress()));
        assertEquals("203.0.113.7", config.publicAddress().getHostAddress());
    }

    @Test
    void badValuesNameTheirKey() {
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.udp-port = 70000")));
        assertTrue(port.getMessage().contains("parley.media.udp-port"), port.getMessage());
        IllegalArgumentException cidr = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.allowed-remote-networks = [\"10.0.0.0/99\"]")));
        assertTrue(cidr.getMessage().contains("allowed-remote-networks"), cidr.getMessage());
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.addresses = [\"example.com\"]")));
        assertTrue(host.getMessage().contains("parley.media.addresses"), host.getMessage());
        IllegalArgumentException profile = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.srtp-profiles = [\"NULL\"]")));
        assertTrue(profile.getMessage().contains("srtp-profiles"), profile.getMessage());
    }

    @Test
    void theProjectConfigFileMatchesTheDefaults() throws Exception {
        Path file = Path.of("..", "config", "parley.conf");
        if (!Files.exists(file)) {
            return;
        }
        Config site = ConfigFactory.parseFile(file.toFile()).resolve();
        assertEquals(MediaConfig.from(media("")), MediaConfig.from(site.getConfig("parley.media")));
    }
}
