package dev.parley.media.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.ice.IceClientSession;
import dev.parley.media.ice.IceLiteSession;
import dev.parley.media.ice.SharedUdpPort;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.srtp.SrtpProfile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SecureTransportTest {
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));

    @Test
    void rtpCrossesIceDtlsAndSrtpInBothProfiles() throws Exception {
        for (SrtpProfile profile : SrtpProfile.values()) {
            MediaCounters counters = new MediaCounters();
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            SharedUdpPort port = new SharedUdpPort(new InetSocketAddress(loopback, 0), LOOPBACK, counters);
            DtlsIdentity serverId = DtlsIdentity.generate();
            DtlsIdentity clientId = DtlsIdentity.generate();
            IceLiteSession serverIce = IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30));
            IceClientSession clientIce = IceClientSession.open(loopback, LOOPBACK);
            MediaWorkers workers = new MediaWorkers("test", 2, Duration.ofMillis(50), counters);
            SecureTransport server = new SecureTransport("s", serverIce, serverId, List.of(profile), counters,
                    workers.assign());
            SecureTransport client = new SecureTransport("c", clientIce, clientId, List.of(profile), counters,
                    workers.assign());
            BlockingQueue<byte[]> received = new ArrayBlockingQueue<>(10);
            server.start(SecureTransport.DtlsRole.SERVER, clientId.fingerprint(), clientIce.localUfrag(),
                    clientIce.localPassword(), List.of(), new Collect(received));
            client.start(SecureTransport.DtlsRole.CLIENT, serverId.fingerprint(), serverIce.localUfrag(),
                    serverIce.localPassword(), serverIce.localCandidates(), new Collect(new ArrayBlockingQueue<>(10)));
            long deadline = System.currentTimeMillis() + 20_000;
            while (!(client.isSecure() && server.isSecure()) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(profile, client.profile());
            byte[] rtp = new byte[] {(byte) 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 42, 1, 2, 3, 4, 5};
            byte[] got = null;
            for (int i = 0; i < 50 && got == null; i++) {
                PacketBuffer packet = new PacketBuffer();
                packet.copyFrom(rtp, 0, rtp.length);
                client.sendRtp(packet);
                got = received.poll(100, TimeUnit.MILLISECONDS);
            }
            assertNotNull(got);
            assertArrayEquals(rtp, got);
            client.close();
            server.close();
            port.close();
            workers.close();
        }
    }

    private record Collect(BlockingQueue<byte[]> queue) implements SecureTransport.Listener {
        @Override
        public boolean acceptsRtpSsrc(long ssrc) {
            return true;
        }

        @Override
        public void onRtp(PacketBuffer packet) {
            queue.offer(java.util.Arrays.copyOfRange(packet.getBuffer(), packet.getOffset(),
                    packet.getOffset() + packet.getLength()));
        }

        @Override
        public void onRtcp(PacketBuffer packet) {
        }
    }
}
