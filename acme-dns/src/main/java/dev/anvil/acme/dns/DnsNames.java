package dev.anvil.acme.dns;

import java.util.Locale;

/**
 * Checks and normalizes DNS names the way {@link DnsProvider} expects them: lowercase ASCII,
 * fully qualified, without the trailing dot. Labels are letters, digits, hyphens and
 * underscores (for {@code _acme-challenge}), 1 to 63 characters; the whole name at most 253.
 * Unicode names must be converted to punycode first (ACME identifiers already are).
 */
public final class DnsNames {

    private DnsNames() {
    }

    /**
     * The name in canonical form.
     *
     * @throws IllegalArgumentException naming the offending label and character
     */
    public static String normalize(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("DNS name is empty");
        }
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty()) {
            throw new IllegalArgumentException("DNS name '" + printable(name) + "' is the root, not a host or zone");
        }
        if (n.length() > 253) {
            throw new IllegalArgumentException("DNS name '" + printable(name) + "' is longer than 253 characters");
        }
        n = n.toLowerCase(Locale.ROOT);
        for (String label : n.split("\\.", -1)) {
            if (label.isEmpty()) {
                throw new IllegalArgumentException("DNS name '" + printable(name) + "' has an empty label");
            }
            if (label.length() > 63) {
                throw new IllegalArgumentException("DNS name '" + printable(name) + "': label '" + label
                        + "' is longer than 63 characters");
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                if (!ok) {
                    throw new IllegalArgumentException("DNS name '" + printable(name) + "' contains "
                            + describe(c) + " in label '" + printable(label)
                            + "'; only letters, digits, '-' and '_' are allowed (convert Unicode names to punycode)");
                }
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                throw new IllegalArgumentException("DNS name '" + printable(name) + "': label '" + label
                        + "' starts or ends with '-'");
            }
        }
        return n;
    }

    /** Whether {@code name} is {@code zone} or below it (both normalized). */
    public static boolean isAtOrBelow(String name, String zone) {
        return name.equals(zone) || name.endsWith("." + zone);
    }

    /** The name relative to the zone ("_acme-challenge.www" in "example.com"), "@" for the apex. */
    public static String relative(String name, String zone) {
        if (name.equals(zone)) {
            return "@";
        }
        if (!name.endsWith("." + zone)) {
            throw new IllegalArgumentException("'" + name + "' is not in zone '" + zone + "'");
        }
        return name.substring(0, name.length() - zone.length() - 1);
    }

    /** The parent ("example.com" for "www.example.com"), or null for a single label. */
    static String parent(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? null : name.substring(dot + 1);
    }

    private static String describe(char c) {
        if (c < 0x20 || c == 0x7f) {
            return String.format("control character U+%04X", (int) c);
        }
        if (c > 0x7e) {
            return String.format("non-ASCII character '%c' (U+%04X)", c, (int) c);
        }
        return "'" + c + "'";
    }

    /** Control characters escaped, so a hostile name cannot forge log lines. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().limit(300).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.toString();
    }
}
