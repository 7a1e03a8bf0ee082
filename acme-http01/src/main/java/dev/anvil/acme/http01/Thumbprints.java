package dev.anvil.acme.http01;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * RFC 7638 JWK thumbprints of account keys: the second half of every key authorization, so
 * the value a stateless responder is configured with. Computed here from the public key alone
 * (core's {@link dev.anvil.acme.AccountSession#thumbprint()} needs a logged-in session).
 */
public final class Thumbprints {

    /** SHA-256, base64url without padding: always 43 characters. */
    private static final Pattern THUMBPRINT = Pattern.compile("[A-Za-z0-9_-]{43}");

    private Thumbprints() {
    }

    /** The SHA-256 JWK thumbprint (base64url) of an EC (P-256, P-384, P-521) or RSA public key. */
    public static String of(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            String crv = switch (bits) {
                case 256 -> "P-256";
                case 384 -> "P-384";
                case 521 -> "P-521";
                default -> throw new IllegalArgumentException("unsupported EC curve of " + bits + " bits for a JWK thumbprint");
            };
            int len = (bits + 7) / 8;
            // RFC 7638 section 3.2: required members only, lexicographic order, no whitespace.
            return digest("{\"crv\":\"" + crv + "\",\"kty\":\"EC\",\"x\":\"" + b64(unsigned(ec.getW().getAffineX(), len))
                    + "\",\"y\":\"" + b64(unsigned(ec.getW().getAffineY(), len)) + "\"}");
        }
        if (key instanceof RSAPublicKey rsa) {
            return digest("{\"e\":\"" + b64(unsigned(rsa.getPublicExponent(), 0)) + "\",\"kty\":\"RSA\",\"n\":\""
                    + b64(unsigned(rsa.getModulus(), 0)) + "\"}");
        }
        throw new IllegalArgumentException("unsupported account key type for a JWK thumbprint: "
                + (key == null ? "null" : key.getAlgorithm()));
    }

    /** Whether the text looks like a SHA-256 JWK thumbprint (43 base64url characters). */
    public static boolean isValid(String thumbprint) {
        return thumbprint != null && THUMBPRINT.matcher(thumbprint).matches();
    }

    /**
     * Returns the thumbprint when it is 43 base64url characters. Catches the usual mistakes
     * early: a whole key authorization, padded or standard base64, a hex digest.
     */
    public static String requireValid(String thumbprint) {
        if (!isValid(thumbprint)) {
            throw new IllegalArgumentException("not an RFC 7638 SHA-256 JWK thumbprint (43 base64url characters): '"
                    + (thumbprint == null ? "null" : ChallengeTokens.printable(thumbprint)) + "'");
        }
        return thumbprint;
    }

    /** Big-endian magnitude without the sign byte, left-padded to {@code length} when that is positive. */
    private static byte[] unsigned(BigInteger value, int length) {
        byte[] b = value.toByteArray();
        int start = b.length > 1 && b[0] == 0 ? 1 : 0;
        int n = b.length - start;
        int size = Math.max(n, length);
        byte[] out = new byte[size];
        System.arraycopy(b, start, out, size - n, n);
        return out;
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String digest(String json) {
        try {
            return b64(MessageDigest.getInstance("SHA-256").digest(json.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
