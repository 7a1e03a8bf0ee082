package dev.anvil.acme.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away TLS identity for tests: a freshly generated self-signed CA (EC P-256) and a
 * server ("leaf") certificate issued by it, by default for {@code localhost} and
 * {@code 127.0.0.1}, plus client-side trust material (trust manager, socket factory,
 * {@link OkHttpClient}) that trusts exactly that CA and nothing else.
 *
 * <p>Generated with Bouncy Castle's certificate builders on top of the JDK's own providers;
 * nothing is registered globally ({@code Security.addProvider} is never called).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class TestTls {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration DEFAULT_VALIDITY = Duration.ofDays(30);

    private final X509Certificate caCertificate;
    private final X509Certificate leafCertificate;
    private final PrivateKey leafPrivateKey;
    private final X509TrustManager trustManager;
    private final SSLContext clientSslContext;

    private TestTls(X509Certificate ca, X509Certificate leaf, PrivateKey leafKey) {
        this.caCertificate = ca;
        this.leafCertificate = leaf;
        this.leafPrivateKey = leafKey;
        this.trustManager = trustManagerFor(ca);
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {trustManager}, null);
            this.clientSslContext = ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create client SSLContext", e);
        }
    }

    /** A CA plus a leaf for DNS {@code localhost} and IP {@code 127.0.0.1}. */
    public static TestTls create() {
        return create(List.of("localhost"), List.of("127.0.0.1"));
    }

    /**
     * A CA plus a leaf certificate whose subjectAltName lists the given DNS names and IP
     * addresses (at least one name in total).
     */
    public static TestTls create(List<String> dnsNames, List<String> ipAddresses) {
        Objects.requireNonNull(dnsNames, "dnsNames");
        Objects.requireNonNull(ipAddresses, "ipAddresses");
        if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
            throw new IllegalArgumentException("at least one DNS name or IP address is required");
        }
        try {
            Instant now = Instant.now();
            Date notBefore = Date.from(now.minus(Duration.ofHours(1)));
            Date notAfter = Date.from(now.plus(DEFAULT_VALIDITY));

            KeyPair caKeys = newEcKeyPair();
            X500Name caName = new X500Name("CN=Anvil Test CA " + Long.toHexString(RANDOM.nextLong()));
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(
                    caName, serial(), notBefore, notAfter, caName, caKeys.getPublic());
            caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            caBuilder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            caBuilder.addExtension(Extension.subjectKeyIdentifier, false,
                    ext.createSubjectKeyIdentifier(caKeys.getPublic()));
            X509Certificate ca = sign(caBuilder, caKeys.getPrivate());

            KeyPair leafKeys = newEcKeyPair();
            String cn = !dnsNames.isEmpty() ? dnsNames.get(0) : ipAddresses.get(0);
            X509v3CertificateBuilder leafBuilder = new JcaX509v3CertificateBuilder(
                    ca, serial(), notBefore, notAfter, new X500Name("CN=" + cn), leafKeys.getPublic());
            List<GeneralName> sans = new ArrayList<>();
            for (String dns : dnsNames) {
                sans.add(new GeneralName(GeneralName.dNSName, dns));
            }
            for (String ip : ipAddresses) {
                // Validate it is a literal, never resolve a name here.
                if (!ip.matches("[0-9.]+") && !ip.contains(":")) {
                    throw new IllegalArgumentException("not an IP literal: " + ip);
                }
                InetAddress.getByName(ip);
                sans.add(new GeneralName(GeneralName.iPAddress, ip));
            }
            leafBuilder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(new GeneralName[0])));
            leafBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            leafBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            leafBuilder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            leafBuilder.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(ca));
            leafBuilder.addExtension(Extension.subjectKeyIdentifier, false,
                    ext.createSubjectKeyIdentifier(leafKeys.getPublic()));
            X509Certificate leaf = sign(leafBuilder, caKeys.getPrivate());
            leaf.verify(ca.getPublicKey());

            return new TestTls(ca, leaf, leafKeys.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot generate test TLS certificates", e);
        }
    }

    // ---------------------------------------------------------------- accessors

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public X509Certificate leafCertificate() {
        return leafCertificate;
    }

    public PrivateKey leafPrivateKey() {
        return leafPrivateKey;
    }

    /** PEM of the CA certificate (what a client must trust). */
    public String caPem() {
        return toPem("CERTIFICATE", encoded(caCertificate));
    }

    /** PEM of the leaf certificate alone. */
    public String leafPem() {
        return toPem("CERTIFICATE", encoded(leafCertificate));
    }

    /** PEM of leaf followed by CA: what a server should present. */
    public String leafChainPem() {
        return leafPem() + caPem();
    }

    /** PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}) of the leaf key. */
    public String leafKeyPem() {
        return toPem("PRIVATE KEY", leafPrivateKey.getEncoded());
    }

    /** Writes {@link #leafChainPem()} to {@code certFile} and {@link #leafKeyPem()} to {@code keyFile}. */
    public void writeServerFiles(Path certFile, Path keyFile) {
        try {
            Files.writeString(certFile, leafChainPem(), StandardCharsets.US_ASCII);
            Files.writeString(keyFile, leafKeyPem(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- client side

    /** A trust manager that trusts only this instance's CA. */
    public X509TrustManager trustManager() {
        return trustManager;
    }

    /** A client {@link SSLContext} that trusts only this instance's CA. */
    public SSLContext clientSslContext() {
        return clientSslContext;
    }

    public SSLSocketFactory sslSocketFactory() {
        return clientSslContext.getSocketFactory();
    }

    /** A trust store (PKCS12, in memory, no password) holding this instance's CA. */
    public KeyStore trustStore() {
        return trustStoreOf(List.of(caCertificate));
    }

    /**
     * A new {@link OkHttpClient.Builder} trusting only this CA, with test-friendly timeouts
     * (connect 5 s, read/write 30 s, whole call 60 s).
     */
    public OkHttpClient.Builder httpClientBuilder() {
        return new OkHttpClient.Builder()
                // Anvil's TCP_NODELAY sockets: without them each new TLS connection stalls ~40 ms.
                .socketFactory(dev.anvil.acme.AcmeClient.defaultHttpClient().socketFactory())
                .sslSocketFactory(sslSocketFactory(), trustManager)
                .connectTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(30))
                .writeTimeout(Duration.ofSeconds(30))
                .callTimeout(Duration.ofSeconds(60));
    }

    // ---------------------------------------------------------------- server side

    /** A server {@link SSLContext} presenting the leaf (with the CA in the chain). */
    public SSLContext serverSslContext() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = "anvil".toCharArray();
            ks.setKeyEntry("leaf", leafPrivateKey, pw, new Certificate[] {leafCertificate, caCertificate});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create server SSLContext", e);
        }
    }

    // ---------------------------------------------------------------- static helpers

    /** A trust manager trusting exactly the given anchors (and not the JDK's default CAs). */
    public static X509TrustManager trustManagerFor(X509Certificate... anchors) {
        return trustManagerFor(List.of(anchors));
    }

    /** A trust manager trusting exactly the given anchors (and not the JDK's default CAs). */
    public static X509TrustManager trustManagerFor(Collection<X509Certificate> anchors) {
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("no trust anchors");
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStoreOf(anchors));
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager) {
                    return (X509TrustManager) tm;
                }
            }
            throw new IllegalStateException("no X509TrustManager from " + tmf.getAlgorithm());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create trust manager", e);
        }
    }

    /** Parses every {@code CERTIFICATE} block in a PEM string (e.g. a chain from Pebble). */
    public static List<X509Certificate> parseCertificates(String pem) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : cf.generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a PEM certificate (chain)", e);
        }
    }

    /** Formats DER bytes as PEM with the given label and 64-character lines. */
    public static String toPem(String label, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n";
    }

    private static KeyStore trustStoreOf(Collection<X509Certificate> anchors) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : anchors) {
                ks.setCertificateEntry("anchor-" + i++, c);
            }
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create trust store", e);
        }
    }

    private static KeyPair newEcKeyPair() throws GeneralSecurityException {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return kpg.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).setBit(62); // positive, non-zero, 8 bytes
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static byte[] encoded(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
