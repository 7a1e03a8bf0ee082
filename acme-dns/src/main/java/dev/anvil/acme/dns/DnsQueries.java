package dev.anvil.acme.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** dnsjava plumbing shared by the propagation check and the RFC 2136 provider; keeps dnsjava types out of the API. */
final class DnsQueries {

    /** Sends one question and returns the answer; the caller interprets the rcode. */
    @FunctionalInterface
    interface Querier {
        Message query(String name, int type) throws IOException;
    }

    private DnsQueries() {
    }

    /** The absolute dnsjava name of a normalized name. */
    static Name name(String normalized) {
        try {
            return Name.fromString(normalized + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("invalid DNS name '" + DnsNames.printable(normalized) + "'", e);
        }
    }

    /** Lowercase, without the trailing dot. */
    static String text(Name name) {
        return name.toString(true).toLowerCase(Locale.ROOT);
    }

    static Message query(Resolver resolver, String name, int type, boolean recursionDesired) throws IOException {
        Message m = Message.newQuery(Record.newRecord(name(name), type, DClass.IN));
        if (!recursionDesired) {
            // Authoritative servers answer from their own data; RD would only invite a cached answer.
            m.getHeader().unsetFlag(Flags.RD);
        }
        return resolver.send(m);
    }

    /**
     * The apex of the zone holding {@code name}: SOA queries from the name upwards. An answer
     * with the SOA at the queried name, or a negative answer whose authority section carries the
     * zone's SOA, ends the walk. Null when no name up to the top-level label belongs to a zone.
     */
    static String zoneBySoa(Querier querier, String name) throws IOException {
        for (String n = name; n != null; n = DnsNames.parent(n)) {
            Message m = querier.query(n, Type.SOA);
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r.getType() == Type.SOA && text(r.getName()).equals(n)) {
                    return n;
                }
            }
            for (Record r : m.getSection(Section.AUTHORITY)) {
                if (r.getType() == Type.SOA && DnsNames.isAtOrBelow(n, text(r.getName()))) {
                    return text(r.getName());
                }
            }
        }
        return null;
    }

    /** The TXT values at {@code name} in the answer section, each record's strings joined. */
    static List<String> txtValues(Message m, String name) {
        List<String> values = new ArrayList<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof TXTRecord t && text(t.getName()).equals(name)) {
                values.add(String.join("", t.getStrings()));
            }
        }
        return values;
    }

    /** A TXT record for one value, split into 255-byte strings as RFC 1035 requires. */
    static TXTRecord txt(String name, String value, long ttlSeconds) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < value.length(); i += 255) {
            parts.add(value.substring(i, Math.min(value.length(), i + 255)));
        }
        if (parts.isEmpty()) {
            parts.add("");
        }
        return new TXTRecord(name(name), DClass.IN, ttlSeconds, parts);
    }

    /** "host:port", "[v6]:port", or a bare host with the default port. Resolves the host. */
    static InetSocketAddress hostPort(String s, int defaultPort) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("server address is empty");
        }
        String t = s.strip();
        String host = t;
        int port = defaultPort;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("bad server address '" + t + "': missing ']'");
            }
            host = t.substring(1, close);
            if (t.length() > close + 1) {
                if (t.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad server address '" + t + "'");
                }
                port = port(t.substring(close + 2), t);
            }
        } else if (t.indexOf(':') >= 0 && t.indexOf(':') == t.lastIndexOf(':')) {
            host = t.substring(0, t.indexOf(':'));
            port = port(t.substring(t.indexOf(':') + 1), t);
        }
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("cannot resolve server host '" + host + "'");
        }
        return a;
    }

    private static int port(String p, String whole) {
        try {
            int port = Integer.parseInt(p);
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in server address '" + whole + "'");
        }
    }

    /** "127.0.0.1:53", "[::1]:53". */
    static String label(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
