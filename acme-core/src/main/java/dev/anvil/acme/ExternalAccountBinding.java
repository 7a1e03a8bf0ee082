package dev.anvil.acme;

import com.nimbusds.jose.JWSAlgorithm;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * External account binding credentials (RFC 8555 section 7.3.4): the CA's key id and MAC key.
 * The key never appears in {@link #toString()}.
 */
public final class ExternalAccountBinding {

    private final String kid;
    private final byte[] macKey;
    private final String algorithm;

    private ExternalAccountBinding(String kid, byte[] macKey, String algorithm) {
        this.kid = Objects.requireNonNull(kid, "kid");
        this.macKey = macKey;
        this.algorithm = algorithm;
    }

    /**
     * Credentials as CAs hand them out: the key id and the MAC key in base64url (padding and
     * stray whitespace tolerated). Algorithm HS256.
     */
    public static ExternalAccountBinding of(String kid, String base64UrlMacKey) {
        return of(kid, base64UrlMacKey, "HS256");
    }

    /** As {@link #of(String, String)} with HS256, HS384 or HS512. */
    public static ExternalAccountBinding of(String kid, String base64UrlMacKey, String algorithm) {
        if (kid == null || kid.isBlank()) {
            throw new IllegalArgumentException("EAB key id is empty");
        }
        if (!algorithm.equals("HS256") && !algorithm.equals("HS384") && !algorithm.equals("HS512")) {
            throw new IllegalArgumentException("EAB algorithm must be HS256, HS384 or HS512, not " + algorithm);
        }
        String cleaned = base64UrlMacKey == null ? "" : base64UrlMacKey.replaceAll("\\s", "").replace("=", "")
                .replace('+', '-').replace('/', '_');
        byte[] key;
        try {
            key = Base64.getUrlDecoder().decode(cleaned);
        } catch (IllegalArgumentException e) {
            // The message would echo part of the key; say only what is wrong.
            throw new IllegalArgumentException("EAB MAC key for kid " + kid.trim() + " is not valid base64url");
        }
        if (key.length == 0) {
            throw new IllegalArgumentException("EAB MAC key for kid " + kid.trim() + " is empty");
        }
        return new ExternalAccountBinding(kid.trim(), key, algorithm);
    }

    public String kid() {
        return kid;
    }

    public String algorithm() {
        return algorithm;
    }

    JWSAlgorithm jwsAlgorithm() {
        return JWSAlgorithm.parse(algorithm);
    }

    byte[] macKey() {
        return macKey.clone();
    }

    @Override
    public String toString() {
        return "ExternalAccountBinding[kid=" + kid + ", algorithm=" + algorithm + ", key=<redacted>]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExternalAccountBinding e && kid.equals(e.kid) && algorithm.equals(e.algorithm)
                && Arrays.equals(macKey, e.macKey);
    }

    @Override
    public int hashCode() {
        return kid.hashCode();
    }
}
