package dev.parley.media.api;

import dev.parley.media.MediaConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code Link: <uri>; rel="ice-server"} header values (RFC 9725 §4.6) of the configured STUN and TURN servers.
 * TURN servers get time-limited credentials in the TURN REST API scheme that coturn's {@code use-auth-secret} checks,
 * as the gateway hands them to call members: username {@code <expiry unix seconds>:<user>}, password the base64
 * HMAC-SHA1 of the username with the shared secret. coturn checks the expiry when an allocation is created.
 */
final class IceServerLinks {
    private final MediaConfig.IceServers servers;

    IceServerLinks(MediaConfig.IceServers servers) {
        this.servers = servers;
    }

    /** The header values for {@code user} (an endpoint or conference id), or none when no server is configured. */
    List<String> linksFor(String user, Instant now) {
        if (servers.uris().isEmpty()) {
            return List.of();
        }
        String username = (now.getEpochSecond() + servers.credentialLifetime().toSeconds()) + ":" + user;
        String password = sign(username);
        List<String> links = new ArrayList<>();
        for (String uri : servers.uris()) {
            StringBuilder link = new StringBuilder("<").append(uri).append(">; rel=\"ice-server\"");
            if (MediaConfig.IceServers.isTurn(uri)) {
                link.append("; username=\"").append(username).append("\"; credential=\"").append(password)
                        .append("\"; credential-type=\"password\"");
            }
            links.add(link.toString());
        }
        return links;
    }

    private String sign(String username) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(servers.turnSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is not available", e);
        }
    }
}
