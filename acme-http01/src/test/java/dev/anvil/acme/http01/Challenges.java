package dev.anvil.acme.http01;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.solver.ChallengeContext;
import java.security.SecureRandom;
import java.util.Base64;

/** Test data: tokens, thumbprints and challenge contexts as a CA and an account would produce them. */
public final class Challenges {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Challenges() {
    }

    /** A 43-character base64url token, as real CAs send. */
    public static String token() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The thumbprint of a fresh account key. */
    public static String thumbprint() {
        return Thumbprints.of(KeyPairs.generate().getPublic());
    }

    public static ChallengeContext context(String type, String domain, String token, String thumbprint) {
        Challenge c = new Challenge(type, "https://ca.test/chall/" + token, Status.PENDING, token, null, null, null);
        return new ChallengeContext(Identifier.of(domain), false, c, token + "." + thumbprint, thumbprint);
    }

    public static ChallengeContext http01(String domain, String token, String thumbprint) {
        return context(Challenge.HTTP_01, domain, token, thumbprint);
    }
}
