package dev.parley.signaling.auth;

/** A Parley user as others see it. */
public record Account(String userId, String username, String displayName) {
}
