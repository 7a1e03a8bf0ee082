package dev.anvil.acme.http01.tlsalpn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.http01.Challenges;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.junit.jupiter.api.Test;

class ValidationCertificateTest {

    @Test
    void carriesTheCriticalAcmeIdentifierAndTheNameAsOnlySan() throws Exception {
        String ka = Challenges.token() + "." + Challenges.thumbprint();
        ValidationCertificate vc = ValidationCertificate.create(Identifier.dns("Alpn.Example.test"), ka);
        X509Certificate cert = vc.certificate();

        assertThat(cert.getCriticalExtensionOIDs()).contains(TlsAlpn.ACME_IDENTIFIER_OID);
        byte[] extnValue = cert.getExtensionValue(TlsAlpn.ACME_IDENTIFIER_OID); // DER OCTET STRING wrapping the value
        ASN1Primitive inner = ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(extnValue).getOctets());
        byte[] digest = ASN1OctetString.getInstance(inner).getOctets();
        assertThat(digest).hasSize(32)
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(ka.getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(TlsAlpn.keyAuthorizationDigest(ka));
        // RFC 8737: the DER of Authorization ::= OCTET STRING (SIZE (32)) is 04 20 followed by the digest
        assertThat(ASN1OctetString.getInstance(extnValue).getOctets()).startsWith(0x04, 0x20).hasSize(34);

        assertThat(sans(cert)).containsExactly(List.of(2, "alpn.example.test"));
        assertThat(vc.serverName()).isEqualTo("alpn.example.test");
        cert.verify(cert.getPublicKey()); // self-signed
        cert.checkValidity();
        assertThat(vc.privateKey().getAlgorithm()).isEqualTo("EC");
        assertThat(vc.toString()).doesNotContain("private").contains("alpn.example.test");
    }

    @Test
    void ipIdentifiersUseTheAddressAsSanAndTheReverseNameAsSni() throws Exception {
        String ka = Challenges.token() + "." + Challenges.thumbprint();
        ValidationCertificate v4 = ValidationCertificate.create(Identifier.ip("192.0.2.10"), ka);
        assertThat(sans(v4.certificate())).containsExactly(List.of(7, "192.0.2.10"));
        assertThat(v4.serverName()).isEqualTo("10.2.0.192.in-addr.arpa");
        // RFC 8738 section 6 example
        assertThat(TlsAlpn.serverName(Identifier.ip("2001:db8::1")))
                .isEqualTo("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        assertThatThrownBy(() -> TlsAlpn.serverName(Identifier.dns("*.example.test")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wildcard");
    }

    private static List<List<Object>> sans(X509Certificate cert) throws Exception {
        List<List<Object>> out = new ArrayList<>();
        for (List<?> san : cert.getSubjectAlternativeNames()) {
            out.add(List.of(san.get(0), san.get(1)));
        }
        return out;
    }
}
