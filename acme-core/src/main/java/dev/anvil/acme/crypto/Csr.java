package dev.anvil.acme.crypto;

import dev.anvil.acme.Identifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Certificate signing requests for finalize (RFC 8555 section 7.4): a SAN entry for every
 * identifier, the first DNS name as CN when it fits (64 characters), signed by the certificate key.
 */
public final class Csr {

    private Csr() {
    }

    /** DER of a CSR for the identifiers, signed with the key. */
    public static byte[] create(KeyPair certificateKey, List<Identifier> identifiers) {
        if (identifiers.isEmpty()) {
            throw new IllegalArgumentException("a CSR needs at least one identifier");
        }
        List<GeneralName> names = new ArrayList<>();
        String commonName = null;
        for (Identifier id : identifiers) {
            if (Identifier.DNS.equals(id.type())) {
                names.add(new GeneralName(GeneralName.dNSName, id.value()));
                if (commonName == null && id.value().length() <= 64) {
                    commonName = id.value();
                }
            } else if (Identifier.IP.equals(id.type())) {
                names.add(new GeneralName(GeneralName.iPAddress, ipBytes(id.value())));
            } else {
                throw new IllegalArgumentException("cannot put identifier type '" + id.type() + "' in a CSR");
            }
        }
        X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
        if (commonName != null) {
            subject.addRDN(BCStyle.CN, commonName);
        }
        X500Name name = subject.build();
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(GeneralName[]::new)));
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(name, certificateKey.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                    .build(new JcaContentSignerBuilder(KeyPairs.typeOf(certificateKey.getPublic()).signatureAlgorithm())
                            .build(certificateKey.getPrivate()));
            return csr.getEncoded();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OperatorCreationException e) {
            throw new IllegalArgumentException("cannot sign CSR: " + e.getMessage(), e);
        }
    }

    private static org.bouncycastle.asn1.DEROctetString ipBytes(String ip) {
        if (!org.bouncycastle.util.IPAddress.isValid(ip)) {
            throw new IllegalArgumentException("not an IP address: " + ip);
        }
        try {
            // A validated literal: getByName parses it without a lookup.
            return new org.bouncycastle.asn1.DEROctetString(InetAddress.getByName(ip).getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + ip, e);
        }
    }
}
