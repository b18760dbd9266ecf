package dev.parley.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.srtp.SrtpProfile;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
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
    void byDefaultOnlyPublicRemotesAreAllowedNotLoopbackPrivateLinkLocalOrTheHostItself() throws Exception {
        AllowedNetworks allowed = MediaConfig.from(media("")).allowedRemoteNetworks()
                .excludingOwn(Set.of(InetAddress.getByName("198.51.100.10")));
        for (String refused : new String[] {"127.0.0.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.20",
                "169.254.169.254", "100.64.0.1", "fe80::1", "fd00::5", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                "198.51.100.10"}) {
            assertFalse(allowed.allows(InetAddress.getByName(refused)), refused + " must be refused by default");
        }
        for (String public_ : new String[] {"198.51.100.7", "203.0.113.200", "8.8.8.8", "2001:db8::7"}) {
            assertTrue(allowed.allows(InetAddress.getByName(public_)), public_ + " is a public address");
        }
    }

    @Test
    void configuredNetworksAreAllowedAndPublicAddsThePublicDefault() throws Exception {
        AllowedNetworks lan = MediaConfig.from(media("parley.media.allowed-remote-networks = \"10.0.0.0/8\""))
                .allowedRemoteNetworks();
        assertTrue(lan.allows(InetAddress.getByName("10.9.8.7")));
        assertFalse(lan.allows(InetAddress.getByName("8.8.8.8")), "only the configured networks");
        AllowedNetworks both = MediaConfig.from(
                media("parley.media.allowed-remote-networks = [\"public\", \"192.168.0.0/16\"]")).allowedRemoteNetworks();
        assertTrue(both.allows(InetAddress.getByName("192.168.4.4")));
        assertTrue(both.allows(InetAddress.getByName("8.8.8.8")));
        assertFalse(both.allows(InetAddress.getByName("127.0.0.1")));
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
        IllegalArgumentException certificate = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.dtls-certificate = dsa")));
        assertTrue(certificate.getMessage().contains("parley.media.dtls-certificate"), certificate.getMessage());
        IllegalArgumentException workers = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.workers = -1")));
        assertTrue(workers.getMessage().contains("parley.media.workers"), workers.getMessage());
        IllegalArgumentException delay = assertThrows(IllegalArgumentException.class,
                () -> MediaConfig.from(media("parley.media.max-queue-delay = 5s")));
        assertTrue(delay.getMessage().contains("parley.media.max-queue-delay"), delay.getMessage());
    }

    @Test
    void theMediaPathHasOneWorkerPerCoreAndDropsWhatWaitedFiftyMillisecondsUnlessTold() {
        MediaConfig.MediaPath defaults = MediaConfig.from(media("")).mediaPath();
        assertEquals(Runtime.getRuntime().availableProcessors(), defaults.workerThreads());
        assertEquals(java.time.Duration.ofMillis(50), defaults.maxQueueDelay());
        MediaConfig.MediaPath set = MediaConfig.from(media(
                "parley.media.workers = 3\nparley.media.max-queue-delay = 20ms")).mediaPath();
        assertEquals(3, set.workerThreads());
        assertEquals(java.time.Duration.ofMillis(20), set.maxQueueDelay());
    }

    @Test
    void theDtlsCertificateIsEcdsaUnlessRsaIsAskedFor() {
        assertEquals(DtlsIdentity.Kind.ECDSA_P256, MediaConfig.from(media("")).dtlsCertificate());
        assertEquals(DtlsIdentity.Kind.RSA_PKCS1,
                MediaConfig.from(media("parley.media.dtls-certificate = RSA")).dtlsCertificate());
        assertEquals(DtlsIdentity.Kind.ECDSA_P256, MediaConfig.loopback().withLimits(1, 1).dtlsCertificate());
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

    @Test
    void stunAndTurnServersForWhipClientsAreReadAndCheckedAtStartUp() {
        MediaConfig config = MediaConfig.from(media("parley.media { ice-server-uris = \"stun:203.0.113.5:3478,"
                + " turn:203.0.113.5:3478?transport=udp\", turn-secret = s3cret, turn-credential-lifetime = 10m }"));
        assertEquals(List.of("stun:203.0.113.5:3478", "turn:203.0.113.5:3478?transport=udp"),
                config.iceServers().uris());
        assertEquals(Duration.ofMinutes(10), config.iceServers().credentialLifetime());
        assertTrue(MediaConfig.from(media("")).iceServers().uris().isEmpty(), "none by default");
        MediaConfig.from(media("parley.media.ice-server-uris = [\"stun:203.0.113.5\"]"));
        IllegalArgumentException noSecret = assertThrows(IllegalArgumentException.class, () -> MediaConfig.from(
                media("parley.media.ice-server-uris = [\"turns:turn.example.org:443?transport=tcp\"]")));
        assertTrue(noSecret.getMessage().contains("parley.media.turn-secret"), noSecret.getMessage());
        IllegalArgumentException notAnUri = assertThrows(IllegalArgumentException.class, () -> MediaConfig.from(
                media("parley.media.ice-server-uris = [\"http://example.org\"]")));
        assertTrue(notAnUri.getMessage().contains("parley.media.ice-server-uris"), notAnUri.getMessage());
        IllegalArgumentException quoted = assertThrows(IllegalArgumentException.class, () -> MediaConfig.from(
                media("parley.media { turn-secret = x, ice-server-uris = [\"turn:a>; rel=x\"] }")));
        assertTrue(quoted.getMessage().contains("parley.media.ice-server-uris"), quoted.getMessage());
        IllegalArgumentException lifetime = assertThrows(IllegalArgumentException.class, () -> MediaConfig.from(
                media("parley.media.turn-credential-lifetime = 2d")));
        assertTrue(lifetime.getMessage().contains("parley.media.turn-credential-lifetime"), lifetime.getMessage());
    }
}
