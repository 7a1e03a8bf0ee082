package dev.anvil.acme.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** JWS in the flattened JSON serialization, as ACME uses it (RFC 8555 section 6.2). */
public final class Jws {

    private Jws() {
    }

    /** ES256/ES384/ES512 for EC P-256/P-384/P-521 keys, RS256 for RSA keys of 2048 bits or more. */
    public static JWSAlgorithm algorithm(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (Curve.P_256.equals(curve)) {
                return JWSAlgorithm.ES256;
            } else if (Curve.P_384.equals(curve)) {
                return JWSAlgorithm.ES384;
            } else if (Curve.P_521.equals(curve)) {
                return JWSAlgorithm.ES512;
            }
            throw new IllegalArgumentException("unsupported EC curve for an ACME account key: " + curve
                    + " (use P-256, P-384 or P-521)");
        }
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < 2048) {
                throw new IllegalArgumentException("RSA account keys must have at least 2048 bits, this one has "
                        + rsa.getModulus().bitLength());
            }
            return JWSAlgorithm.RS256;
        }
        throw new IllegalArgumentException("unsupported account key type: " + (key == null ? "null" : key.getAlgorithm()));
    }

    /** The public JWK of a key (never the private part). */
    public static JWK publicJwk(PublicKey key) {
        algorithm(key);
        if (key instanceof ECPublicKey ec) {
            return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build();
        }
        return new RSAKey.Builder((RSAPublicKey) key).build();
    }

    /** RFC 7638 SHA-256 JWK thumbprint, base64url. */
    public static String thumbprint(PublicKey key) {
        try {
            return publicJwk(key).computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot compute JWK thumbprint", e);
        }
    }

    /**
     * Signs a request. With {@code kid} the header names the account URL, otherwise it embeds the
     * public JWK (newAccount, revocation by certificate key). A null nonce omits it (key change inner JWS).
     */
    public static Map<String, Object> sign(KeyPair key, String url, String nonce, String kid, byte[] payload) {
        JWSAlgorithm alg = algorithm(key.getPublic());
        JWSHeader.Builder header = new JWSHeader.Builder(alg).customParam("url", url);
        if (nonce != null) {
            header.customParam("nonce", nonce);
        }
        if (kid != null) {
            header.keyID(kid);
        } else {
            header.jwk(publicJwk(key.getPublic()));
        }
        JWSObject jws = new JWSObject(header.build(), new Payload(payload));
        try {
            jws.sign(signer(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("JWS signing failed: " + e.getMessage(), e);
        }
        return flattened(jws.getHeader().toBase64URL(), Base64URL.encode(payload), jws.getSignature());
    }

    /**
     * The externalAccountBinding JWS (RFC 8555 section 7.3.4): HMAC over the account's public JWK.
     * Computed with the JDK's Mac so keys of any length the CA hands out work.
     */
    public static Map<String, Object> externalAccountBinding(String kid, byte[] macKey, JWSAlgorithm alg,
                                                             String newAccountUrl, PublicKey accountKey) {
        String macAlg = switch (alg.getName()) {
            case "HS256" -> "HmacSHA256";
            case "HS384" -> "HmacSHA384";
            case "HS512" -> "HmacSHA512";
            default -> throw new IllegalArgumentException("EAB algorithm must be HS256, HS384 or HS512, not " + alg);
        };
        JWSHeader header = new JWSHeader.Builder(alg).keyID(kid).customParam("url", newAccountUrl).build();
        Base64URL protectedHeader = header.toBase64URL();
        Base64URL payload = Base64URL.encode(publicJwk(accountKey).toJSONString().getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance(macAlg);
            mac.init(new SecretKeySpec(macKey, macAlg));
            byte[] signature = mac.doFinal((protectedHeader + "." + payload).getBytes(StandardCharsets.US_ASCII));
            return flattened(protectedHeader, payload, Base64URL.encode(signature));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EAB MAC failed: " + e.getClass().getSimpleName());
        }
    }

    private static JWSSigner signer(KeyPair key) throws JOSEException {
        if (key.getPrivate() instanceof ECPrivateKey ec) {
            return new ECDSASigner(ec);
        }
        return new RSASSASigner(key.getPrivate());
    }

    private static Map<String, Object> flattened(Base64URL header, Base64URL payload, Base64URL signature) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("protected", header.toString());
        json.put("payload", payload.toString());
        json.put("signature", signature.toString());
        return json;
    }
}
