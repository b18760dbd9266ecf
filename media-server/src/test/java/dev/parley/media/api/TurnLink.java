package dev.parley.media.api;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** A TURN server's {@code Link: <uri>; rel="ice-server"; username=...; credential=...} header, read back by tests. */
record TurnLink(String uri, String username, String credential) {
    private static final Pattern LINK = Pattern.compile(
            "<([^>]+)>; rel=\"ice-server\"; username=\"([^\"]+)\"; credential=\"([^\"]+)\"; credential-type=\"password\"");

    static TurnLink parse(String header) {
        Matcher matcher = LINK.matcher(header);
        if (!matcher.matches()) {
            throw new AssertionError("not a TURN ice-server link: " + header);
        }
        return new TurnLink(matcher.group(1), matcher.group(2), matcher.group(3));
    }

    /** The TURN REST API password of {@code username}: base64 HMAC-SHA1 with the shared secret, written here anew. */
    static String sign(String secret, String username) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    }
}
