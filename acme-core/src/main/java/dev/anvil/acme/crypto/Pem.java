package dev.anvil.acme.crypto;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;

/** PEM reading and writing for keys, certificates and CSRs. */
public final class Pem {

    private Pem() {
    }

    /** A key pair as PKCS#8 PEM ("PRIVATE KEY"); the public key is derived when read back. */
    public static String write(KeyPair keyPair) {
        return write(new PemObject("PRIVATE KEY", keyPair.getPrivate().getEncoded()));
    }

    public static String write(X509Certificate certificate) {
        try {
            return write(new PemObject("CERTIFICATE", certificate.getEncoded()));
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate", e);
        }
    }

    static String write(PemObject object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Reads a key pair from PKCS#8 ("PRIVATE KEY") or traditional ("EC/RSA PRIVATE KEY") PEM. */
    public static KeyPair readKeyPair(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                // RFC 5915: the public key in an "EC PRIVATE KEY" is optional; derive it when absent.
                return kp.getPublicKeyInfo() == null ? KeyPairs.fromPrivate(converter.getPrivateKey(kp.getPrivateKeyInfo()))
                        : converter.getKeyPair(kp);
            }
            if (o instanceof PrivateKeyInfo info) {
                return KeyPairs.fromPrivate(converter.getPrivateKey(info));
            }
            throw new IllegalArgumentException("no private key in PEM (found "
                    + (o == null ? "nothing" : o.getClass().getSimpleName()) + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable private key PEM: " + e.getClass().getSimpleName());
        }
    }

    /** All certificates in a PEM bundle, in order. */
    public static List<X509Certificate> readCertificates(String pem) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            for (var c : factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("unreadable certificate PEM: " + e.getMessage(), e);
        }
    }
}
