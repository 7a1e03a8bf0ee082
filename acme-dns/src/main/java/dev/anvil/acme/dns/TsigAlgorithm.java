package dev.anvil.acme.dns;

import java.util.Locale;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/** TSIG MAC algorithms (RFC 8945) for {@link Rfc2136Provider}. HMAC-MD5 is left out on purpose. */
public enum TsigAlgorithm {
    HMAC_SHA1("hmac-sha1", TSIG.HMAC_SHA1),
    HMAC_SHA224("hmac-sha224", TSIG.HMAC_SHA224),
    HMAC_SHA256("hmac-sha256", TSIG.HMAC_SHA256),
    HMAC_SHA384("hmac-sha384", TSIG.HMAC_SHA384),
    HMAC_SHA512("hmac-sha512", TSIG.HMAC_SHA512);

    private final String text;
    private final Name dnsName;

    TsigAlgorithm(String text, Name dnsName) {
        this.text = text;
        this.dnsName = dnsName;
    }

    /** The algorithm as BIND's key files and tsig-keygen spell it ("hmac-sha256"). */
    public static TsigAlgorithm of(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        for (TsigAlgorithm a : values()) {
            if (a.text.equals(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown TSIG algorithm '" + name
                + "'; use hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512");
    }

    Name dnsName() {
        return dnsName;
    }

    @Override
    public String toString() {
        return text;
    }
}
