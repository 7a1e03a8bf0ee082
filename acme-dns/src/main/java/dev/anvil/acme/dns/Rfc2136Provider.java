package dev.anvil.acme.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Update;

/**
 * Publishes TXT records by DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), against BIND,
 * Knot, PowerDNS and other primaries. Adds and deletes single records, never whole RRsets, so
 * several challenges can share a name. The zone is found by SOA queries sent to the server.
 *
 * <pre>{@code
 * DnsProvider dns = Rfc2136Provider.builder("ns1.example.com:53")
 *         .tsigKey("acme-key", System.getenv("TSIG_SECRET"))   // base64, as in BIND's key file
 *         .algorithm(TsigAlgorithm.HMAC_SHA256)
 *         .build();
 * }</pre>
 *
 * The secret stays in this object: it never appears in {@code toString()}, logs or errors.
 * Immutable and thread-safe.
 */
public final class Rfc2136Provider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(Rfc2136Provider.class);

    static final String KEY_REJECTED = "TSIG key rejected (wrong key name, secret or algorithm)";
    static final String REFUSED = "server refused the update (check allow-update/update-policy)";

    private final InetSocketAddress server;
    private final String keyName;
    private final byte[] secret;
    private final TsigAlgorithm algorithm;
    private final Duration timeout;
    private final boolean tcp;

    private Rfc2136Provider(Builder b) {
        this.server = b.server;
        this.keyName = b.keyName;
        this.secret = b.secret == null ? null : b.secret.clone(); // the builder may be reused with another key
        this.algorithm = b.algorithm;
        this.timeout = b.timeout;
        this.tcp = b.tcp;
    }

    /** A provider for the primary at "host:port" (port 53 when omitted). */
    public static Builder builder(String serverHostPort) {
        return new Builder(DnsQueries.hostPort(serverHostPort, 53));
    }

    public static Builder builder(InetSocketAddress server) {
        return new Builder(Objects.requireNonNull(server, "server"));
    }

    @Override
    public String findZone(String name) {
        String n = DnsNames.normalize(name);
        String zone;
        try {
            zone = DnsQueries.zoneBySoa((q, type) -> {
                Message m = send(Message.newQuery(org.xbill.DNS.Record.newRecord(DnsQueries.name(q), type,
                        org.xbill.DNS.DClass.IN)), "SOA query for " + q);
                int rcode = m.getRcode();
                if (isTsigFailure(m) || rcode == Rcode.SERVFAIL) {
                    check(m, "SOA query for " + q);
                }
                return m; // REFUSED and NXDOMAIN without SOA: this server has no zone here, go up
            }, n);
        } catch (IOException e) {
            throw transport("SOA query for " + n, e);
        }
        if (zone == null) {
            throw new DnsProviderException("no zone on " + DnsQueries.label(server) + " holds " + n
                    + ": the server answered no SOA for it or any parent (is it a primary for that zone?)");
        }
        LOG.debug("zone of {} on {}: {}", n, DnsQueries.label(server), zone);
        return zone;
    }

    @Override
    public void addTxt(String zone, String name, String value, Duration ttl) {
        String z = DnsNames.normalize(zone);
        String n = inZone(name, z);
        Update u = new Update(DnsQueries.name(z));
        u.add(DnsQueries.txt(n, value, Math.max(0, ttl == null ? 60 : ttl.toSeconds())));
        String what = "adding TXT at " + n + " in zone " + z;
        check(send(u, what), what);
        LOG.info("RFC 2136: added TXT at {} in zone {} on {}", n, z, DnsQueries.label(server));
    }

    @Override
    public void removeTxt(String zone, String name, String value) {
        String z = DnsNames.normalize(zone);
        String n = inZone(name, z);
        Update u = new Update(DnsQueries.name(z));
        // Class NONE, TTL 0: deletes exactly this record (RFC 2136 section 2.5.4); others at the name stay.
        u.delete(DnsQueries.txt(n, value, 0));
        String what = "removing TXT at " + n + " in zone " + z;
        check(send(u, what), what);
        LOG.info("RFC 2136: removed TXT at {} in zone {} on {}", n, z, DnsQueries.label(server));
    }

    private static String inZone(String name, String zone) {
        String n = DnsNames.normalize(name);
        if (!DnsNames.isAtOrBelow(n, zone)) {
            throw new IllegalArgumentException(n + " is not in zone " + zone);
        }
        return n;
    }

    private Message send(Message m, String what) {
        SimpleResolver r = new SimpleResolver(server);
        r.setTimeout(timeout);
        r.setTCP(tcp);
        if (secret != null) {
            r.setTSIGKey(tsig());
        }
        try {
            return r.send(m);
        } catch (IOException e) {
            throw transport(what, e);
        }
    }

    private TSIG tsig() {
        try {
            return new TSIG(algorithm.dnsName(), Name.fromString(keyName + "."), secret.clone());
        } catch (TextParseException e) {
            throw new IllegalStateException("invalid key name", e); // validated by the builder
        }
    }

    private DnsProviderException transport(String what, IOException e) {
        String why = e instanceof SocketTimeoutException ? "no answer within " + timeout.toMillis() + " ms"
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        return new DnsProviderException(what + " on " + DnsQueries.label(server) + " failed: " + why, true, null, e);
    }

    private boolean isTsigFailure(Message m) {
        TSIGRecord t = m.getTSIG();
        return m.getRcode() == Rcode.NOTAUTH || (t != null && t.getError() != Rcode.NOERROR);
    }

    /** Maps the response code to an error; returns when the server accepted the request. */
    private void check(Message m, String what) {
        int rcode = m.getRcode();
        TSIGRecord t = m.getTSIG();
        int tsigError = t == null ? Rcode.NOERROR : t.getError();
        String where = " (" + what + " on " + DnsQueries.label(server) + ": " + Rcode.string(rcode)
                + (tsigError != Rcode.NOERROR ? ", TSIG error " + Rcode.TSIGstring(tsigError) : "") + ")";
        if (tsigError == Rcode.BADTIME) {
            throw new DnsProviderException("TSIG time check failed: this machine's clock and the server's differ by"
                    + " more than " + TSIG.FUDGE.toSeconds() + " s" + where);
        }
        if (rcode == Rcode.NOTAUTH || tsigError != Rcode.NOERROR) {
            String hint = secret == null ? "; the server may require a TSIG key, or is not authoritative for the zone"
                    : "";
            throw new DnsProviderException(KEY_REJECTED + hint + where);
        }
        switch (rcode) {
            case Rcode.NOERROR -> {
                if (secret != null && !m.isVerified()) {
                    throw new DnsProviderException("the server's answer is not signed with the TSIG key, or its"
                            + " signature does not verify" + where);
                }
                return;
            }
            case Rcode.REFUSED -> throw new DnsProviderException(REFUSED + where);
            case Rcode.SERVFAIL -> throw new DnsProviderException("server failed to process the request, retrying"
                    + " may help" + where, true, null, null);
            case Rcode.NOTZONE -> throw new DnsProviderException("the name is outside the zone" + where);
            case Rcode.FORMERR, Rcode.NOTIMP -> throw new DnsProviderException(
                    "the server does not accept this dynamic update" + where);
            default -> throw new DnsProviderException("the server rejected the request" + where);
        }
    }

    @Override
    public String toString() {
        return "Rfc2136Provider[" + DnsQueries.label(server) + (secret == null ? ", unsigned"
                : ", key " + keyName + " " + algorithm) + "]";
    }

    /** Settings of an {@link Rfc2136Provider}. */
    public static final class Builder {
        private final InetSocketAddress server;
        private String keyName;
        private byte[] secret;
        private TsigAlgorithm algorithm = TsigAlgorithm.HMAC_SHA256;
        private Duration timeout = Duration.ofSeconds(10);
        private boolean tcp;

        private Builder(InetSocketAddress server) {
            this.server = server;
        }

        /**
         * Signs every request with this TSIG key: its name and base64 secret, as in BIND's
         * {@code key "name" { secret "..."; };}. Without a key, requests go unsigned (servers
         * that allow updates by address).
         */
        public Builder tsigKey(String name, String base64Secret) {
            Objects.requireNonNull(name, "key name");
            Objects.requireNonNull(base64Secret, "secret");
            String n = DnsNames.normalize(name);
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(base64Secret.strip());
            } catch (IllegalArgumentException e) {
                // The decoder's message would quote the offending character of the secret.
                throw new IllegalArgumentException("the TSIG secret of key " + n + " is not valid base64");
            }
            if (decoded.length == 0) {
                throw new IllegalArgumentException("the TSIG secret of key " + n + " is empty");
            }
            if (secret != null) {
                Arrays.fill(secret, (byte) 0);
            }
            this.keyName = n;
            this.secret = decoded;
            return this;
        }

        /** Default hmac-sha256. */
        public Builder algorithm(TsigAlgorithm a) {
            this.algorithm = Objects.requireNonNull(a, "algorithm");
            return this;
        }

        /** How long to wait for each answer. Default 10 s. */
        public Builder timeout(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + d);
            }
            this.timeout = d;
            return this;
        }

        /** Sends over TCP instead of UDP. Default false (dnsjava still retries truncated answers over TCP). */
        public Builder tcp(boolean on) {
            this.tcp = on;
            return this;
        }

        public Rfc2136Provider build() {
            return new Rfc2136Provider(this);
        }

        @Override
        public String toString() {
            return "Rfc2136Provider.Builder[" + DnsQueries.label(server) + "]";
        }
    }
}
