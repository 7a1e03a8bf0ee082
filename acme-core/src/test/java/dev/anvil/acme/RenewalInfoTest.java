package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.SplittableRandom;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** ARI CertID (RFC 9773 section 4.1) and the choice of the renewal moment (section 4.2). */
class RenewalInfoTest {

    /** The test vector of RFC 9773 section 4.1 (also in the field notes). */
    private static final byte[] AKI = HexFormat.ofDelimiter(":").parseHex("69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4");
    private static final byte[] SERIAL_DER_CONTENT = HexFormat.ofDelimiter(":").parseHex("00:87:65:43:21");
    private static final String CERT_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    // ---- CertID ----

    @Test
    void certIdFromRawBytesMatchesTheTestVector() {
        assertThat(RenewalInfo.certId(AKI, SERIAL_DER_CONTENT)).isEqualTo(CERT_ID);
    }

    @Test
    void certIdFromARealCertificateKeepsTheSerialsLeadingZero() throws Exception {
        X509Certificate cert = certificate(new BigInteger("87654321", 16), AKI);
        // the DER content of 0x87654321 needs the 0x00 sign byte: the vector covers exactly that case
        assertThat(cert.getSerialNumber().toByteArray()).isEqualTo(SERIAL_DER_CONTENT);
        assertThat(cert.getExtensionValue(Extension.authorityKeyIdentifier.getId())).isNotNull();

        assertThat(RenewalInfo.certId(cert)).isEqualTo(CERT_ID);
    }

    @Test
    void certIdOfASerialWithoutTheHighBitHasNoPadding() throws Exception {
        X509Certificate cert = certificate(BigInteger.valueOf(0x12345), AKI);

        assertThat(RenewalInfo.certId(cert)).isEqualTo("aYhba4dGQEHhs3uEe6CuLN4ByNQ.ASNF")
                .doesNotContain("=").doesNotContain("+").doesNotContain("/");
    }

    @Test
    void certificateWithoutAuthorityKeyIdentifierIsRefused() throws Exception {
        X509Certificate cert = certificate(BigInteger.valueOf(0x87654321L), null);

        assertThatThrownBy(() -> RenewalInfo.certId(cert)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("87654321").hasMessageContaining("Authority Key Identifier");
    }

    // ---- chooseRenewalTime ----

    @Test
    void futureWindowGivesUniformMomentsInsideIt() {
        Instant start = NOW.plus(Duration.ofDays(30));
        Instant end = start.plus(Duration.ofDays(2));
        RenewalInfo info = info(start, end);
        SplittableRandom random = new SplittableRandom(42);
        Instant middle = start.plus(Duration.ofDays(1));
        int firstHalf = 0;
        int secondHalf = 0;
        int[] deciles = new int[10];
        long spanMs = Duration.between(start, end).toMillis();
        for (int i = 0; i < 10_000; i++) {
            Instant t = info.chooseRenewalTime(NOW, random);
            assertThat(t).isAfterOrEqualTo(start).isBefore(end);
            if (t.isBefore(middle)) {
                firstHalf++;
            } else {
                secondHalf++;
            }
            deciles[(int) (Duration.between(start, t).toMillis() * 10 / spanMs)]++;
        }
        assertThat(firstHalf).isBetween(4_700, 5_300);
        assertThat(secondHalf).isBetween(4_700, 5_300);
        for (int d : deciles) {
            assertThat(d).as("each tenth of the window is hit about equally").isBetween(850, 1_150);
        }
    }

    @Test
    void sameSeedGivesTheSameMoment() {
        RenewalInfo info = info(NOW.plusSeconds(3600), NOW.plusSeconds(7200));

        assertThat(info.chooseRenewalTime(NOW, new SplittableRandom(7)))
                .isEqualTo(info.chooseRenewalTime(NOW, new SplittableRandom(7)));
    }

    @Test
    void passedWindowMeansNow() {
        RenewalInfo info = info(NOW.minus(Duration.ofDays(3)), NOW.minus(Duration.ofDays(1)));

        assertThat(info.chooseRenewalTime(NOW, new SplittableRandom(1))).isEqualTo(NOW);
        // a window ending exactly now has passed too
        assertThat(info(NOW.minusSeconds(60), NOW).chooseRenewalTime(NOW, new SplittableRandom(1))).isEqualTo(NOW);
    }

    @Test
    void startedWindowGivesMomentsBetweenNowAndTheEnd() {
        Instant start = NOW.minus(Duration.ofHours(10));
        Instant end = NOW.plus(Duration.ofHours(10));
        RenewalInfo info = info(start, end);
        SplittableRandom random = new SplittableRandom(3);
        boolean early = false;
        boolean late = false;
        for (int i = 0; i < 2_000; i++) {
            Instant t = info.chooseRenewalTime(NOW, random);
            assertThat(t).isAfterOrEqualTo(NOW).isBefore(end);
            early |= t.isBefore(NOW.plus(Duration.ofHours(5)));
            late |= t.isAfter(NOW.plus(Duration.ofHours(5)));
        }
        assertThat(early).isTrue();
        assertThat(late).isTrue();
    }

    private static RenewalInfo info(Instant start, Instant end) {
        return new RenewalInfo(new RenewalInfo.SuggestedWindow(start, end), null, null);
    }

    /** A self-signed certificate with the serial and, when given, an AKI with that keyIdentifier. */
    static X509Certificate certificate(BigInteger serial, byte[] authorityKeyId) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair key = g.generateKeyPair();
        X500Principal name = new X500Principal("CN=ari.example.com");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial,
                Date.from(NOW.minus(Duration.ofDays(1))), Date.from(NOW.plus(Duration.ofDays(89))), name, key.getPublic());
        if (authorityKeyId != null) {
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(authorityKeyId));
        }
        return new JcaX509CertificateConverter()
                .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
    }
}
