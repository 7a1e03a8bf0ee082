package dev.anvil.acme.issuance;

import dev.anvil.acme.CertificateChain;
import dev.anvil.acme.crypto.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;

/** The result of an issuance: the chain (leaf first), its key, and where it came from. */
public record IssuedCertificate(String issuanceId, String ca, String orderUrl, CertificateChain chain, KeyPair keyPair) {

    public X509Certificate leaf() {
        return chain.leaf();
    }

    /** The chain followed by the private key in one PEM, as the store keeps it. */
    public String combinedPem() {
        return chain.pem().strip() + "\n" + Pem.write(keyPair);
    }

    @Override
    public String toString() {
        return "IssuedCertificate[" + issuanceId + " from " + ca + ", serial "
                + chain.leaf().getSerialNumber().toString(16) + ", key <redacted>]";
    }
}
