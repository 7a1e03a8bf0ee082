package dev.anvil.acme.crypto;

import com.nimbusds.jose.jwk.Curve;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.math.ec.ECPoint;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;

/** Generates key pairs and tells their type. */
public final class KeyPairs {

    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyPairs() {
    }

    /** A new EC P-256 key pair. */
    public static KeyPair generate() {
        return generate(KeyType.EC_P256);
    }

    public static KeyPair generate(KeyType type) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(type.algorithm());
            if (type.curve() != null) {
                g.initialize(new ECGenParameterSpec(type.curve()), RANDOM);
            } else {
                g.initialize(new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4), RANDOM);
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate " + type + " key pair", e);
        }
    }

    /** Rebuilds the key pair of a private key: the public key is computed from it. */
    public static KeyPair fromPrivate(PrivateKey key) {
        try {
            if (key instanceof RSAPrivateCrtKey rsa) {
                PublicKey pub = KeyFactory.getInstance("RSA")
                        .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
                return new KeyPair(pub, key);
            }
            if (key instanceof ECPrivateKey ec) {
                // The curve is chosen by field size below: make sure it is really a NIST curve.
                Curve named = Curve.forECParameterSpec(ec.getParams());
                if (!Curve.P_256.equals(named) && !Curve.P_384.equals(named)
                        && !Curve.P_521.equals(named)) {
                    throw new IllegalArgumentException("unsupported EC curve " + named + " (use P-256, P-384 or P-521)");
                }
                int bits = ec.getParams().getCurve().getField().getFieldSize();
                X9ECParameters curve = ECNamedCurveTable.getByName(bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521");
                ECPoint q = curve.getG().multiply(ec.getS()).normalize();
                PublicKey pub = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(
                        new java.security.spec.ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger()),
                        ec.getParams()));
                return new KeyPair(pub, key);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot derive the public key: " + e.getClass().getSimpleName());
        }
        throw new IllegalArgumentException("unsupported private key type " + key.getAlgorithm());
    }

    /** The type of a key, for choosing CSR signature algorithms. */
    public static KeyType typeOf(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            // Compare the whole curve, not just its size: secp256k1 is 256 bits too.
            Curve named = Curve.forECParameterSpec(ec.getParams());
            if (Curve.P_256.equals(named)) {
                return KeyType.EC_P256;
            }
            if (Curve.P_384.equals(named)) {
                return KeyType.EC_P384;
            }
            throw new IllegalArgumentException("unsupported EC curve " + (named == null ? bits + "-bit" : named)
                    + " (use P-256 or P-384)");
        }
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < 2048) {
                throw new IllegalArgumentException("RSA keys must have at least 2048 bits, this one has " + bits);
            }
            return bits >= 4096 ? KeyType.RSA_4096 : bits >= 3072 ? KeyType.RSA_3072 : KeyType.RSA_2048;
        }
        throw new IllegalArgumentException("unsupported key type " + (key == null ? "null" : key.getAlgorithm()));
    }
}
