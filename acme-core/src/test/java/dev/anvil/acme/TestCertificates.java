package dev.anvil.acme;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import okhttp3.OkHttpClient;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Real certificates for unit tests, made with Bouncy Castle's builders on the JDK providers
 * (no provider is registered globally): roots, intermediates (also cross-signed ones, for
 * alternate chains), leaves, and a TLS identity for serving a MockWebServer over HTTPS.
 */
final class TestCertificates {

    private static final SecureRandom RANDOM = new SecureRandom();

    private TestCertificates() {
    }

    /** A CA: its certificate and key. */
    record Authority(X509Certificate certificate, KeyPair keyPair) {
    }

    /**
     * A leaf issued by an intermediate, with two chains to two roots: the intermediate signed by
     * root A (the default chain) and the same intermediate (same name and key) cross-signed by
     * root B (the alternate chain).
     */
    record CrossSignedChains(Authority rootA, Authority rootB, Authority intermediateA, Authority intermediateB,
                             X509Certificate leaf, KeyPair leafKey) {

        /** Leaf, then the intermediate signed by root A. */
        String defaultChainPem() {
            return pem(leaf, intermediateA.certificate());
        }

        /** Leaf, then the intermediate cross-signed by root B. */
        String alternateChainPem() {
            return pem(leaf, intermediateB.certificate());
        }
    }

    static CrossSignedChains crossSignedChains(String rootA, String rootB, String dnsName) {
        Authority a = root(rootA);
        Authority b = root(rootB);
        KeyPair intermediateKey = ecKey("secp256r1");
        Authority intA = intermediate("Anvil Test Intermediate", intermediateKey, a);
        Authority intB = intermediate("Anvil Test Intermediate", intermediateKey, b);
        KeyPair leafKey = ecKey("secp256r1");
        X509Certificate leaf = leaf(leafKey, intA, List.of(dnsName), List.of());
        return new CrossSignedChains(a, b, intA, intB, leaf, leafKey);
    }

    static KeyPair ecKey(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair rsaKey(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(new RSAKeyGenParameterSpec(bits, RSAKeyGenParameterSpec.F4), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A self-signed root CA with an EC P-256 key. */
    static Authority root(String commonName) {
        KeyPair key = ecKey("secp256r1");
        X500Principal name = new X500Principal("CN=" + commonName + ",O=Anvil Tests");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), notBefore(), notAfter(), name,
                key.getPublic());
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(1));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Authority(sign(b, key), key);
    }

    /** An intermediate CA certificate for the given key, signed by the issuer. */
    static Authority intermediate(String commonName, KeyPair key, Authority issuer) {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer.certificate(), serial(), notBefore(),
                notAfter(), new X500Principal("CN=" + commonName + ",O=Anvil Tests"),
                key.getPublic());
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Authority(sign(b, issuer.keyPair()), key);
    }

    /** A TLS server leaf for the names and IP literals, signed by the issuer. */
    static X509Certificate leaf(KeyPair key, Authority issuer, List<String> dnsNames, List<String> ips) {
        String cn = dnsNames.isEmpty() ? ips.get(0) : dnsNames.get(0);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer.certificate(), serial(), notBefore(),
                notAfter(), new X500Principal("CN=" + cn), key.getPublic());
        List<GeneralName> sans = new ArrayList<>();
        dnsNames.forEach(n -> sans.add(new GeneralName(GeneralName.dNSName, n)));
        ips.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sign(b, issuer.keyPair());
    }

    /** PEM of the certificates in order, as an ACME server serves a chain. */
    static String pem(X509Certificate... certificates) {
        StringBuilder out = new StringBuilder();
        for (X509Certificate c : certificates) {
            try {
                out.append("-----BEGIN CERTIFICATE-----\n")
                        .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
        return out.toString();
    }

    /**
     * A TLS identity for a local test server: a root and a leaf for localhost, 127.0.0.1 and ::1.
     * {@link #serverSocketFactory()} goes to {@code MockWebServer.useHttps}, {@link #httpClient()}
     * trusts only this root.
     */
    record Tls(Authority root, SSLSocketFactory serverSocketFactory, X509TrustManager trustManager,
               SSLSocketFactory clientSocketFactory) {

        OkHttpClient httpClient() {
            return new OkHttpClient.Builder()
                    .sslSocketFactory(clientSocketFactory, trustManager)
                    .followRedirects(false)
                    .connectTimeout(Duration.ofSeconds(5))
                    .callTimeout(Duration.ofSeconds(30))
                    .build();
        }
    }

    static Tls localhostTls() {
        Authority root = root("Anvil Test TLS Root");
        KeyPair key = ecKey("secp256r1");
        X509Certificate leaf = leaf(key, root, List.of("localhost"), List.of("127.0.0.1", "::1"));
        try {
            char[] password = "test".toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", key.getPrivate(), password, new Certificate[] {leaf, root.certificate()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            SSLContext server = SSLContext.getInstance("TLS");
            server.init(kmf.getKeyManagers(), null, RANDOM);

            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root.certificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            X509TrustManager tm = null;
            for (TrustManager t : tmf.getTrustManagers()) {
                if (t instanceof X509TrustManager x) {
                    tm = x;
                }
            }
            SSLContext client = SSLContext.getInstance("TLS");
            client.init(null, new TrustManager[] {tm}, RANDOM);
            return new Tls(root, server.getSocketFactory(), tm, client.getSocketFactory());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up test TLS", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuerKey) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign test certificate", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).setBit(62);
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(30)));
    }
}
