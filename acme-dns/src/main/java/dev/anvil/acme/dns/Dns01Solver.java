package dev.anvil.acme.dns;

import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeInterruptedException;
import dev.anvil.acme.AcmeRetriesExhaustedException;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.retry.Attempt;
import dev.anvil.acme.retry.Backoff;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers dns-01 challenges (RFC 8555 section 8.4) through a {@link DnsProvider}:
 * <ul>
 *   <li>{@link #present}: follows a CNAME at {@code _acme-challenge.<name>} (delegated
 *       validation) to the name that really holds the record, finds its zone through the
 *       provider and adds the TXT value there;</li>
 *   <li>{@link #awaitReady}: waits until every authoritative server serves the value
 *       ({@link PropagationChecker}; can be disabled);</li>
 *   <li>{@link #cleanUp}: removes exactly that value, so the other challenge of a wildcard and
 *       apex pair, which shares the name, keeps its own.</li>
 * </ul>
 * Transient provider failures ({@link DnsProviderException#retryable()}, failed lookups) are
 * retried with the {@link Backoff}; it never retries in a tight loop (at least 100 ms apart).
 * Thread-safe: the engine may present several challenges at once.
 *
 * <pre>{@code
 * ChallengeSolver dns01 = Dns01Solver.builder(Rfc2136Provider.builder("ns1.example.com")
 *         .tsigKey("acme", secret).build()).build();
 * }</pre>
 */
public final class Dns01Solver implements ChallengeSolver {

    private static final Logger LOG = LoggerFactory.getLogger(Dns01Solver.class);
    private static final Duration MIN_DELAY = Duration.ofMillis(100);

    private final DnsProvider provider;
    private final PropagationChecker propagation;
    private final Backoff backoff;
    private final Duration ttl;
    private final boolean followCnames;
    private final Clock clock;
    private final Map<String, Published> published = new ConcurrentHashMap<>();

    private Dns01Solver(Builder b) {
        this.provider = b.provider;
        this.propagation = b.propagation != null ? b.propagation : PropagationChecker.defaults();
        this.backoff = b.backoff;
        this.ttl = b.ttl;
        this.followCnames = b.followCnames;
        this.clock = b.clock;
    }

    public static Builder builder(DnsProvider provider) {
        return new Builder(provider);
    }

    /** What {@link #present} published for one challenge, for {@link #cleanUp} and {@link #diagnose}. */
    private record Published(String recordName, String target, String zone, String value) {
    }

    @Override
    public List<String> types() {
        return List.of(Challenge.DNS_01);
    }

    /** DNS identifiers only: an IP address has no zone to publish in. */
    @Override
    public boolean supports(Identifier identifier, String type) {
        return Identifier.DNS.equals(identifier.type()) && Challenge.DNS_01.equals(type);
    }

    @Override
    public void present(ChallengeContext c) {
        String recordName = recordName(c);
        String value = c.dnsTxtValue();
        String target = followCnames ? retrying("CNAME lookup at " + recordName,
                () -> propagation.followCnames(recordName)) : recordName;
        if (!target.equals(recordName)) {
            LOG.info("dns-01 for {}: {} is a CNAME to {}; publishing there", c.identifier().value(), recordName, target);
        }
        String zone = retrying("finding the zone of " + target, () -> provider.findZone(target));
        if (!DnsNames.isAtOrBelow(target, DnsNames.normalize(zone))) {
            throw new AcmeException(provider + " returned zone " + zone + " for " + target + ", which does not hold it");
        }
        // Remember before adding: a timed-out add may still have landed, and cleanUp must remove it.
        published.put(key(c), new Published(recordName, target, zone, value));
        retrying("adding TXT at " + target, () -> {
            provider.addTxt(zone, target, value, ttl);
            return null;
        });
        LOG.info("dns-01 for {}{}: TXT published at {} in zone {}", c.wildcard() ? "*." : "", c.identifier().value(),
                target, zone);
    }

    @Override
    public void awaitReady(ChallengeContext c, Instant deadline) {
        Published p = published.get(key(c));
        if (p == null) {
            throw new IllegalStateException("awaitReady before present for " + c.identifier().value());
        }
        propagation.await(p.recordName(), p.value(), deadline); // follows the CNAME again, for messages that show it
    }

    @Override
    public void cleanUp(ChallengeContext c) {
        Published p = published.remove(key(c));
        if (p == null) {
            LOG.debug("dns-01 for {}: nothing was published, nothing to clean up", c.identifier().value());
            return;
        }
        retrying("removing TXT at " + p.target(), () -> {
            provider.removeTxt(p.zone(), p.target(), p.value());
            return null;
        });
        LOG.info("dns-01 for {}{}: TXT removed from {}", c.wildcard() ? "*." : "", c.identifier().value(), p.target());
    }

    @Override
    public String diagnose(ChallengeContext c, Problem problem) {
        Published p = published.get(key(c));
        if (p == null) {
            return null;
        }
        return "dns-01 for " + (c.wildcard() ? "*." : "") + c.identifier().value() + ": TXT \"" + p.value()
                + "\" was published at " + p.target()
                + (p.target().equals(p.recordName()) ? "" : " (CNAME target of " + p.recordName() + ")")
                + " in zone " + p.zone() + " via " + provider
                + (propagation.isEnabled() ? " and seen on every authoritative server" : ", propagation not checked");
    }

    /** {@code _acme-challenge.<base name>}, validated; the wildcard's "*." is not part of it. */
    private static String recordName(ChallengeContext c) {
        Identifier id = c.identifier();
        if (!Identifier.DNS.equals(id.type())) {
            throw new IllegalArgumentException("dns-01 needs a DNS identifier, not " + id.type() + " '"
                    + DnsNames.printable(id.value()) + "'");
        }
        String base = id.value().startsWith("*.") ? id.value().substring(2) : id.value();
        try {
            return DnsNames.normalize("_acme-challenge." + base);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dns-01 cannot be solved for '" + DnsNames.printable(id.value())
                    + "': " + e.getMessage(), e);
        }
    }

    private static String key(ChallengeContext c) {
        return c.challenge().url() != null ? c.challenge().url() : c.identifier().value() + " " + c.token();
    }

    /** Runs the step, retrying transient failures as the backoff says. */
    private <T> T retrying(String step, Supplier<T> call) {
        Instant first = clock.instant();
        for (int attempt = 1; ; attempt++) {
            AcmeException failure;
            Cause cause;
            try {
                return call.get();
            } catch (DnsProviderException e) {
                if (!e.retryable()) {
                    throw e;
                }
                failure = e;
                cause = e.retryAfter().isPresent() ? Cause.RATE_LIMITED
                        : e.getCause() instanceof IOException ? Cause.TRANSPORT : Cause.SERVER_ERROR;
            } catch (DnsLookupException e) {
                failure = e;
                cause = Cause.TRANSPORT;
            }
            Instant now = clock.instant();
            Optional<Duration> delay = backoff.next(new Attempt(attempt, Duration.between(first, now), cause,
                    failure.retryAfter().orElse(null), now, failure));
            if (delay.isEmpty()) {
                throw new AcmeRetriesExhaustedException(step, attempt, failure);
            }
            Duration d = delay.get().compareTo(MIN_DELAY) < 0 ? MIN_DELAY : delay.get();
            LOG.info("{} failed ({}); retry {} in {} ms", step, failure.getMessage(), attempt, d.toMillis());
            try {
                Thread.sleep(d.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AcmeInterruptedException("interrupted while waiting to retry " + step, e);
            }
        }
    }

    @Override
    public String toString() {
        return "Dns01Solver[" + provider + ", " + propagation + "]";
    }

    /** Settings of a {@link Dns01Solver}. */
    public static final class Builder {
        private final DnsProvider provider;
        private PropagationChecker propagation;
        private Backoff backoff = DefaultBackoff.defaults();
        private Duration ttl = Duration.ofSeconds(60);
        private boolean followCnames = true;
        private Clock clock = Clock.systemUTC();

        private Builder(DnsProvider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
        }

        /** The propagation check, which also resolves CNAMEs. Default {@link PropagationChecker#defaults()}. */
        public Builder propagation(PropagationChecker checker) {
            this.propagation = Objects.requireNonNull(checker, "checker");
            return this;
        }

        /** Retries of transient provider failures. Default {@link DefaultBackoff#defaults()}. */
        public Builder backoff(Backoff b) {
            this.backoff = Objects.requireNonNull(b, "backoff");
            return this;
        }

        /** TTL of the TXT records. Default 60 s: short, so a stale negative answer does not linger. */
        public Builder ttl(Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("ttl must not be negative: " + d);
            }
            this.ttl = d;
            return this;
        }

        /** Whether to follow a CNAME at {@code _acme-challenge.<name>}. Default true. */
        public Builder followCnames(boolean on) {
            this.followCnames = on;
            return this;
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        public Dns01Solver build() {
            return new Dns01Solver(this);
        }
    }
}
