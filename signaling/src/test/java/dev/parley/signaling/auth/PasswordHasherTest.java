package dev.parley.signaling.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasswordHasherTest {

    private final PasswordHasher hasher = new PasswordHasher(1024, 1, 1);

    @Test
    void theRightPasswordMatchesAndAWrongOneDoesNot() {
        String stored = hasher.hash("correct horse");
        assertTrue(stored.startsWith("$argon2id$v=19$m=1024,t=1,p=1$"));
        assertTrue(hasher.verify("correct horse", stored));
        assertFalse(hasher.verify("correct horsf", stored));
    }

    @Test
    void everyHashHasItsOwnSalt() {
        assertNotEquals(hasher.hash("same"), hasher.hash("same"));
    }

    @Test
    void hashesMadeWithOtherCostsStillVerify() {
        String stronger = new PasswordHasher(2048, 2, 1).hash("pw-12345");
        assertTrue(hasher.verify("pw-12345", stronger));
    }

    @Test
    void malformedStoredHashesNeverMatch() {
        assertFalse(hasher.verify("x", "plain"));
        assertFalse(hasher.verify("x", "$argon2id$v=19$m=x,t=1,p=1$AAAA$AAAA"));
        assertFalse(hasher.verify("x", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA"));
    }
}
