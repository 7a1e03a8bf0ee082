package dev.anvil.acme.renewal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeInterruptedException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.RenewalInfo;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.Store;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps managed certificates valid with no operator. For each one it decides when to renew
 * (a uniform random moment in the CA's ARI window, RFC 9773; without ARI at a fraction of the
 * lifetime, two thirds by default), renews through the {@link IssuanceEngine} (so retries,
 * resume and failover apply, and the order {@code replaces} the old certificate), retries
 * failures on a long, bounded schedule (minutes growing to hours, never a hot loop), persists
 * its plan in the {@link Store} so a restart carries on, and hands each new certificate and key
 * to the application's callback. Warns through {@link RenewalEvent.ExpiringSoon} when a
 * certificate nears expiry with no successful renewal.
 *
 * <p>Runs on an application-provided {@link ScheduledExecutorService} or on its own daemon
 * thread; {@link #runDueWork()} does one pass and may be driven directly (tests, cron-style jobs).
 * Certificates are renewed one at a time.
 */
public final class RenewalManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RenewalManager.class);
    private static final Duration ARI_MIN = Duration.ofMinutes(1);
    private static final Duration ARI_MAX = Duration.ofDays(1);
    private static final Duration ARI_LONG_TERM_ERROR = Duration.ofHours(6);
    private static final Duration MAX_SLEEP = Duration.ofHours(1);

    private final IssuanceEngine engine;
    private final Store store;
    private final Clock clock;
    private final RandomGenerator random;
    private final RenewalListener listener;
    private final double lifetimeFraction;
    private final Duration retryInitial;
    private final Duration retryMax;
    private final List<Duration> warnings;
    private final ScheduledExecutorService executor;
    private final boolean ownExecutor;
    private final Map<String, ManagedCertificate> managed = new ConcurrentHashMap<>();
    /** Guards {@link #next}; not the manager's monitor, which a pass holds for as long as a renewal takes. */
    private final Object scheduling = new Object();
    private ScheduledFuture<?> next;
    private volatile boolean closed;

    private RenewalManager(Builder b) {
        this.engine = b.engine;
        this.store = b.store;
        this.clock = b.clock;
        this.random = b.random;
        this.listener = b.listener;
        this.lifetimeFraction = b.lifetimeFraction;
        this.retryInitial = b.retryInitial;
        this.retryMax = b.retryMax;
        this.warnings = b.warnings.stream().sorted(Comparator.reverseOrder()).toList();
        this.ownExecutor = b.executor == null;
        this.executor = b.executor != null ? b.executor : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "anvil-renewal");
            t.setDaemon(true);
            return t;
        });
    }

    /** The engine must use the same store, so the manager finds the certificates it stores. */
    public static Builder builder(IssuanceEngine engine, Store store) {
        return new Builder(engine, store);
    }

    /** Adds a certificate to keep valid; it is examined on the next pass. */
    public RenewalManager manage(ManagedCertificate certificate) {
        managed.put(certificate.id(), certificate);
        return this;
    }

    /** Starts the schedule: a first pass now, then at each planned moment (at least hourly). */
    public void start() {
        synchronized (scheduling) {
            if (closed) {
                throw new IllegalStateException("renewal manager is closed");
            }
            schedule(Duration.ZERO);
        }
    }

    /**
     * Stops the schedule at once; a renewal in progress on the manager's own thread is
     * interrupted (its checkpoint is kept, so the next start resumes it).
     */
    @Override
    public void close() {
        synchronized (scheduling) {
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
            if (ownExecutor) {
                executor.shutdownNow();
            }
        }
    }

    private void schedule(Duration delay) {
        synchronized (scheduling) {
            if (!closed) {
                next = executor.schedule(this::loop, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
            }
        }
    }

    private void loop() {
        Duration wait;
        try {
            Instant wake = runDueWork();
            wait = Duration.between(clock.instant(), wake);
        } catch (RuntimeException e) {
            LOG.error("renewal pass failed; trying again in {}", retryInitial, e);
            wait = retryInitial;
        }
        schedule(wait.compareTo(MAX_SLEEP) > 0 ? MAX_SLEEP : wait);
    }

    /**
     * One pass over every managed certificate: schedules, renews what is due, warns about what is
     * close to expiry. Returns when the next pass should run.
     */
    public synchronized Instant runDueWork() {
        Instant wake = clock.instant().plus(MAX_SLEEP);
        for (ManagedCertificate mc : List.copyOf(managed.values())) {
            if (closed || Thread.currentThread().isInterrupted()) {
                break;
            }
            Instant w = examine(mc);
            if (w.isBefore(wake)) {
                wake = w;
            }
        }
        return wake;
    }

    /** The persisted plan of one certificate. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Plan(String serial, Instant renewAt, String reason, Instant ariCheckAt, Instant nextAttemptAt,
                       int failures, String lastError, List<Duration> warned, int ariErrors) {
        public Plan {
            warned = warned == null ? List.of() : List.copyOf(warned);
        }

        /** A plan with no ARI errors counted. */
        public Plan(String serial, Instant renewAt, String reason, Instant ariCheckAt, Instant nextAttemptAt,
                    int failures, String lastError, List<Duration> warned) {
            this(serial, renewAt, reason, ariCheckAt, nextAttemptAt, failures, lastError, warned, 0);
        }

        static Plan empty() {
            return new Plan(null, null, null, null, null, 0, null, List.of());
        }
    }

    /** The stored plan of a managed certificate, for inspection. */
    public Optional<Plan> plan(String id) {
        return store.read(planKey(id)).map(b -> Json.read(b, Plan.class, planKey(id)));
    }

    private Instant examine(ManagedCertificate mc) {
        Instant now = clock.instant();
        Plan plan = plan(mc.id()).orElse(Plan.empty());
        Optional<IssuedCertificate> current = engine.storedCertificate(mc.id());
        if (current.isEmpty()) {
            if (plan.nextAttemptAt() == null || !now.isBefore(plan.nextAttemptAt())) {
                return renew(mc, plan, null, "no certificate yet");
            }
            return plan.nextAttemptAt();
        }
        X509Certificate leaf = current.get().leaf();
        String serial = leaf.getSerialNumber().toString(16);
        if (!serial.equals(plan.serial())) {
            plan = new Plan(serial, null, null, null, null, 0, null, List.of());
        }
        if (plan.renewAt() == null || (plan.ariCheckAt() != null && !now.isBefore(plan.ariCheckAt()))) {
            plan = schedule(mc, plan, current.get(), now);
            save(mc.id(), plan);
            emit(new RenewalEvent.Scheduled(mc.id(), plan.renewAt(), plan.reason()));
        }
        plan = warn(mc, plan, leaf, now);
        boolean due = !now.isBefore(plan.renewAt()) && (plan.nextAttemptAt() == null || !now.isBefore(plan.nextAttemptAt()));
        if (due) {
            return renew(mc, plan, current.get(), plan.reason());
        }
        Instant wake = plan.renewAt();
        if (plan.nextAttemptAt() != null && plan.nextAttemptAt().isAfter(wake)) {
            wake = plan.nextAttemptAt();
        }
        if (plan.ariCheckAt() != null && plan.ariCheckAt().isBefore(wake)) {
            wake = plan.ariCheckAt();
        }
        return wake;
    }

    /** Chooses the renewal moment: inside the ARI window when the CA offers one, else at the lifetime fraction. */
    private Plan schedule(ManagedCertificate mc, Plan plan, IssuedCertificate current, Instant now) {
        X509Certificate leaf = current.leaf();
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        Instant byLifetime = notBefore.plusMillis((long) (Duration.between(notBefore, notAfter).toMillis() * lifetimeFraction));
        String lifetimeReason = String.format("%.0f%% of the certificate's lifetime", lifetimeFraction * 100);
        CertificateAuthority ca = caOf(mc, current);
        if (ca == null) {
            return new Plan(plan.serial(), byLifetime, lifetimeReason, null, plan.nextAttemptAt(), plan.failures(),
                    plan.lastError(), plan.warned());
        }
        try {
            RenewalInfo.certId(leaf);
        } catch (IllegalArgumentException e) {
            return new Plan(plan.serial(), byLifetime, lifetimeReason + " (no ARI CertID: " + e.getMessage() + ")", null,
                    plan.nextAttemptAt(), plan.failures(), plan.lastError(), plan.warned());
        }
        try {
            Optional<RenewalInfo> info = engine.renewalInfo(ca, leaf);
            if (info.isEmpty()) {
                return new Plan(plan.serial(), byLifetime, lifetimeReason + " (" + ca.name() + " has no ARI)", null,
                        plan.nextAttemptAt(), plan.failures(), plan.lastError(), plan.warned());
            }
            RenewalInfo ri = info.get();
            // Keep the moment already drawn while it still lies in the window: re-drawing at every
            // check would pull renewals towards the window's start.
            RenewalInfo.SuggestedWindow w = ri.suggestedWindow();
            Instant at = plan.renewAt() != null && plan.reason() != null && plan.reason().startsWith("ARI window")
                    && !plan.renewAt().isBefore(w.start()) && plan.renewAt().isBefore(w.end())
                    && plan.renewAt().isAfter(now) ? plan.renewAt() : ri.chooseRenewalTime(now, random);
            if (!at.isBefore(notAfter)) {
                at = byLifetime; // a window ending after expiry must not let the certificate lapse
            }
            Duration recheck = ri.retryAfter() == null ? ARI_LONG_TERM_ERROR : clamp(Duration.between(now, ri.retryAfter()));
            return new Plan(plan.serial(), at, "ARI window " + ri.suggestedWindow().start() + " to "
                    + ri.suggestedWindow().end() + " from " + ca.name()
                    + (ri.explanationUrl() == null ? "" : " (" + ri.explanationUrl() + ")"),
                    now.plus(recheck), plan.nextAttemptAt(), plan.failures(), plan.lastError(), plan.warned());
        } catch (AcmeException e) {
            // Transient errors: ask again soon (growing with failures); long-term ones: in 6 hours.
            // A malformed answer (an invalid window) is the CA's long-term problem, like a 4xx.
            boolean transientError = e.retryAfter().isPresent() || (e instanceof AcmeServerException s
                    ? s.status() >= 500 || s.status() == 429 : !(e instanceof dev.anvil.acme.AcmeProtocolException));
            int ariErrors = plan.ariErrors() + 1;
            Duration recheck = e.retryAfter().isPresent() ? clamp(Duration.between(now, e.retryAfter().get()))
                    : transientError ? clamp(retryDelay(ariErrors)) : ARI_LONG_TERM_ERROR;
            LOG.info("renewal {}: ARI check failed ({}); using the lifetime rule, asking again in {}",
                    mc.id(), e.getMessage(), recheck);
            Instant keep = plan.renewAt() != null ? plan.renewAt() : byLifetime;
            return new Plan(plan.serial(), keep, lifetimeReason + " (ARI unavailable: " + e.getMessage() + ")",
                    now.plus(recheck), plan.nextAttemptAt(), plan.failures(), plan.lastError(), plan.warned(), ariErrors);
        }
    }

    private Plan warn(ManagedCertificate mc, Plan plan, X509Certificate leaf, Instant now) {
        Instant notAfter = leaf.getNotAfter().toInstant();
        Duration left = Duration.between(now, notAfter);
        List<Duration> warned = new ArrayList<>(plan.warned());
        boolean changed = false;
        if (plan.failures() == 0) {
            return plan; // no renewal has failed: a short-lived certificate is not an alarm
        }
        for (Duration threshold : warnings) {
            if (left.compareTo(threshold) <= 0 && !warned.contains(threshold)) {
                warned.add(threshold);
                changed = true;
                emit(new RenewalEvent.ExpiringSoon(mc.id(), notAfter, threshold, plan.lastError()));
                LOG.warn("certificate {} expires at {} (within {}) and no renewal has succeeded{}", mc.id(), notAfter,
                        threshold, plan.lastError() == null ? "" : "; last error: " + plan.lastError());
            }
        }
        if (!changed) {
            return plan;
        }
        Plan p = new Plan(plan.serial(), plan.renewAt(), plan.reason(), plan.ariCheckAt(), plan.nextAttemptAt(),
                plan.failures(), plan.lastError(), warned, plan.ariErrors());
        save(mc.id(), p);
        return p;
    }

    private Instant renew(ManagedCertificate mc, Plan plan, IssuedCertificate current, String reason) {
        emit(new RenewalEvent.Started(mc.id(), reason));
        LOG.info("renewal {}: starting ({})", mc.id(), reason);
        IssuanceRequest request = mc.request();
        if (current != null) {
            if (mc.keyPolicy() == KeyPolicy.REUSE) {
                request = request.withCertificateKey(current.keyPair());
            }
            try {
                request = request.withReplaces(RenewalInfo.certId(current.leaf()));
            } catch (IllegalArgumentException e) {
                LOG.debug("renewal {}: no ARI CertID ({}); not sending replaces", mc.id(), e.getMessage());
            }
        }
        try {
            IssuedCertificate issued = engine.issue(request);
            save(mc.id(), new Plan(issued.leaf().getSerialNumber().toString(16), null, null, null, null, 0, null, List.of()));
            try {
                mc.onIssued().accept(issued);
            } catch (RuntimeException e) {
                LOG.error("renewal {}: the application's callback failed; the certificate is stored", mc.id(), e);
            }
            emit(new RenewalEvent.Succeeded(mc.id(), issued.leaf().getSerialNumber().toString(16),
                    issued.leaf().getNotAfter().toInstant(), issued.ca()));
            return clock.instant();
        } catch (AcmeInterruptedException e) {
            // Shutting down, not failing: no failure counted, nothing written from an interrupted
            // thread; the engine's checkpoint lets the next pass resume the same order.
            Thread.currentThread().interrupt();
            LOG.info("renewal {}: interrupted; it resumes on the next pass", mc.id());
            return clock.instant();
        } catch (AcmeException | IllegalArgumentException e) {
            int failures = plan.failures() + 1;
            Instant now = clock.instant();
            Duration delay = retryDelay(failures);
            if (e instanceof AcmeException ae && ae.retryAfter().isPresent()) {
                Duration asked = Duration.between(now, ae.retryAfter().get());
                if (asked.compareTo(delay) > 0) {
                    delay = asked.compareTo(retryMax) > 0 ? retryMax : asked;
                }
            }
            Instant nextAttempt = now.plus(delay);
            save(mc.id(), new Plan(plan.serial(), plan.renewAt(), plan.reason(), plan.ariCheckAt(), nextAttempt, failures,
                    e.getMessage(), plan.warned()));
            emit(new RenewalEvent.Failed(mc.id(), e.getMessage(), failures, nextAttempt));
            LOG.warn("renewal {} failed ({} in a row): {}; next attempt at {}", mc.id(), failures, e.getMessage(), nextAttempt);
            return nextAttempt;
        }
    }

    /** Minutes growing to hours: retryInitial doubling per failure, capped at retryMax. */
    Duration retryDelay(int failures) {
        long ms = retryInitial.toMillis() * (1L << Math.min(failures - 1, 20));
        return Duration.ofMillis(Math.min(ms, retryMax.toMillis()));
    }

    private static Duration clamp(Duration d) {
        return d.compareTo(ARI_MIN) < 0 ? ARI_MIN : d.compareTo(ARI_MAX) > 0 ? ARI_MAX : d;
    }

    private static CertificateAuthority caOf(ManagedCertificate mc, IssuedCertificate current) {
        return mc.request().cas().stream().filter(c -> c.name().equals(current.ca())).findFirst()
                .orElse(mc.request().cas().isEmpty() ? null : mc.request().cas().get(0));
    }

    private void save(String id, Plan plan) {
        store.write(planKey(id), Json.write(plan).getBytes(StandardCharsets.UTF_8));
    }

    static String planKey(String id) {
        return "renewals/" + id + ".json";
    }

    private void emit(RenewalEvent e) {
        try {
            listener.onEvent(e);
        } catch (RuntimeException ex) {
            LOG.warn("renewal listener failed on {}: {}", e.getClass().getSimpleName(), ex.toString());
        }
    }

    /** Settings of a {@link RenewalManager}. */
    public static final class Builder {
        private final IssuanceEngine engine;
        private final Store store;
        private Clock clock = Clock.systemUTC();
        private RandomGenerator random = RandomGenerator.getDefault();
        private RenewalListener listener = e -> { };
        private double lifetimeFraction = 2.0 / 3.0;
        private Duration retryInitial = Duration.ofMinutes(5);
        private Duration retryMax = Duration.ofHours(6);
        private List<Duration> warnings = List.of(Duration.ofDays(14), Duration.ofDays(7), Duration.ofDays(3), Duration.ofDays(1));
        private ScheduledExecutorService executor;

        private Builder(IssuanceEngine engine, Store store) {
            this.engine = Objects.requireNonNull(engine);
            this.store = Objects.requireNonNull(store);
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c);
            return this;
        }

        public Builder random(RandomGenerator r) {
            this.random = Objects.requireNonNull(r);
            return this;
        }

        public Builder listener(RenewalListener l) {
            this.listener = Objects.requireNonNull(l);
            return this;
        }

        /** Without ARI, renew at this fraction of the lifetime (default 2/3). */
        public Builder renewAtLifetimeFraction(double fraction) {
            if (fraction <= 0 || fraction >= 1) {
                throw new IllegalArgumentException("fraction must be between 0 and 1");
            }
            this.lifetimeFraction = fraction;
            return this;
        }

        /** Failed renewals are retried after {@code initial}, doubling up to {@code max}. Default 5 min to 6 h. */
        public Builder retry(Duration initial, Duration max) {
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("need 0 < initial <= max");
            }
            this.retryInitial = initial;
            this.retryMax = max;
            return this;
        }

        /** Remaining-lifetime thresholds that raise {@link RenewalEvent.ExpiringSoon}. Default 14, 7, 3, 1 days. */
        public Builder expiryWarnings(List<Duration> thresholds) {
            this.warnings = List.copyOf(thresholds);
            return this;
        }

        /** Runs on the application's executor instead of an own daemon thread. */
        public Builder executor(ScheduledExecutorService e) {
            this.executor = Objects.requireNonNull(e);
            return this;
        }

        public RenewalManager build() {
            return new RenewalManager(this);
        }
    }
}
