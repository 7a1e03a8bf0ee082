package dev.anvil.acme.dns;

import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeInterruptedException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Waits until a dns-01 TXT value is served by every authoritative server of its zone, so the
 * CA is not asked to validate before its resolver can see the record:
 * <ol>
 *   <li>follow the CNAME chain at the record name (delegated validation) through the resolver;</li>
 *   <li>find the zone of the target by SOA, its NS set, and each name server's addresses;</li>
 *   <li>ask every name server directly (no recursion; UDP, TCP when the answer is truncated)
 *       every {@code interval} until each serves the exact value; NXDOMAIN, SERVFAIL and timeouts
 *       mean "not yet";</li>
 *   <li>after {@code timeout} fail with a {@link DnsPropagationException} naming the laggards.</li>
 * </ol>
 * A name server counts as one server: its addresses are tried in order (IPv4 first) and the
 * first that answers decides, so a host without IPv6 connectivity still works.
 *
 * <p>The resolver (for CNAME, SOA, NS and address lookups) is the system's unless set; where
 * the direct queries go is configurable ({@link Builder#authoritativePort},
 * {@link Builder#authoritativeServers}) for test servers on other ports and split-horizon setups.
 * Immutable and thread-safe.
 */
public final class PropagationChecker {

    private static final Logger LOG = LoggerFactory.getLogger(PropagationChecker.class);

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);
    public static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(3);
    private static final int MAX_CNAME_HOPS = 8;

    private final boolean enabled;
    private final Duration interval;
    private final Duration timeout;
    private final Duration queryTimeout;
    private final InetSocketAddress resolverAddress;
    private final BiFunction<String, InetAddress, InetSocketAddress> authoritative;
    private final Clock clock;
    private final Resolver resolver;

    private PropagationChecker(Builder b) {
        this.enabled = b.enabled;
        this.interval = b.interval;
        this.timeout = b.timeout;
        this.queryTimeout = b.queryTimeout;
        this.resolverAddress = b.resolver;
        this.authoritative = b.authoritative;
        this.clock = b.clock;
        if (resolverAddress != null) {
            SimpleResolver r = new SimpleResolver(resolverAddress);
            r.setTimeout(queryTimeout);
            this.resolver = r;
        } else {
            ExtendedResolver r = new ExtendedResolver(); // the system's servers (resolv.conf and the like)
            r.setTimeout(queryTimeout);
            this.resolver = r;
        }
    }

    /** Enabled, the system resolver, 2 s interval, 120 s timeout. */
    public static PropagationChecker defaults() {
        return builder().build();
    }

    /** Never waits; CNAMEs are still followed through the system resolver. */
    public static PropagationChecker disabled() {
        return builder().enabled(false).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Where TXT records for {@code name} must be written: the end of its CNAME chain
     * ({@code _acme-challenge.example.com CNAME _acme-challenge.validation.example.net}), or the
     * name itself when it has no CNAME. Works whether or not the check is enabled.
     *
     * @throws DnsLookupException when the resolver fails (timeout, SERVFAIL); worth retrying
     * @throws AcmeException on a CNAME loop or an overlong chain
     */
    public String followCnames(String name) {
        String current = DnsNames.normalize(name);
        Set<String> chain = new LinkedHashSet<>();
        chain.add(current);
        for (int hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
            Message m = lookup(current, Type.CNAME);
            String next = null;
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof CNAMERecord c && DnsQueries.text(c.getName()).equals(current)) {
                    next = DnsQueries.text(c.getTarget());
                }
            }
            if (next == null) {
                if (chain.size() > 1) {
                    LOG.debug("CNAME chain {}", String.join(" -> ", chain));
                }
                return current;
            }
            if (!chain.add(next)) {
                throw new AcmeException("CNAME loop at " + name + ": " + String.join(" -> ", chain) + " -> " + next);
            }
            current = next;
        }
        throw new AcmeException("CNAME chain from " + name + " is longer than " + MAX_CNAME_HOPS + " hops: "
                + String.join(" -> ", chain));
    }

    /**
     * Blocks until every authoritative server serves {@code value} at {@code name} (after its
     * CNAMEs), or until the timeout or {@code deadline} (may be null), whichever is first.
     * Returns at once when disabled.
     *
     * @throws DnsPropagationException on timeout, naming the servers that lag and their last answer
     * @throws AcmeInterruptedException when interrupted
     */
    public void await(String name, String value, Instant deadline) {
        Objects.requireNonNull(value, "value");
        String start = DnsNames.normalize(name);
        if (!enabled) {
            LOG.debug("propagation check disabled; not waiting for {}", start);
            return;
        }
        Instant begin = clock.instant();
        Instant end = begin.plus(timeout);
        if (deadline != null && deadline.isBefore(end)) {
            end = deadline;
        }
        String target = null;
        String zone = null;
        List<Nameserver> servers = null;
        List<Observation> lagging = List.of();
        String lookupProblem = null;
        for (int round = 1; ; round++) {
            try {
                if (target == null) {
                    target = followCnames(start);
                }
                if (servers == null) {
                    zone = zoneOf(target);
                    servers = nameservers(zone);
                    LOG.debug("zone {} of {}: name servers {}", zone, target, servers);
                }
                lookupProblem = null;
                List<Observation> observed = probeAll(servers, target, value);
                lagging = observed.stream().filter(o -> !o.served()).toList();
                if (lagging.isEmpty()) {
                    LOG.info("TXT at {} is served by every name server of {} ({}) after {} ms ({} round{})", target,
                            zone, servers.size(), Duration.between(begin, clock.instant()).toMillis(), round,
                            round == 1 ? "" : "s");
                    return;
                }
                LOG.debug("round {}: waiting for {}", round, lagging);
            } catch (DnsLookupException e) {
                lookupProblem = e.getMessage();
                LOG.debug("round {}: {}", round, lookupProblem);
            }
            Instant now = clock.instant();
            if (!now.isBefore(end)) {
                throw timedOut(start, target, zone, value, Duration.between(begin, now), lagging, lookupProblem);
            }
            Duration wait = Duration.between(now, end);
            sleep(wait.compareTo(interval) < 0 ? wait : interval);
        }
    }

    private DnsPropagationException timedOut(String start, String target, String zone, String value, Duration waited,
                                             List<Observation> lagging, String lookupProblem) {
        String at = target == null || target.equals(start) ? start : start + " (CNAME to " + target + ")";
        List<String> names = lagging.stream().map(Observation::describe).toList();
        String why;
        if (lookupProblem != null) {
            why = lookupProblem;
        } else {
            why = "not served yet by " + String.join("; ", names);
        }
        return new DnsPropagationException("TXT value \"" + value + "\" at " + at + " did not reach every authoritative"
                + " server" + (zone == null ? "" : " of zone " + zone) + " within " + waited.toMillis() + " ms: " + why,
                target == null ? start : target, names);
    }

    // ---- discovery ----

    private String zoneOf(String name) {
        String zone;
        try {
            zone = DnsQueries.zoneBySoa(this::lookup, name);
        } catch (IOException e) {
            throw new IllegalStateException(e); // lookup() reports transport failures as DnsLookupException
        }
        if (zone == null) {
            throw new DnsLookupException("no zone (SOA) found for " + name + " via " + resolverLabel(), null);
        }
        return zone;
    }

    private List<Nameserver> nameservers(String zone) {
        Message m = lookup(zone, Type.NS);
        List<String> names = new ArrayList<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof NSRecord ns && DnsQueries.text(ns.getName()).equals(zone)) {
                names.add(DnsQueries.text(ns.getTarget()));
            }
        }
        if (names.isEmpty()) {
            throw new DnsLookupException("zone " + zone + " has no NS records via " + resolverLabel() + " ("
                    + Rcode.string(m.getRcode()) + ")", null);
        }
        List<Nameserver> servers = new ArrayList<>();
        for (String ns : names.stream().sorted().distinct().toList()) {
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (int type : new int[] {Type.A, Type.AAAA}) {
                for (Record r : lookup(ns, type).getSection(Section.ANSWER)) {
                    InetAddress a = r instanceof ARecord ar ? ar.getAddress()
                            : r instanceof AAAARecord aaaa ? aaaa.getAddress() : null;
                    if (a != null) {
                        addresses.add(Objects.requireNonNull(authoritative.apply(ns, a),
                                "authoritativeServers mapping returned null for " + ns));
                    }
                }
            }
            servers.add(new Nameserver(ns, List.copyOf(addresses)));
        }
        return servers;
    }

    /** A resolver query; SERVFAIL and transport failures become {@link DnsLookupException}. */
    private Message lookup(String name, int type) {
        Message m;
        try {
            m = DnsQueries.query(resolver, name, type, true);
        } catch (IOException e) {
            throw new DnsLookupException(Type.string(type) + " lookup of " + name + " via " + resolverLabel()
                    + " failed: " + describe(e), e);
        }
        if (m.getRcode() == Rcode.SERVFAIL) {
            throw new DnsLookupException(Type.string(type) + " lookup of " + name + " via " + resolverLabel()
                    + " answered SERVFAIL", null);
        }
        return m;
    }

    private String resolverLabel() {
        return resolverAddress == null ? "the system resolver" : "resolver " + DnsQueries.label(resolverAddress);
    }

    // ---- direct queries ----

    private List<Observation> probeAll(List<Nameserver> servers, String target, String value) {
        List<CompletableFuture<Observation>> futures = new ArrayList<>();
        for (Nameserver s : servers) {
            futures.add(probe(s, 0, target, value));
        }
        int maxAddresses = servers.stream().mapToInt(s -> s.addresses().size()).max().orElse(1);
        // Each address gets its query timeout (UDP, then TCP when truncated), plus slack.
        long budget = queryTimeout.toMillis() * 2L * Math.max(1, maxAddresses) + 500;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budget);
        List<Observation> result = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            Nameserver s = servers.get(i);
            try {
                long left = Math.max(0, until - System.nanoTime());
                result.add(futures.get(i).get(left, TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                futures.get(i).cancel(true);
                result.add(new Observation(s, null, false, false, "no answer within " + budget + " ms"));
            } catch (ExecutionException e) {
                result.add(new Observation(s, null, false, false, describe(e.getCause())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AcmeInterruptedException("interrupted while checking DNS propagation", e);
            }
        }
        return result;
    }

    /** Asks address {@code i} of the server; an address that does not answer hands over to the next. */
    private CompletableFuture<Observation> probe(Nameserver s, int i, String target, String value) {
        if (s.addresses().isEmpty()) {
            return CompletableFuture.completedFuture(new Observation(s, null, false, false, "has no address (A/AAAA)"));
        }
        InetSocketAddress address = s.addresses().get(i);
        SimpleResolver r = new SimpleResolver(address);
        r.setTimeout(queryTimeout);
        Message q;
        try {
            q = Message.newQuery(Record.newRecord(DnsQueries.name(target), Type.TXT, org.xbill.DNS.DClass.IN));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        q.getHeader().unsetFlag(Flags.RD);
        return r.sendAsync(q).toCompletableFuture()
                .handle((m, err) -> err != null
                        ? new Observation(s, address, false, true, describe(err))
                        : judge(s, address, m, target, value))
                .thenCompose(o -> o.unreachable() && i + 1 < s.addresses().size()
                        ? probe(s, i + 1, target, value) : CompletableFuture.completedFuture(o));
    }

    private static Observation judge(Nameserver s, InetSocketAddress a, Message m, String target, String value) {
        int rcode = m.getRcode();
        if (rcode != Rcode.NOERROR) {
            String state = Rcode.string(rcode) + (rcode == Rcode.REFUSED ? " (does it serve the zone?)" : "");
            return new Observation(s, a, false, false, state);
        }
        if (!m.getHeader().getFlag(Flags.AA)) {
            return new Observation(s, a, false, false, "not authoritative for " + target);
        }
        List<String> values = DnsQueries.txtValues(m, target);
        if (values.contains(value)) {
            return new Observation(s, a, true, false, "serves the value");
        }
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof CNAMERecord c) {
                return new Observation(s, a, false, false, "CNAME to " + DnsQueries.text(c.getTarget()));
            }
        }
        return new Observation(s, a, false, false, values.isEmpty() ? "no TXT record"
                : "TXT without the value (" + values.size() + " other value" + (values.size() == 1 ? "" : "s") + ")");
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof SocketTimeoutException || t instanceof TimeoutException) {
            return "timeout";
        }
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AcmeInterruptedException("interrupted while waiting for DNS propagation", e);
        }
    }

    @Override
    public String toString() {
        return enabled ? "PropagationChecker[every " + interval.toMillis() + " ms for " + timeout.toSeconds() + " s via "
                + resolverLabel() + "]" : "PropagationChecker[disabled]";
    }

    /** One NS host and where to query it. */
    private record Nameserver(String name, List<InetSocketAddress> addresses) {
        @Override
        public String toString() {
            return name + addresses.stream().map(DnsQueries::label).toList();
        }
    }

    /** What one server answered in one round. */
    private record Observation(Nameserver server, InetSocketAddress address, boolean served, boolean unreachable,
                               String state) {
        String describe() {
            return server.name() + " (" + (address == null
                    ? server.addresses().stream().map(DnsQueries::label).reduce((x, y) -> x + ", " + y).orElse("no address")
                    : DnsQueries.label(address)) + "): " + state;
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /** Settings of a {@link PropagationChecker}. */
    public static final class Builder {
        private boolean enabled = true;
        private Duration interval = DEFAULT_INTERVAL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration queryTimeout = DEFAULT_QUERY_TIMEOUT;
        private InetSocketAddress resolver;
        private BiFunction<String, InetAddress, InetSocketAddress> authoritative = (ns, a) -> new InetSocketAddress(a, 53);
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** Whether {@link PropagationChecker#await} waits at all. Default true. */
        public Builder enabled(boolean on) {
            this.enabled = on;
            return this;
        }

        /** Pause between rounds of queries. Default 2 s. */
        public Builder interval(Duration d) {
            this.interval = positive(d, "interval");
            return this;
        }

        /** How long to wait in total before failing. Default 120 s. */
        public Builder timeout(Duration d) {
            this.timeout = positive(d, "timeout");
            return this;
        }

        /** How long one query may take. Default 3 s. */
        public Builder queryTimeout(Duration d) {
            this.queryTimeout = positive(d, "query timeout");
            return this;
        }

        /** The resolver for CNAME, SOA, NS and address lookups. Default: the system's. */
        public Builder resolver(InetSocketAddress address) {
            this.resolver = Objects.requireNonNull(address, "address");
            return this;
        }

        /** The resolver as "host:port" ("[::1]:53"; port 53 when omitted). */
        public Builder resolver(String hostPort) {
            return resolver(DnsQueries.hostPort(hostPort, 53));
        }

        /** Sends the direct queries to each name server's addresses on this port instead of 53. */
        public Builder authoritativePort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            return authoritativeServers((ns, a) -> new InetSocketAddress(a, port));
        }

        /**
         * Where to send the direct queries for a name server, given its host name (lowercase,
         * no trailing dot) and one of its addresses. Default: that address, port 53.
         */
        public Builder authoritativeServers(BiFunction<String, InetAddress, InetSocketAddress> mapping) {
            this.authoritative = Objects.requireNonNull(mapping, "mapping");
            return this;
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        public PropagationChecker build() {
            return new PropagationChecker(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }
    }
}
