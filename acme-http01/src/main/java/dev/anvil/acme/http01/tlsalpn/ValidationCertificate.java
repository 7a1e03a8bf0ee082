package dev.anvil.acme.http01.tlsalpn;

import dev.anvil.acme.Identifier;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The self-signed tls-alpn-01 validation certificate (RFC 8737 section 3): the identifier as its
 * only subjectAltName, and the critical acmeIdentifier extension holding the DER OCTET STRING of
 * SHA-256(key authorization). Made with a fresh EC P-256 key, valid for a week; the key exists
 * only for this handshake and never leaves the process (not in {@link #toString()} either).
 */
public record ValidationCertificate(Identifier identifier, String serverName, X509Certificate certificate,
                                    PrivateKey privateKey) {

    private static final SecureRandom RANDOM = new SecureRandom();

    public ValidationCertificate {
        Objects.requireNonNull(identifier, "identifier");
        Objects.requireNonNull(serverName, "serverName");
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(privateKey, "privateKey");
    }

    /** Builds the certificate for one challenge. */
    public static ValidationCertificate create(Identifier identifier, String keyAuthorization) {
        Objects.requireNonNull(keyAuthorization, "keyAuthorization");
        String serverName = TlsAlpn.serverName(identifier);
        try {
            KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
            kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            KeyPair key = kpg.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=ACME tls-alpn-01 challenge");
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, RANDOM).setBit(62), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(7))), subject, key.getPublic());
            GeneralName san = Identifier.IP.equals(identifier.type())
                    ? new GeneralName(GeneralName.iPAddress, new DEROctetString(InetAddress.getByName(identifier.value())
                    .getAddress()))
                    : new GeneralName(GeneralName.dNSName, serverName);
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san));
            b.addExtension(new ASN1ObjectIdentifier(TlsAlpn.ACME_IDENTIFIER_OID), true,
                    new DEROctetString(TlsAlpn.keyAuthorizationDigest(keyAuthorization)));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
            return new ValidationCertificate(identifier, serverName, cert, key.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException
                 | java.net.UnknownHostException e) {
            throw new IllegalStateException("cannot create the tls-alpn-01 certificate for " + identifier.value(), e);
        }
    }

    @Override
    public String toString() {
        return "ValidationCertificate[" + identifier.value() + ", SNI " + serverName + ", serial "
                + certificate.getSerialNumber().toString(16) + "]";
    }
}
