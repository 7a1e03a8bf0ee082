package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.random.RandomGenerator;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;

/**
 * ACME Renewal Information (RFC 9773 section 4.2): the CA's suggested renewal window for a
 * certificate. {@code retryAfter} is the response's Retry-After header, when sent: when to ask again.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RenewalInfo(SuggestedWindow suggestedWindow, @JsonProperty("explanationURL") String explanationUrl,
                          Instant retryAfter) {

    /** The window in which the CA suggests renewing (RFC 9773 section 4.2). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SuggestedWindow(Instant start, Instant end) {
    }

    RenewalInfo withRetryAfter(Instant retry) {
        return new RenewalInfo(suggestedWindow, explanationUrl, retry);
    }

    /**
     * A uniformly random moment inside the window (RFC 9773 section 4.2), or {@code now} when the
     * window has passed or starts before now.
     */
    public Instant chooseRenewalTime(Instant now, RandomGenerator random) {
        Instant start = suggestedWindow.start();
        Instant end = suggestedWindow.end();
        if (!end.isAfter(now)) {
            return now;
        }
        Instant from = start.isAfter(now) ? start : now;
        long span = Duration.between(from, end).toMillis();
        return span <= 0 ? from : from.plusMillis(random.nextLong(span));
    }

    /**
     * The ARI CertID (RFC 9773 section 4.1): base64url of the Authority Key Identifier's
     * keyIdentifier, ".", base64url of the serial number's DER content bytes, no padding.
     */
    public static String certId(X509Certificate certificate) {
        byte[] ext = certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        if (ext == null) {
            throw new IllegalArgumentException("certificate " + certificate.getSerialNumber().toString(16)
                    + " has no Authority Key Identifier; ARI cannot identify it");
        }
        byte[] keyId = AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifierOctets();
        if (keyId == null) {
            throw new IllegalArgumentException("certificate's Authority Key Identifier has no keyIdentifier");
        }
        return certId(keyId, certificate.getSerialNumber().toByteArray());
    }

    /** CertID from raw bytes: the AKI keyIdentifier and the serial's DER content (leading 0x00 kept). */
    public static String certId(byte[] authorityKeyId, byte[] serialDerContent) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString(authorityKeyId) + "." + b64.encodeToString(serialDerContent);
    }
}
