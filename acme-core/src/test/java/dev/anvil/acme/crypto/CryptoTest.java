package dev.anvil.acme.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.Identifier;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CryptoTest {

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    /** One key pair per type, generated once: RSA 3072/4096 generation is slow. */
    private static final Map<KeyType, KeyPair> KEYS = new EnumMap<>(KeyType.class);

    private static synchronized KeyPair key(KeyType type) {
        return KEYS.computeIfAbsent(type, KeyPairs::generate);
    }

    // ---- KeyPairs -----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void generatesEveryKeyType(KeyType type) {
        KeyPair kp = key(type);
        assertThat(kp.getPublic().getAlgorithm()).isEqualTo(type.algorithm());
        assertThat(kp.getPrivate().getAlgorithm()).isEqualTo(type.algorithm());
        assertThat(KeyPairs.typeOf(kp.getPublic())).isEqualTo(type);
        if (kp.getPublic() instanceof RSAPublicKey rsa) {
            assertThat(type.curve()).isNull();
            assertThat(rsa.getModulus().bitLength()).isEqualTo(type.bits());
            assertThat(rsa.getPublicExponent()).isEqualTo(BigInteger.valueOf(65537));
        } else {
            ECPublicKey ec = (ECPublicKey) kp.getPublic();
            assertThat(type.curve()).isNotNull();
            assertThat(ec.getParams().getCurve().getField().getFieldSize()).isEqualTo(type.bits());
        }
        assertThat(signsAndVerifies(kp, type.signatureAlgorithm())).isTrue();
    }

    @Test
    void defaultKeyIsEcP256AndFresh() {
        KeyPair a = KeyPairs.generate();
        KeyPair b = KeyPairs.generate();
        assertThat(KeyPairs.typeOf(a.getPublic())).isEqualTo(KeyType.EC_P256);
        assertThat(a.getPublic().getEncoded()).isNotEqualTo(b.getPublic().getEncoded());
    }

    @Test
    void signatureAlgorithmsMatchKeyTypes() {
        assertThat(KeyType.EC_P256.signatureAlgorithm()).isEqualTo("SHA256withECDSA");
        assertThat(KeyType.EC_P384.signatureAlgorithm()).isEqualTo("SHA384withECDSA");
        assertThat(KeyType.RSA_2048.signatureAlgorithm()).isEqualTo("SHA256withRSA");
        assertThat(KeyType.RSA_3072.signatureAlgorithm()).isEqualTo("SHA256withRSA");
        assertThat(KeyType.RSA_4096.signatureAlgorithm()).isEqualTo("SHA256withRSA");
    }

    @Test
    void smallRsaKeysAreRejected() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        KeyPair weak = g.generateKeyPair();
        assertThatThrownBy(() -> KeyPairs.typeOf(weak.getPublic()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2048")
                .hasMessageContaining("1024");
        assertThatThrownBy(() -> Csr.create(weak, List.of(Identifier.dns("example.com"))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unsupportedCurvesAreRejected() throws Exception {
        KeyPairGenerator p521 = KeyPairGenerator.getInstance("EC");
        p521.initialize(new ECGenParameterSpec("secp521r1"));
        PublicKey big = p521.generateKeyPair().getPublic();
        assertThatThrownBy(() -> KeyPairs.typeOf(big)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("P-256");

        // secp256k1 has the same field size as P-256 but is a different curve.
        KeyPairGenerator k1 = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
        k1.initialize(new ECGenParameterSpec("secp256k1"));
        KeyPair koblitz = k1.generateKeyPair();
        assertThatThrownBy(() -> KeyPairs.typeOf(koblitz.getPublic())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("secp256k1");
        assertThatThrownBy(() -> Pem.readKeyPair(Pem.write(koblitz))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("secp256k1");
    }

    @Test
    void typeOfRejectsOtherKeys() throws Exception {
        KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
        PublicKey edKey = ed.generateKeyPair().getPublic();
        assertThatThrownBy(() -> KeyPairs.typeOf(edKey)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported key type");
        assertThatThrownBy(() -> KeyPairs.typeOf(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384", "RSA_2048"})
    void fromPrivateDerivesTheSamePublicKey(KeyType type) {
        KeyPair kp = key(type);
        assertThat(KeyPairs.fromPrivate(kp.getPrivate()).getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    // ---- Pem ----------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384", "RSA_2048"})
    void pkcs8RoundTrip(KeyType type) {
        KeyPair kp = key(type);
        String pem = Pem.write(kp);
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----").contains("-----END PRIVATE KEY-----");
        KeyPair back = Pem.readKeyPair(pem);
        assertThat(back.getPrivate().getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        assertThat(KeyPairs.typeOf(back.getPublic())).isEqualTo(type);
    }

    @Test
    void p521Pkcs8RoundTrip() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp521r1"));
        KeyPair kp = g.generateKeyPair();
        assertThat(Pem.readKeyPair(Pem.write(kp)).getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    @Test
    void readsTraditionalRsaPrivateKey() throws Exception {
        KeyPair kp = key(KeyType.RSA_2048);
        String pem = bcPem(kp.getPrivate());
        assertThat(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        KeyPair back = Pem.readKeyPair(pem);
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        assertThat(back.getPrivate().getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
    }

    @Test
    void readsTraditionalEcPrivateKey() throws Exception {
        // As OpenSSL writes it: curve parameters and the public key inside the SEC1 structure.
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
        g.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair kp = g.generateKeyPair();
        String pem = bcPem(kp);
        assertThat(pem).startsWith("-----BEGIN EC PRIVATE KEY-----");
        KeyPair back = Pem.readKeyPair(pem);
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        assertThat(((ECPrivateKey) back.getPrivate()).getS()).isEqualTo(((ECPrivateKey) kp.getPrivate()).getS());
        assertThat(KeyPairs.typeOf(back.getPublic())).isEqualTo(KeyType.EC_P384);
    }

    @Test
    void readsTraditionalEcPrivateKeyWithoutPublicKey() {
        // RFC 5915: the publicKey field is optional ("openssl ec -no_public").
        KeyPair kp = key(KeyType.EC_P256);
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                256, ((ECPrivateKey) kp.getPrivate()).getS(), X9ObjectIdentifiers.prime256v1);
        String pem = Pem.write(new PemObject("EC PRIVATE KEY", encoded(sec1)));
        KeyPair back = Pem.readKeyPair(pem);
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    @Test
    void readKeyPairRejectsWhatIsNotAPrivateKey() throws Exception {
        assertThatThrownBy(() -> Pem.readKeyPair("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no private key");
        assertThatThrownBy(() -> Pem.readKeyPair("just text")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pem.readKeyPair("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
                .isInstanceOf(IllegalArgumentException.class);
        KeyPair ca = key(KeyType.EC_P256);
        String certPem = Pem.write(selfSigned(ca, "CN=Only A Cert"));
        assertThatThrownBy(() -> Pem.readKeyPair(certPem)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no private key");
    }

    @Test
    void readsCertificatesInOrder() throws Exception {
        KeyPair k = key(KeyType.EC_P256);
        X509Certificate a = selfSigned(k, "CN=First");
        X509Certificate b = selfSigned(k, "CN=Second");
        String bundle = Pem.write(a) + Pem.write(b);
        assertThat(Pem.write(a)).startsWith("-----BEGIN CERTIFICATE-----");
        List<X509Certificate> certs = Pem.readCertificates(bundle);
        assertThat(certs).containsExactly(a, b);
        assertThat(Pem.readCertificates("")).isEmpty();
        assertThatThrownBy(() -> Pem.readCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unreadable certificate PEM");
    }

    // ---- Csr ----------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384", "RSA_2048"})
    void csrIsSignedByTheKeyWithTheMatchingAlgorithm(KeyType type) throws Exception {
        KeyPair kp = key(type);
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(
                Csr.create(kp, List.of(Identifier.dns("example.com"))));
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(csr.getSubjectPublicKeyInfo())))
                .isTrue();
        assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        ASN1ObjectIdentifier expected = switch (type) {
            case EC_P256 -> X9ObjectIdentifiers.ecdsa_with_SHA256;
            case EC_P384 -> X9ObjectIdentifiers.ecdsa_with_SHA384;
            default -> PKCSObjectIdentifiers.sha256WithRSAEncryption;
        };
        assertThat(csr.getSignatureAlgorithm().getAlgorithm()).isEqualTo(expected);
    }

    @Test
    void csrSignatureFailsForAnotherKey() throws Exception {
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(
                Csr.create(key(KeyType.EC_P256), List.of(Identifier.dns("example.com"))));
        PublicKey other = KeyPairs.generate().getPublic();
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(other))).isFalse();
    }

    @Test
    void csrHasEverySubjectAlternativeName() throws Exception {
        List<Identifier> ids = List.of(
                Identifier.dns("www.example.com"),
                Identifier.dns("*.example.com"),
                Identifier.ip("192.0.2.1"),
                Identifier.ip("2001:db8::1"),
                Identifier.dns("example.org"));
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(Csr.create(key(KeyType.EC_P256), ids));
        GeneralName[] names = sans(csr);

        List<String> dns = new ArrayList<>();
        List<byte[]> ips = new ArrayList<>();
        for (GeneralName n : names) {
            if (n.getTagNo() == GeneralName.dNSName) {
                dns.add(DERIA5String.getInstance(n.getName()).getString());
            } else if (n.getTagNo() == GeneralName.iPAddress) {
                ips.add(ASN1OctetString.getInstance(n.getName()).getOctets());
            } else {
                throw new AssertionError("unexpected SAN type " + n.getTagNo());
            }
        }
        assertThat(dns).containsExactly("www.example.com", "*.example.com", "example.org");
        assertThat(ips).hasSize(2);
        assertThat(ips.get(0)).containsExactly(192, 0, 2, 1);
        assertThat(ips.get(1)).containsExactly(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

        assertThat(commonName(csr)).isEqualTo("www.example.com");
    }

    @Test
    void csrWithOnlyIpsHasNoCommonName() throws Exception {
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(
                Csr.create(key(KeyType.EC_P256), List.of(Identifier.ip("198.51.100.7"))));
        assertThat(commonName(csr)).isNull();
        assertThat(sans(csr)).hasSize(1);
    }

    @Test
    void commonNameOnlyWhenItFits() throws Exception {
        String fits = "a".repeat(52) + ".example.com"; // 64 characters
        String tooLong = "a".repeat(53) + ".example.com"; // 65 characters
        assertThat(fits).hasSize(64);
        assertThat(tooLong).hasSize(65);

        PKCS10CertificationRequest ok = new PKCS10CertificationRequest(
                Csr.create(key(KeyType.EC_P256), List.of(Identifier.dns(fits))));
        assertThat(commonName(ok)).isEqualTo(fits);

        PKCS10CertificationRequest none = new PKCS10CertificationRequest(
                Csr.create(key(KeyType.EC_P256), List.of(Identifier.dns(tooLong), Identifier.ip("192.0.2.1"))));
        assertThat(commonName(none)).isNull();
        assertThat(none.getSubject().getRDNs()).isEmpty();
        // The long name is still requested, as a SAN.
        assertThat(sans(none)).extracting(n -> n.getName().toString()).contains(tooLong);
    }

    @Test
    void commonNameIsTheFirstDnsNameThatFits() throws Exception {
        String tooLong = "a".repeat(53) + ".example.com";
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(Csr.create(key(KeyType.EC_P256),
                List.of(Identifier.ip("192.0.2.1"), Identifier.dns(tooLong), Identifier.dns("short.example"),
                        Identifier.dns("other.example"))));
        assertThat(commonName(csr)).isEqualTo("short.example");
    }

    @Test
    void csrNeedsAnIdentifierOfAKnownType() {
        KeyPair kp = key(KeyType.EC_P256);
        assertThatThrownBy(() -> Csr.create(kp, List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one identifier");
        assertThatThrownBy(() -> Csr.create(kp, List.of(new Identifier("email", "a@example.com"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("email");
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static boolean signsAndVerifies(KeyPair kp, String algorithm) {
        try {
            byte[] data = "anvil".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(kp.getPrivate());
            s.update(data);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(kp.getPublic());
            v.update(data);
            return v.verify(sig);
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static GeneralName[] sans(PKCS10CertificationRequest csr) {
        Extensions ext = csr.getRequestedExtensions();
        assertThat(ext).isNotNull();
        Extension san = ext.getExtension(Extension.subjectAlternativeName);
        assertThat(san).isNotNull();
        return GeneralNames.getInstance(san.getParsedValue()).getNames();
    }

    private static String commonName(PKCS10CertificationRequest csr) {
        RDN[] cn = csr.getSubject().getRDNs(BCStyle.CN);
        assertThat(cn.length).isLessThanOrEqualTo(1);
        return cn.length == 0 ? null : IETFUtils.valueToString(cn[0].getFirst().getValue());
    }

    private static String bcPem(Object o) throws Exception {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }

    private static byte[] encoded(org.bouncycastle.asn1.ASN1Object o) {
        try {
            return o.getEncoded();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static X509Certificate selfSigned(KeyPair kp, String dn) throws Exception {
        X500Name name = new X500Name(dn);
        Date now = new Date();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
                new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000), name, kp.getPublic());
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(KeyPairs.typeOf(kp.getPublic()).signatureAlgorithm())
                        .build(kp.getPrivate())));
    }
}
