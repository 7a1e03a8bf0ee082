package dev.anvil.acme.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.Base64URL;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.KeyType;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JwsTest {

    private static final KeyPair p256 = KeyPairs.generate(KeyType.EC_P256);
    private static final KeyPair p384 = KeyPairs.generate(KeyType.EC_P384);
    private static final KeyPair p521 = p521();
    private static final KeyPair rsa2048 = KeyPairs.generate(KeyType.RSA_2048);

    private static KeyPair p521() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp521r1"));
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    // ---- thumbprint ---------------------------------------------------------------------------

    @Test
    void thumbprintOfTheRfc7638Example() throws Exception {
        // RFC 7638 section 3.1.
        String n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
                + "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
                + "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
                + "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        String e = "AQAB";
        PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                new BigInteger(1, Base64.getUrlDecoder().decode(n)), new BigInteger(1, Base64.getUrlDecoder().decode(e))));
        assertThat(Jws.thumbprint(key)).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    @Test
    void ecThumbprintMatchesAnIndependentComputation() throws Exception {
        ECPublicKey ec = (ECPublicKey) p256.getPublic();
        String x = b64(fixed(ec.getW().getAffineX(), 32));
        String y = b64(fixed(ec.getW().getAffineY(), 32));
        // RFC 7638 section 3.2: required members only, lexicographic order, no whitespace.
        String canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"}";
        String expected = b64(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
        assertThat(Jws.thumbprint(p256.getPublic())).isEqualTo(expected);
        assertThat(Jws.thumbprint(p384.getPublic())).isNotEqualTo(expected).hasSize(43);
    }

    // ---- algorithm ----------------------------------------------------------------------------

    @Test
    void algorithmFollowsTheKey() {
        assertThat(Jws.algorithm(p256.getPublic())).isEqualTo(JWSAlgorithm.ES256);
        assertThat(Jws.algorithm(p384.getPublic())).isEqualTo(JWSAlgorithm.ES384);
        assertThat(Jws.algorithm(p521.getPublic())).isEqualTo(JWSAlgorithm.ES512);
        assertThat(Jws.algorithm(rsa2048.getPublic())).isEqualTo(JWSAlgorithm.RS256);
    }

    @Test
    void smallRsaKeysAreRejected() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        KeyPair weak = g.generateKeyPair();
        assertThatThrownBy(() -> Jws.algorithm(weak.getPublic())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2048");
        assertThatThrownBy(() -> Jws.sign(weak, "https://ca.test/acme/new-acct", "n", null, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Jws.thumbprint(weak.getPublic())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unsupportedCurvesAndKeyTypesAreRejected() throws Exception {
        // The JDK no longer generates secp256k1; Bouncy Castle does.
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
        g.initialize(new ECGenParameterSpec("secp256k1"));
        PublicKey k1 = g.generateKeyPair().getPublic();
        assertThatThrownBy(() -> Jws.algorithm(k1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("P-256");
        assertThatThrownBy(() -> Jws.publicJwk(k1)).isInstanceOf(IllegalArgumentException.class);

        PublicKey ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
        assertThatThrownBy(() -> Jws.algorithm(ed)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported");
        assertThatThrownBy(() -> Jws.algorithm(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void publicJwkHasNoPrivatePart() {
        for (KeyPair kp : new KeyPair[] {p256, rsa2048}) {
            JWK jwk = Jws.publicJwk(kp.getPublic());
            assertThat(jwk.isPrivate()).isFalse();
            assertThat(jwk.toJSONObject()).doesNotContainKeys("d", "p", "q", "dp", "dq", "qi");
        }
    }

    // ---- sign ---------------------------------------------------------------------------------

    static Stream<Arguments> signingKeys() {
        return Stream.of(Arguments.of("ES256", p256), Arguments.of("ES384", p384), Arguments.of("ES512", p521),
                Arguments.of("RS256", rsa2048));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("signingKeys")
    void signWithJwkVerifies(String alg, KeyPair kp) throws Exception {
        byte[] payload = "{\"termsOfServiceAgreed\":true}".getBytes(StandardCharsets.UTF_8);
        Map<String, Object> jws = Jws.sign(kp, "https://ca.test/acme/new-acct", "nonce-1", null, payload);

        assertThat(jws).containsOnlyKeys("protected", "payload", "signature");
        Map<String, Object> header = header(jws);
        assertThat(header).containsEntry("alg", alg)
                .containsEntry("url", "https://ca.test/acme/new-acct")
                .containsEntry("nonce", "nonce-1")
                .containsKey("jwk")
                .doesNotContainKey("kid");
        @SuppressWarnings("unchecked")
        Map<String, Object> jwk = (Map<String, Object>) header.get("jwk");
        assertThat(jwk).doesNotContainKey("d");
        assertThat(JWK.parse(jwk).computeThumbprint().toString()).isEqualTo(Jws.thumbprint(kp.getPublic()));

        assertThat(Base64URL.from((String) jws.get("payload")).decode()).isEqualTo(payload);
        assertThat(verify(jws, kp.getPublic())).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("signingKeys")
    void signWithKidVerifies(String alg, KeyPair kp) throws Exception {
        byte[] payload = "{\"status\":\"deactivated\"}".getBytes(StandardCharsets.UTF_8);
        Map<String, Object> jws = Jws.sign(kp, "https://ca.test/acme/acct/1", "nonce-2", "https://ca.test/acme/acct/1",
                payload);
        Map<String, Object> header = header(jws);
        assertThat(header).containsEntry("alg", alg)
                .containsEntry("kid", "https://ca.test/acme/acct/1")
                .containsEntry("url", "https://ca.test/acme/acct/1")
                .containsEntry("nonce", "nonce-2")
                .doesNotContainKey("jwk");
        assertThat(verify(jws, kp.getPublic())).isTrue();
    }

    @Test
    void signatureDoesNotVerifyWithAnotherKeyOrTamperedPayload() throws Exception {
        Map<String, Object> jws = Jws.sign(p256, "https://ca.test/x", "n", "https://ca.test/acct/1",
                "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(verify(jws, KeyPairs.generate().getPublic())).isFalse();
        Map<String, Object> tampered = new java.util.LinkedHashMap<>(jws);
        tampered.put("payload", Base64URL.encode("{\"a\":1}").toString());
        assertThat(verify(tampered, p256.getPublic())).isFalse();
    }

    @Test
    void postAsGetHasAnEmptyPayload() throws Exception {
        Map<String, Object> jws = Jws.sign(p256, "https://ca.test/acme/order/1", "n3", "https://ca.test/acme/acct/1",
                new byte[0]);
        assertThat(jws.get("payload")).isEqualTo("");
        assertThat(verify(jws, p256.getPublic())).isTrue();
        Map<String, Object> rsa = Jws.sign(rsa2048, "https://ca.test/acme/order/1", "n3", "https://ca.test/acme/acct/1",
                new byte[0]);
        assertThat(rsa.get("payload")).isEqualTo("");
        assertThat(verify(rsa, rsa2048.getPublic())).isTrue();
    }

    @Test
    void nullNonceIsOmitted() throws Exception {
        Map<String, Object> jws = Jws.sign(p256, "https://ca.test/acme/key-change", null, null,
                "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(header(jws)).doesNotContainKey("nonce").containsKey("jwk").containsKey("url");
        assertThat(verify(jws, p256.getPublic())).isTrue();
    }

    @Test
    void rsaSignatureVerifiesWithTheJdkToo() throws Exception {
        Map<String, Object> jws = Jws.sign(rsa2048, "https://ca.test/x", "n", null, "{}".getBytes(StandardCharsets.UTF_8));
        java.security.Signature s = java.security.Signature.getInstance("SHA256withRSA");
        s.initVerify(rsa2048.getPublic());
        s.update((jws.get("protected") + "." + jws.get("payload")).getBytes(StandardCharsets.US_ASCII));
        assertThat(s.verify(Base64.getUrlDecoder().decode((String) jws.get("signature")))).isTrue();
    }

    // ---- external account binding -------------------------------------------------------------

    static Stream<Arguments> macAlgorithms() {
        return Stream.of(Arguments.of(JWSAlgorithm.HS256, "HmacSHA256", 32),
                Arguments.of(JWSAlgorithm.HS384, "HmacSHA384", 48),
                Arguments.of(JWSAlgorithm.HS512, "HmacSHA512", 64));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("macAlgorithms")
    void externalAccountBindingMacsThePublicJwk(JWSAlgorithm alg, String jdkMac, int keyLength) throws Exception {
        byte[] key = new byte[keyLength];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 3);
        }
        Map<String, Object> eab = Jws.externalAccountBinding("kid-123", key, alg, "https://ca.test/acme/new-acct",
                p256.getPublic());
        assertThat(eab).containsOnlyKeys("protected", "payload", "signature");

        Map<String, Object> header = header(eab);
        assertThat(header).containsOnly(Map.entry("alg", alg.getName()), Map.entry("kid", "kid-123"),
                Map.entry("url", "https://ca.test/acme/new-acct"));

        String payloadJson = new String(Base64URL.from((String) eab.get("payload")).decode(), StandardCharsets.UTF_8);
        Map<String, Object> jwk = Json.MAPPER.readValue(payloadJson, new TypeReference<Map<String, Object>>() { });
        assertThat(jwk).containsKeys("kty", "crv", "x", "y").doesNotContainKey("d");
        assertThat(JWK.parse(payloadJson).computeThumbprint().toString()).isEqualTo(Jws.thumbprint(p256.getPublic()));

        Mac mac = Mac.getInstance(jdkMac);
        mac.init(new SecretKeySpec(key, jdkMac));
        byte[] expected = mac.doFinal((eab.get("protected") + "." + eab.get("payload")).getBytes(StandardCharsets.US_ASCII));
        assertThat(Base64.getUrlDecoder().decode((String) eab.get("signature"))).isEqualTo(expected);

        assertThat(verify(eab, new MACVerifier(key))).isTrue();
        byte[] wrong = key.clone();
        wrong[0] ^= 1;
        assertThat(verify(eab, new MACVerifier(wrong))).isFalse();
    }

    @Test
    void externalAccountBindingWorksWithShortKeys() throws Exception {
        // Some CAs hand out keys shorter than the hash; Nimbus would refuse them, the JDK Mac does not.
        byte[] key = "short".getBytes(StandardCharsets.US_ASCII);
        Map<String, Object> eab = Jws.externalAccountBinding("k", key, JWSAlgorithm.HS256, "https://ca.test/new-acct",
                rsa2048.getPublic());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        byte[] expected = mac.doFinal((eab.get("protected") + "." + eab.get("payload")).getBytes(StandardCharsets.US_ASCII));
        assertThat(Base64.getUrlDecoder().decode((String) eab.get("signature"))).isEqualTo(expected);
        String payloadJson = new String(Base64URL.from((String) eab.get("payload")).decode(), StandardCharsets.UTF_8);
        assertThat(JWK.parse(payloadJson).isPrivate()).isFalse();
        assertThat(payloadJson).contains("\"kty\":\"RSA\"").doesNotContain("\"d\"");
    }

    @Test
    void externalAccountBindingRejectsNonHmacAlgorithms() {
        byte[] key = new byte[32];
        assertThatThrownBy(() -> Jws.externalAccountBinding("k", key, JWSAlgorithm.RS256, "https://ca.test/new-acct",
                p256.getPublic())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HS256");
        assertThatThrownBy(() -> Jws.externalAccountBinding("k", key, JWSAlgorithm.ES256, "https://ca.test/new-acct",
                p256.getPublic())).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static Map<String, Object> header(Map<String, Object> jws) throws Exception {
        byte[] json = Base64.getUrlDecoder().decode((String) jws.get("protected"));
        return Json.MAPPER.readValue(json, new TypeReference<Map<String, Object>>() { });
    }

    private static boolean verify(Map<String, Object> jws, PublicKey key) throws Exception {
        JWSVerifier verifier = key instanceof RSAPublicKey r ? new RSASSAVerifier(r) : new ECDSAVerifier((ECPublicKey) key);
        return verify(jws, verifier);
    }

    private static boolean verify(Map<String, Object> jws, JWSVerifier verifier) throws Exception {
        JWSObject parsed = new JWSObject(Base64URL.from((String) jws.get("protected")),
                Base64URL.from((String) jws.get("payload")), Base64URL.from((String) jws.get("signature")));
        return parsed.verify(verifier);
    }

    private static byte[] fixed(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        if (raw.length == length) {
            return raw;
        }
        if (raw.length > length) {
            return Arrays.copyOfRange(raw, raw.length - length, raw.length);
        }
        byte[] out = new byte[length];
        System.arraycopy(raw, 0, out, length - raw.length, raw.length);
        return out;
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
