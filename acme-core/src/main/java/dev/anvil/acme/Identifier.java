package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.net.IDN;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.util.IPAddress;

/** An identifier in an order or authorization (RFC 8555 section 7.1.3; IP identifiers RFC 8738). */
public record Identifier(String type, String value) {

    public static final String DNS = "dns";
    public static final String IP = "ip";

    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

    public Identifier {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
    }

    /** A DNS identifier; Unicode names become their ASCII (punycode) form. Wildcards only as "*." prefix. */
    public static Identifier dns(String name) {
        return new Identifier(DNS, normalizeDomain(name));
    }

    /** An IP identifier (RFC 8738) from a textual IPv4 or IPv6 address; no DNS lookup is made. */
    public static Identifier ip(String address) {
        String a = address == null ? "" : address.trim();
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (!IPAddress.isValid(a)) {
            throw new IllegalArgumentException("not an IP address: '" + address + "'");
        }
        try {
            // A validated literal: getByName parses it without any lookup.
            return ip(InetAddress.getByName(a));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: '" + address + "'", e);
        }
    }

    public static Identifier ip(InetAddress address) {
        return new Identifier(IP, canonicalIp(address));
    }

    /** An IP identifier when the text is an IP address, a DNS identifier otherwise. */
    public static Identifier of(String nameOrAddress) {
        String t = nameOrAddress == null ? "" : nameOrAddress.trim();
        return IPAddress.isValid(t) || (t.startsWith("[") && t.endsWith("]")) ? ip(t) : dns(t);
    }

    /** Not part of the JSON: an identifier object on the wire is only {@code type} and {@code value}. */
    @JsonIgnore
    public boolean isWildcard() {
        return DNS.equals(type) && value.startsWith("*.");
    }

    static String normalizeDomain(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("domain name is empty");
        }
        String n = name.trim();
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        boolean wildcard = n.startsWith("*.");
        String base = wildcard ? n.substring(2) : n;
        String ascii;
        try {
            ascii = IDN.toASCII(base, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid domain name '" + printable(name) + "': " + e.getMessage(), e);
        }
        // The "*." of a wildcard is a label too: it counts towards the 253-character limit.
        if (ascii.isEmpty() || ascii.length() + (wildcard ? 2 : 0) > 253) {
            throw new IllegalArgumentException("invalid domain name '" + printable(name) + "': length must be 1 to 253");
        }
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) {
            throw new IllegalArgumentException("invalid domain name '" + printable(name) + "': needs at least two labels");
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("invalid domain name '" + printable(name)
                        + "': label '" + label + "' must be 1 to 63 letters, digits or inner hyphens");
            }
        }
        // RFC 3696 section 2: a top-level label is never all-numeric; "1.2.3.4" is an IP, not a name.
        if (labels[labels.length - 1].chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("invalid domain name '" + printable(name)
                    + "': the last label is all-numeric (use an IP identifier for IP addresses)");
        }
        return wildcard ? "*." + ascii : ascii;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(300).forEach(c -> {
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    /** IPv4 dotted quad; IPv6 in the RFC 5952 form (lowercase, longest zero run compressed). */
    static String canonicalIp(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 4) {
            return address.getHostAddress();
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(groups[i]));
        }
        return s.toString();
    }
}
