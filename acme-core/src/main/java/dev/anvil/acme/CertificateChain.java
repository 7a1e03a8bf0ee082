package dev.anvil.acme;

import dev.anvil.acme.crypto.Pem;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * A downloaded certificate chain (RFC 8555 section 7.4.2): the PEM as served, the parsed
 * certificates leaf first, and the URLs of alternate chains from {@code Link: rel="alternate"}.
 */
public record CertificateChain(String url, String pem, List<X509Certificate> certificates, List<String> alternates) {

    public CertificateChain {
        certificates = List.copyOf(certificates);
        alternates = List.copyOf(alternates);
    }

    static CertificateChain parse(String url, String pem, List<String> alternates) {
        List<X509Certificate> certs;
        try {
            certs = Pem.readCertificates(pem);
        } catch (IllegalArgumentException e) {
            throw new AcmeProtocolException("certificate download from " + url + " is not a PEM chain: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
            throw new AcmeProtocolException("certificate download from " + url + " contained no certificate");
        }
        return new CertificateChain(url, pem, certs, alternates);
    }

    public X509Certificate leaf() {
        return certificates.get(0);
    }

    /** The common name (or whole DN) of the issuer of the last certificate in the chain: the root this chain leads to. */
    public String topIssuer() {
        return commonName(certificates.get(certificates.size() - 1).getIssuerX500Principal());
    }

    /**
     * Whether this chain leads to the named issuer: the issuer of its topmost certificate matches
     * by common name or full DN, case-insensitively.
     */
    public boolean hasIssuer(String issuerName) {
        X500Principal top = certificates.get(certificates.size() - 1).getIssuerX500Principal();
        String wanted = issuerName.trim().toLowerCase(Locale.ROOT);
        return commonName(top).toLowerCase(Locale.ROOT).equals(wanted)
                || top.getName(X500Principal.RFC2253).toLowerCase(Locale.ROOT).equals(wanted);
    }

    static String commonName(X500Principal principal) {
        X500Name name = X500Name.getInstance(principal.getEncoded());
        RDN[] cn = name.getRDNs(BCStyle.CN);
        if (cn.length == 0) {
            return principal.getName();
        }
        // The plain value: valueToString would escape ',', '+', '"'... as in a DN string.
        return cn[0].getFirst().getValue() instanceof ASN1String s ? s.getString()
                : IETFUtils.valueToString(cn[0].getFirst().getValue());
    }
}
