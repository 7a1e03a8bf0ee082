package dev.anvil.acme.http01.tlsalpn;

import dev.anvil.acme.Identifier;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/** The fixed values of tls-alpn-01 (RFC 8737) and the TLS server name a CA validates an identifier with. */
public final class TlsAlpn {

    /** The ALPN protocol a validation handshake negotiates (RFC 8737 section 6.2). */
    public static final String ACME_TLS_1 = "acme-tls/1";

    /** id-pe-acmeIdentifier (RFC 8737 section 6.1): critical, holds SHA-256 of the key authorization. */
    public static final String ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";

    private TlsAlpn() {
    }

    /**
     * The SNI a CA sends for the identifier: the DNS name itself, or for an IP identifier its
     * reverse-mapping name ({@code in-addr.arpa} / {@code ip6.arpa}, RFC 8738 section 6). Lowercase.
     */
    public static String serverName(Identifier identifier) {
        if (Identifier.DNS.equals(identifier.type())) {
            if (identifier.isWildcard()) {
                throw new IllegalArgumentException("tls-alpn-01 cannot validate a wildcard: " + identifier.value());
            }
            return identifier.value().toLowerCase(Locale.ROOT);
        }
        if (Identifier.IP.equals(identifier.type())) {
            byte[] a;
            try {
                a = InetAddress.getByName(identifier.value()).getAddress(); // a literal: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + identifier.value(), e);
            }
            StringBuilder b = new StringBuilder();
            if (a.length == 4) {
                for (int i = 3; i >= 0; i--) {
                    b.append(a[i] & 0xff).append('.');
                }
                return b.append("in-addr.arpa").toString();
            }
            for (int i = a.length - 1; i >= 0; i--) {
                b.append(Character.forDigit(a[i] & 0xf, 16)).append('.').append(Character.forDigit((a[i] >> 4) & 0xf, 16))
                        .append('.');
            }
            return b.append("ip6.arpa").toString();
        }
        throw new IllegalArgumentException("tls-alpn-01 validates dns and ip identifiers, not " + identifier.type());
    }

    /** SHA-256 of the key authorization: the content of the acmeIdentifier extension. */
    public static byte[] keyAuthorizationDigest(String keyAuthorization) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
