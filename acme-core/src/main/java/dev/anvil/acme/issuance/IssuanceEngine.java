package dev.anvil.acme.issuance;

import dev.anvil.acme.AccountSession;
import dev.anvil.acme.AcmeBadNonceException;
import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.AcmeDeadlineException;
import dev.anvil.acme.AcmeDirectoryException;
import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeInterruptedException;
import dev.anvil.acme.AcmeNetworkException;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeRateLimitedException;
import dev.anvil.acme.AcmeRetriesExhaustedException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.AcmeSolverException;
import dev.anvil.acme.AcmeValidationException;
import dev.anvil.acme.Authorization;
import dev.anvil.acme.CertificateChain;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.ExternalAccountBinding;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.NewAccount;
import dev.anvil.acme.Order;
import dev.anvil.acme.OrderRequest;
import dev.anvil.acme.Problem;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.Csr;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.retry.Attempt;
import dev.anvil.acme.retry.Backoff;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import dev.anvil.acme.store.Store;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one certificate from identifiers to a stored chain and key, as a state machine that
 * follows the order's status at the CA ({@link IssuanceState}). Every network step is retried
 * by the pluggable {@link Backoff} within {@link Deadlines}; every transition is checkpointed
 * in the {@link Store}, so calling {@link #issue} again after a crash continues the same order
 * with the same key; a CA that keeps failing is replaced by the next one in the request.
 * Thread-safe: one engine can run many issuances at once (distinct ids).
 *
 * <p>What is retried, and how:
 * <ul>
 *   <li>reads (directory, nonce, POST-as-GET of orders, authorizations, certificates): after
 *       transport errors, 5xx, 429, malformed responses;</li>
 *   <li>newAccount and newOrder: the same (newAccount is idempotent per key; a newOrder whose
 *       response was lost leaves one unused order at the CA);</li>
 *   <li>challenge responses: after an error the challenge is fetched again and the response
 *       sent again only while the challenge is still {@code pending};</li>
 *   <li>finalize: never blindly. After an error the order is fetched again and finalize is
 *       sent again only while the order is still {@code ready};</li>
 *   <li>badNonce: always, inside {@link AcmeClient}.</li>
 * </ul>
 */
public final class IssuanceEngine {

    private static final Logger LOG = LoggerFactory.getLogger(IssuanceEngine.class);

    private final Store store;
    private final Backoff backoff;
    private final Deadlines deadlines;
    private final IssuanceListener listener;
    private final OkHttpClient http;
    private final Clock clock;
    private final boolean allowInsecureHttp;
    private final Map<String, AcmeClient> clients = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<AccountSession>> registrations = new ConcurrentHashMap<>();

    private IssuanceEngine(Builder b) {
        this.store = b.store;
        this.backoff = b.backoff;
        this.deadlines = b.deadlines;
        this.listener = b.listener;
        this.http = b.http;
        this.clock = b.clock;
        this.allowInsecureHttp = b.allowInsecureHttp;
    }

    public static Builder builder(Store store) {
        return new Builder(store);
    }

    /** Store key of an issuance's checkpoint. */
    public static String checkpointKey(String issuanceId) {
        return "issuances/" + issuanceId + ".json";
    }

    /** Store key of an issued certificate: the chain, then the private key, in one PEM written atomically. */
    public static String certificateKey(String issuanceId) {
        return "certificates/" + issuanceId + ".pem";
    }

    /** The checkpoint of an issuance in flight, if any. */
    public Optional<Checkpoint> checkpoint(String issuanceId) {
        return store.read(checkpointKey(issuanceId)).map(b -> Json.read(b, Checkpoint.class, checkpointKey(issuanceId)));
    }

    /**
     * Obtains the certificate, resuming from the store's checkpoint when one exists for the id.
     * Returns once chain and key are stored; throws a typed {@link AcmeException} otherwise,
     * keeping the checkpoint so a later call resumes.
     */
    public IssuedCertificate issue(IssuanceRequest request) {
        if (request.cas().isEmpty()) {
            throw new IllegalArgumentException("issuance " + request.id() + " names no CA");
        }
        if (request.solvers().isEmpty()) {
            throw new IllegalArgumentException("issuance " + request.id() + " has no challenge solver");
        }
        Run run = new Run(request, clock.instant());
        Checkpoint cp = checkpoint(request.id()).filter(c -> c.identifiers().equals(request.identifiers())).orElse(null);
        int first = 0;
        if (cp != null) {
            int i = indexOf(request, cp.ca());
            first = Math.max(i, 0);
            run.cp = cp;
            emit(new IssuanceEvent.Resumed(request.id(), cp.ca(), cp.state(), cp.orderUrl()));
            LOG.info("issuance {}: resuming from {} at {}", request.id(), cp.state(), cp.ca());
        }
        AcmeException last = null;
        for (int i = first; i < request.cas().size(); i++) {
            CertificateAuthority ca = request.cas().get(i);
            if (last != null) {
                emit(new IssuanceEvent.FailedOver(request.id(), request.cas().get(i - 1).name(), ca.name(), last.getMessage()));
                LOG.warn("issuance {}: failing over to CA {} after: {}", request.id(), ca.name(), last.getMessage());
            }
            try {
                return issueAt(run, ca);
            } catch (AcmeException e) {
                boolean more = i + 1 < request.cas().size();
                if (!more || !failoverHelps(e) || !clock.instant().isBefore(run.totalDeadline)) {
                    markFailed(run, ca, e);
                    LOG.warn("issuance {} failed at CA {}: {}", request.id(), ca.name(), e.getMessage());
                    throw e;
                }
                last = e;
            }
        }
        throw new IllegalStateException("unreachable");
    }

    // ---- one CA ----

    private IssuedCertificate issueAt(Run run, CertificateAuthority ca) {
        IssuanceRequest req = run.request;
        Instant setupDeadline = min(clock.instant().plus(deadlines.setup()), run.totalDeadline);
        AcmeClient client = connect(run, ca, setupDeadline);
        AccountSession account = account(run, ca, client, setupDeadline);

        Checkpoint cp = run.cp;
        if (cp == null) {
            KeyPair key = req.certificateKey() != null ? req.certificateKey() : KeyPairs.generate(req.keyType());
            Instant now = clock.instant();
            cp = new Checkpoint(req.id(), req.identifiers(), ca.name(), client.directoryUrl(), account.accountUrl(),
                    null, Pem.write(key), null, IssuanceState.NEW, 0, now, now);
        } else {
            cp = cp.atCa(ca.name(), client.directoryUrl(), account.accountUrl(), clock.instant());
        }
        save(run, cp);
        KeyPair certificateKey = Pem.readKeyPair(cp.certificateKeyPem());

        Order order = null;
        if (cp.orderUrl() != null) {
            order = resumeOrder(run, ca, account, cp.orderUrl(), setupDeadline);
        }
        if (order == null) {
            OrderRequest orderRequest = OrderRequest.of(req.identifiers());
            if (ca.profile() != null) {
                orderRequest = orderRequest.withProfile(ca.profile());
            }
            if (req.replaces() != null && mayHaveIssued(req.id(), ca)) {
                orderRequest = orderRequest.withReplaces(req.replaces());
            }
            order = newOrder(run, ca, account, orderRequest, setupDeadline);
            save(run, run.cp.withOrder(order.url(), clock.instant()));
            transition(run, ca, IssuanceState.ORDERED);
        }

        Instant authzDeadline = null;
        Instant finalDeadline = null;
        while (true) {
            checkInterrupted();
            switch (order.status()) {
                case PENDING -> {
                    transition(run, ca, IssuanceState.AUTHORIZING);
                    authzDeadline = authzDeadline != null ? authzDeadline
                            : min(clock.instant().plus(deadlines.authorization()), run.totalDeadline);
                    order = authorize(run, ca, account, order, authzDeadline);
                }
                case READY -> {
                    transition(run, ca, IssuanceState.READY);
                    finalDeadline = finalDeadline != null ? finalDeadline
                            : min(clock.instant().plus(deadlines.finalization()), run.totalDeadline);
                    order = finalizeOrder(run, ca, account, order, certificateKey, finalDeadline);
                }
                case PROCESSING -> {
                    transition(run, ca, IssuanceState.PROCESSING);
                    finalDeadline = finalDeadline != null ? finalDeadline
                            : min(clock.instant().plus(deadlines.finalization()), run.totalDeadline);
                    order = poll(run, ca, account, order, Status.PROCESSING, Cause.PROCESSING, finalDeadline);
                }
                case VALID -> {
                    transition(run, ca, IssuanceState.VALID);
                    finalDeadline = finalDeadline != null ? finalDeadline
                            : min(clock.instant().plus(deadlines.finalization()), run.totalDeadline);
                    return download(run, ca, account, order, certificateKey, finalDeadline);
                }
                case INVALID -> throw invalid(ca, account, order, List.of());
                default -> throw new AcmeProtocolException("order " + order.url() + " has status " + order.status()
                        + ", which RFC 8555 does not allow here");
            }
        }
    }

    /**
     * newOrder, retried per the backoff. A CA that refuses "replaces" (409 alreadyReplaced, or 403
     * because this account did not request the replaced certificate; RFC 9773 section 5) gets one
     * more try without it: the renewal matters more than the link to the old certificate.
     */
    private Order newOrder(Run run, CertificateAuthority ca, AccountSession account, OrderRequest request,
                           Instant deadline) {
        try {
            return retry(run, ca, "newOrder", () -> account.newOrder(request), deadline);
        } catch (AcmeServerException e) {
            boolean refusedReplaces = request.replaces() != null && (e.is("alreadyReplaced") || e.status() == 409
                    || (e.status() == 403 && String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("replace")));
            if (!refusedReplaces) {
                throw e;
            }
            LOG.info("issuance {}: CA {} refused replaces={} ({}); ordering without it", run.request.id(), ca.name(),
                    request.replaces(), e.getMessage());
            OrderRequest plain = new OrderRequest(request.identifiers(), request.notBefore(), request.notAfter(),
                    request.profile(), null);
            return retry(run, ca, "newOrder", () -> account.newOrder(plain), deadline);
        }
    }

    /** The stored certificate of an issuance (chain and key from the last success), if any. */
    public Optional<IssuedCertificate> storedCertificate(String issuanceId) {
        Optional<byte[]> pem = store.read(certificateKey(issuanceId));
        if (pem.isEmpty()) {
            return Optional.empty();
        }
        String text = new String(pem.get(), StandardCharsets.US_ASCII);
        int keyAt = text.indexOf("-----BEGIN PRIVATE KEY-----");
        if (keyAt < 0) {
            throw new AcmeException("stored certificate " + certificateKey(issuanceId) + " has no private key");
        }
        String chainPem = text.substring(0, keyAt);
        CertificateMeta meta = store.read(certificateMetaKey(issuanceId))
                .map(b -> Json.read(b, CertificateMeta.class, certificateMetaKey(issuanceId)))
                .orElse(new CertificateMeta(null, null, null));
        CertificateChain chain = new CertificateChain(meta.certificateUrl(), chainPem, Pem.readCertificates(chainPem), List.of());
        return Optional.of(new IssuedCertificate(issuanceId, meta.ca(), meta.orderUrl(), chain,
                Pem.readKeyPair(text.substring(keyAt))));
    }

    /**
     * Whether this CA may have issued the certificate the issuance replaces (the one stored under
     * its id): "replaces" must name a certificate of the CA it is sent to (RFC 9773 section 5);
     * another CA does not know it and refuses the order (Boulder: 404), which would fail every
     * renewal after a failover. True when the store does not say.
     */
    private boolean mayHaveIssued(String issuanceId, CertificateAuthority ca) {
        return store.read(certificateMetaKey(issuanceId))
                .map(b -> Json.read(b, CertificateMeta.class, certificateMetaKey(issuanceId)).ca())
                .map(ca.name()::equals).orElse(true);
    }

    /** Where the certificate came from; stored beside the PEM. */
    record CertificateMeta(String ca, String orderUrl, String certificateUrl) {
    }

    static String certificateMetaKey(String issuanceId) {
        return "certificates/" + issuanceId + ".json";
    }

    /**
     * The CA's renewal information (ARI, RFC 9773) for a certificate, or empty when the CA has no
     * renewalInfo endpoint. Errors are thrown typed, for the caller's own backoff.
     */
    public Optional<dev.anvil.acme.RenewalInfo> renewalInfo(CertificateAuthority ca, java.security.cert.X509Certificate certificate) {
        for (String url : ca.directoryUrls()) {
            AcmeClient client = client(url);
            try {
                if (client.fetchDirectory().renewalInfo() == null) {
                    return Optional.empty();
                }
                return Optional.of(client.fetchRenewalInfo(dev.anvil.acme.RenewalInfo.certId(certificate)));
            } catch (AcmeNetworkException e) {
                if (url.equals(ca.directoryUrls().get(ca.directoryUrls().size() - 1))) {
                    throw e;
                }
            }
        }
        return Optional.empty();
    }

    private AcmeClient client(String directoryUrl) {
        return clients.computeIfAbsent(directoryUrl, u -> AcmeClient.builder(u).httpClient(http)
                .allowInsecureHttp(allowInsecureHttp).clock(clock).build());
    }

    private Order resumeOrder(Run run, CertificateAuthority ca, AccountSession account, String orderUrl, Instant deadline) {
        try {
            Order order = retry(run, ca, "fetch order", () -> account.fetchOrder(orderUrl), deadline);
            if (order.status() == Status.INVALID || order.status() == Status.EXPIRED
                    || order.status() == Status.DEACTIVATED || order.status() == Status.UNKNOWN
                    || (order.expires() != null && order.expires().isBefore(clock.instant()))) {
                LOG.info("issuance {}: stored order {} is {}, creating a new one", run.request.id(), orderUrl, order.status());
                return null;
            }
            LOG.info("issuance {}: continuing order {} ({})", run.request.id(), orderUrl, order.status());
            return order;
        } catch (AcmeServerException e) {
            if (e.status() == 404 || e.status() == 403 || e.is("malformed") || e.is("unauthorized")) {
                LOG.info("issuance {}: stored order {} is gone ({}), creating a new one", run.request.id(), orderUrl,
                        e.getMessage());
                return null;
            }
            throw e;
        }
    }

    // ---- directory and account ----

    private AcmeClient connect(Run run, CertificateAuthority ca, Instant deadline) {
        AcmeException last = null;
        List<String> urls = ca.directoryUrls();
        for (int i = 0; i < urls.size(); i++) {
            String url = urls.get(i);
            AcmeClient client = client(url);
            try {
                retry(run, ca, "directory", client::fetchDirectory, deadline);
                return client;
            } catch (AcmeInterruptedException | AcmeDeadlineException e) {
                throw e;
            } catch (AcmeException e) {
                // Unreachable past the retries, a wrong URL (403/404), not a directory: try the next URL.
                last = e;
                if (i + 1 < urls.size()) {
                    emit(new IssuanceEvent.DirectoryFailedOver(run.request.id(), ca.name(), url, urls.get(i + 1),
                            e.getMessage()));
                    LOG.warn("CA {}: directory {} failed, trying {}", ca.name(), url, urls.get(i + 1));
                }
            }
        }
        throw new AcmeDirectoryException(ca.name(), urls, last);
    }

    /** Store key of the account the engine keeps for a CA (URL and private key). */
    public static String accountKey(String caName) {
        return "accounts/" + caName + ".json";
    }

    /**
     * The account key pair the engine stored for a CA, if it registered one (e.g. for a stateless
     * http-01 responder that must know every account's thumbprint).
     */
    public static Optional<KeyPair> storedAccountKey(Store store, String caName) {
        String key = accountKey(caName);
        return store.read(key).map(b -> Json.read(b, StoredAccount.class, key)).map(a -> Pem.readKeyPair(a.keyPem()));
    }

    /**
     * The account at this CA. Concurrent first issuances at one CA share one registration (the
     * others wait for it without holding a lock), so the store never ends up with two accounts.
     */
    private AccountSession account(Run run, CertificateAuthority ca, AcmeClient client, Instant deadline) {
        String flightKey = ca.name() + " " + client.directoryUrl();
        CompletableFuture<AccountSession> mine = new CompletableFuture<>();
        CompletableFuture<AccountSession> inFlight = registrations.putIfAbsent(flightKey, mine);
        if (inFlight != null) {
            try {
                return inFlight.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AcmeInterruptedException("interrupted while waiting for the account at " + ca.name(), e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof AcmeException ae ? ae : new AcmeException("account at " + ca.name()
                        + " failed: " + e.getCause(), e.getCause());
            }
        }
        try {
            AccountSession session = loadOrRegister(run, ca, client, deadline);
            mine.complete(session);
            return session;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            registrations.remove(flightKey, mine);
        }
    }

    /** From the store when known, else registered (newAccount is idempotent per key). */
    private AccountSession loadOrRegister(Run run, CertificateAuthority ca, AcmeClient client, Instant deadline) {
        String key = accountKey(ca.name());
        StoredAccount stored = store.read(key).map(b -> Json.read(b, StoredAccount.class, key)).orElse(null);
        KeyPair accountKey = ca.accountKey();
        if (stored != null && accountKey == null) {
            accountKey = Pem.readKeyPair(stored.keyPem());
        }
        if (stored != null && stored.accountUrl() != null && stored.directoryUrl().equals(client.directoryUrl())
                && accountKey.getPublic().equals(Pem.readKeyPair(stored.keyPem()).getPublic())) {
            return client.login(accountKey, stored.accountUrl());
        }
        if (accountKey == null) {
            accountKey = KeyPairs.generate();
        }
        // Persist the key before registering, so a crash cannot orphan an account with a lost key.
        store.write(key, Json.write(new StoredAccount(client.directoryUrl(), null, Pem.write(accountKey)))
                .getBytes(StandardCharsets.UTF_8));
        NewAccount newAccount = NewAccount.agreeingToTerms();
        for (String contact : ca.contacts()) {
            newAccount = newAccount.withContact(contact);
        }
        if (ca.eab() != null) {
            ExternalAccountBinding eab = retry(run, ca, "EAB credentials", () -> ca.eab().fetch(http), deadline);
            newAccount = newAccount.withExternalAccountBinding(eab);
        }
        KeyPair finalKey = accountKey;
        NewAccount finalRequest = newAccount;
        AccountSession session = retry(run, ca, "newAccount", () -> client.newAccount(finalKey, finalRequest), deadline);
        store.write(key, Json.write(new StoredAccount(client.directoryUrl(), session.accountUrl(), Pem.write(accountKey)))
                .getBytes(StandardCharsets.UTF_8));
        LOG.info("CA {}: account {}", ca.name(), session.accountUrl());
        return session;
    }

    /** An account as persisted: holds its private key, so never logged. */
    record StoredAccount(String directoryUrl, String accountUrl, String keyPem) {
        @Override
        public String toString() {
            return "StoredAccount[" + accountUrl + "]";
        }
    }

    // ---- authorizations ----

    private Order authorize(Run run, CertificateAuthority ca, AccountSession account, Order order, Instant deadline) {
        List<Presented> presented = new ArrayList<>();
        try {
            List<Authorization> pending = new ArrayList<>();
            for (String url : order.authorizations()) {
                Authorization a = retry(run, ca, "fetch authorization", () -> account.fetchAuthorization(url), deadline);
                if (a.status() == Status.PENDING) {
                    pending.add(a);
                } else if (a.status() != Status.VALID) {
                    LOG.debug("authorization {} is {}", url, a.status());
                }
            }
            List<Presented> chosen = new ArrayList<>();
            for (Authorization a : pending) {
                chosen.add(choose(run.request, account, a));
            }
            present(chosen, presented, deadline);
            for (Presented p : presented) {
                if (p.context.challenge().status() == Status.PENDING) {
                    respond(run, ca, account, p.context, deadline);
                }
            }
            Order polled = poll(run, ca, account, order, Status.PENDING, Cause.PENDING, deadline);
            if (polled.status() == Status.INVALID) {
                throw invalid(ca, account, polled, presented);
            }
            return polled;
        } finally {
            List<Presented> toClean;
            synchronized (presented) {
                toClean = List.copyOf(presented);
            }
            for (Presented p : toClean) {
                try {
                    p.solver.cleanUp(p.context);
                } catch (Exception e) {
                    LOG.warn("cleanUp of {} for {} failed: {}", p.context.type(), p.context.identifier().value(), e.toString());
                }
            }
        }
    }

    private record Presented(ChallengeSolver solver, ChallengeContext context) {
    }

    /**
     * Tells the CA a challenge is ready, never blindly twice: the CA may have acted on a request
     * whose answer was lost, and answers a second one for a challenge no longer pending with an
     * error (Pebble: 400 malformed). So after an error the challenge is fetched again and the
     * response sent again only while it is still pending.
     */
    private void respond(Run run, CertificateAuthority ca, AccountSession account, ChallengeContext c,
                         Instant deadline) {
        String step = "respond to " + c.type() + " for " + c.identifier().value();
        Instant first = clock.instant();
        for (int attempt = 1; ; attempt++) {
            checkInterrupted();
            try {
                account.respond(c.challenge());
                return;
            } catch (AcmeException e) {
                Cause cause = classify(e);
                if (cause == null) {
                    throw e;
                }
                waitBefore(run, ca, step, cause, attempt, first, e, deadline);
                Challenge current = retry(run, ca, "fetch challenge after failed response",
                        () -> account.fetchChallenge(c.challenge().url()), deadline);
                if (current.status() != Status.PENDING) {
                    LOG.info("issuance {}: {} failed but the challenge is now {}; not responding again",
                            run.request.id(), step, current.status());
                    return;
                }
            }
        }
    }

    private static Presented choose(IssuanceRequest req, AccountSession account, Authorization a) {
        List<String> offered = a.challenges().stream().map(Challenge::type).toList();
        for (ChallengeSolver solver : req.solvers()) {
            for (String type : solver.types()) {
                Optional<Challenge> c = a.challenge(type);
                if (c.isPresent() && solver.supports(a.identifier(), type)) {
                    return new Presented(solver, ChallengeContext.of(a.identifier(), a.wildcard(), c.get(), account));
                }
            }
        }
        throw new AcmeException("no solver for " + (a.wildcard() ? "*." : "") + a.identifier().value()
                + ": the CA offers " + offered + ", the solvers answer "
                + req.solvers().stream().map(ChallengeSolver::types).toList());
    }

    /** Presents every challenge (in parallel where all solvers allow) and waits until each is ready. */
    private void present(List<Presented> chosen, List<Presented> presented, Instant deadline) {
        boolean parallel = chosen.size() > 1 && chosen.stream().allMatch(p -> p.solver.parallel());
        if (!parallel) {
            for (Presented p : chosen) {
                presentOne(p, presented, deadline);
            }
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(chosen.size(), 8), r -> {
            Thread t = new Thread(r, "anvil-solver");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Presented p : chosen) {
                futures.add(pool.submit(() -> {
                    presentOne(p, presented, deadline);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AcmeInterruptedException("interrupted while presenting challenges", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AcmeException ae ? ae
                    : new AcmeException("challenge solver failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
            // cleanUp must not race a present still running on a pool thread (it would leave what that
            // present publishes behind): let the interrupted solvers finish, up to the deadline.
            try {
                long wait = Math.max(1, Duration.between(clock.instant(), deadline).toMillis());
                if (!pool.awaitTermination(wait, TimeUnit.MILLISECONDS)) {
                    LOG.warn("challenge solvers still running at the deadline; cleaning up anyway");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void presentOne(Presented p, List<Presented> presented, Instant deadline) {
        ChallengeContext c = p.context;
        try {
            synchronized (presented) {
                presented.add(p); // before present: cleanUp must run even when present fails half-way
            }
            p.solver.present(c);
            p.solver.awaitReady(c, deadline);
        } catch (AcmeInterruptedException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AcmeInterruptedException("interrupted while presenting " + c.type(), e);
        } catch (Exception e) {
            // Whatever the solver threw (even a retries-exhausted from its own backoff), another CA
            // would meet the same solver: typed so that the engine does not fail over on it.
            throw new AcmeSolverException("solver could not present " + c.type() + " for " + c.identifier().value()
                    + ": " + e.getMessage(), e);
        }
    }

    /** The validation error: every failed challenge's problem with its identifier, plus the solvers' diagnoses. */
    private static AcmeValidationException invalid(CertificateAuthority ca, AccountSession account, Order order,
                                                   List<Presented> presented) {
        List<Problem> problems = new ArrayList<>();
        List<String> diagnoses = new ArrayList<>();
        for (String url : order.authorizations()) {
            try {
                Authorization a = account.fetchAuthorization(url);
                for (Challenge c : a.challenges()) {
                    if (c.error() == null) {
                        continue;
                    }
                    Problem p = c.error().identifier() != null ? c.error() : new Problem(c.error().type(),
                            c.error().title(), c.error().detail(), c.error().status(), c.error().instance(),
                            a.identifier(), c.error().subproblems());
                    problems.add(p);
                    for (Presented s : presented) {
                        if (s.context.challenge().url().equals(c.url())) {
                            String d = s.solver.diagnose(s.context, p);
                            if (d != null && !d.isBlank()) {
                                diagnoses.add(d);
                            }
                        }
                    }
                }
            } catch (AcmeException e) {
                LOG.debug("could not fetch authorization {} for the error report: {}", url, e.getMessage());
            }
        }
        if (problems.isEmpty() && order.error() != null) {
            problems.add(order.error()); // the challenges' own errors say more, with their identifiers
        }
        return new AcmeValidationException("order " + order.url() + " at CA " + ca.name() + " is invalid"
                + (diagnoses.isEmpty() ? "" : " (" + String.join("; ", diagnoses) + ")"), problems);
    }

    // ---- finalize, processing, download ----

    private Order finalizeOrder(Run run, CertificateAuthority ca, AccountSession account, Order order, KeyPair key,
                                Instant deadline) {
        Checkpoint cp = run.cp;
        if (cp.csr() == null) {
            String csr = Base64.getUrlEncoder().withoutPadding().encodeToString(Csr.create(key, order.identifiers()));
            cp = cp.withCsr(csr, clock.instant());
            save(run, cp);
        }
        byte[] csrDer = Base64.getUrlDecoder().decode(cp.csr());
        transition(run, ca, IssuanceState.FINALIZING);
        Instant first = clock.instant();
        for (int attempt = 1; ; attempt++) {
            try {
                return account.finalizeOrder(order, csrDer);
            } catch (AcmeException e) {
                Cause cause = classify(e);
                if (cause == null) {
                    throw e;
                }
                // The CA may have accepted the request: look before sending it again.
                waitBefore(run, ca, "finalize", cause, attempt, first, e, deadline);
                Order current = retry(run, ca, "fetch order after failed finalize", () -> account.fetchOrder(order.url()),
                        deadline);
                if (current.status() != Status.READY) {
                    LOG.info("issuance {}: finalize failed but the order is now {}; not finalizing again",
                            run.request.id(), current.status());
                    return current;
                }
            }
        }
    }

    private Order poll(Run run, CertificateAuthority ca, AccountSession account, Order order, Status whileStatus,
                       Cause cause, Instant deadline) {
        Instant first = clock.instant();
        int n = 0;
        while (order.status() == whileStatus) {
            n++;
            Instant now = clock.instant();
            Duration delay = backoff.next(new Attempt(n, Duration.between(first, now), cause, order.retryAfter(), now, null))
                    .orElseThrow(() -> new AcmeDeadlineException(run.request.id(), "poll order (" + whileStatus + ")",
                            now, deadline, null));
            Instant at = now.plus(delay);
            if (at.isAfter(deadline)) {
                throw new AcmeDeadlineException(run.request.id(), "order still " + whileStatus.json() + " at " + ca.name(),
                        at, deadline, null);
            }
            emit(new IssuanceEvent.Polled(run.request.id(), ca.name(), order.url(), order.status(), n, delay));
            sleep(delay);
            String url = order.url();
            order = retry(run, ca, "poll order", () -> account.fetchOrder(url), deadline);
        }
        return order;
    }

    private IssuedCertificate download(Run run, CertificateAuthority ca, AccountSession account, Order order,
                                       KeyPair key, Instant deadline) {
        if (order.certificateUrl() == null) {
            throw new AcmeProtocolException("valid order " + order.url() + " has no certificate URL");
        }
        CertificateChain chain = retry(run, ca, "download certificate",
                () -> account.downloadCertificate(order.certificateUrl(), ca.preferredChain()), deadline);
        if (!chain.leaf().getPublicKey().equals(key.getPublic())) {
            throw new AcmeProtocolException("the certificate from " + order.certificateUrl()
                    + " does not match the stored certificate key");
        }
        IssuedCertificate issued = new IssuedCertificate(run.request.id(), ca.name(), order.url(), chain, key);
        store.write(certificateKey(run.request.id()), issued.combinedPem().getBytes(StandardCharsets.US_ASCII));
        store.write(certificateMetaKey(run.request.id()), Json.write(new CertificateMeta(ca.name(), order.url(),
                chain.url())).getBytes(StandardCharsets.UTF_8));
        transition(run, ca, IssuanceState.STORED);
        store.delete(checkpointKey(run.request.id()));
        LOG.info("issuance {}: stored certificate {} from {}", run.request.id(),
                chain.leaf().getSerialNumber().toString(16), ca.name());
        return issued;
    }

    // ---- retry plumbing ----

    private <T> T retry(Run run, CertificateAuthority ca, String step, Supplier<T> call, Instant deadline) {
        Instant first = clock.instant();
        for (int attempt = 1; ; attempt++) {
            checkInterrupted();
            try {
                return call.get();
            } catch (AcmeException e) {
                Cause cause = classify(e);
                if (cause == null) {
                    throw e;
                }
                waitBefore(run, ca, step, cause, attempt, first, e, deadline);
            }
        }
    }

    private void waitBefore(Run run, CertificateAuthority ca, String step, Cause cause, int attempt, Instant first,
                            AcmeException e, Instant deadline) {
        // A call cut short by an interrupt (OkHttp: InterruptedIOException) is not a network error to retry.
        checkInterrupted();
        Instant now = clock.instant();
        Optional<Duration> delay = backoff.next(new Attempt(attempt, Duration.between(first, now), cause,
                e.retryAfter().orElse(null), now, e));
        if (delay.isEmpty()) {
            throw new AcmeRetriesExhaustedException(step + " at " + ca.name(), attempt, e);
        }
        Instant at = now.plus(delay.get());
        if (at.isAfter(deadline)) {
            // Report when the CA said to come back, even where the backoff clamped its Retry-After.
            Instant asked = e.retryAfter().orElse(at);
            throw new AcmeDeadlineException(run.request.id(), step + " at " + ca.name(), asked.isAfter(at) ? asked : at,
                    deadline, e);
        }
        emit(new IssuanceEvent.Retrying(run.request.id(), ca.name(), step, cause, attempt, delay.get(), e.getMessage()));
        LOG.info("issuance {}: {} failed ({}: {}); retry {} in {} ms", run.request.id(), step, cause, e.getMessage(),
                attempt, delay.get().toMillis());
        sleep(delay.get());
    }

    /** The kind of a retryable error, or null when retrying cannot help. */
    static Cause classify(AcmeException e) {
        if (e instanceof AcmeNetworkException) {
            return Cause.TRANSPORT;
        }
        if (e instanceof AcmeProtocolException) {
            return Cause.MALFORMED;
        }
        if (e instanceof AcmeRateLimitedException) {
            return Cause.RATE_LIMITED;
        }
        if (e instanceof AcmeBadNonceException) {
            return Cause.SERVER_ERROR;
        }
        if (e instanceof AcmeServerException s) {
            if (s.status() == 429) {
                return Cause.RATE_LIMITED;
            }
            if (s.status() == 503) {
                return Cause.UNAVAILABLE;
            }
            if (s.status() >= 500) {
                return Cause.SERVER_ERROR;
            }
        }
        return null;
    }

    /** Whether another CA may succeed where this one failed: not for errors the user must fix. */
    static boolean failoverHelps(AcmeException e) {
        if (e instanceof AcmeSolverException) {
            return false;
        }
        return e instanceof AcmeRetriesExhaustedException || e instanceof AcmeDeadlineException
                || e instanceof AcmeDirectoryException || classify(e) != null
                // A profile one CA rejects may not exist at the next; its own configuration decides there.
                || (e instanceof AcmeServerException s && s.is("invalidProfile"));
    }

    private void sleep(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AcmeInterruptedException("interrupted while waiting " + d.toMillis() + " ms", e);
        }
    }

    private static void checkInterrupted() {
        if (Thread.currentThread().isInterrupted()) {
            throw new AcmeInterruptedException("interrupted", new InterruptedException());
        }
    }

    /**
     * Checkpoints FAILED without letting the store hide the error being thrown. An interrupted
     * thread's flag is cleared around the write (a FileStore's channel refuses to write on an
     * interrupted thread) and set again; a store that still fails is attached as suppressed.
     */
    private void markFailed(Run run, CertificateAuthority ca, AcmeException e) {
        boolean interrupted = Thread.interrupted();
        try {
            transition(run, ca, IssuanceState.FAILED);
        } catch (RuntimeException storeError) {
            e.addSuppressed(storeError);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void transition(Run run, CertificateAuthority ca, IssuanceState to) {
        IssuanceState from = run.cp == null ? IssuanceState.NEW : run.cp.state();
        if (run.cp != null && from != to) {
            if (to != IssuanceState.STORED) {
                save(run, run.cp.with(to, clock.instant()));
            } else {
                run.cp = run.cp.with(to, clock.instant());
            }
        }
        if (from != to) {
            LOG.debug("issuance {}: {} -> {}", run.request.id(), from, to);
            emit(new IssuanceEvent.StateChanged(run.request.id(), ca.name(), from, to));
        }
    }

    private void save(Run run, Checkpoint cp) {
        run.cp = cp;
        store.write(checkpointKey(cp.id()), Json.write(cp).getBytes(StandardCharsets.UTF_8));
    }

    private void emit(IssuanceEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.warn("issuance listener failed on {}: {}", event.getClass().getSimpleName(), e.toString());
        }
    }

    private static int indexOf(IssuanceRequest req, String caName) {
        for (int i = 0; i < req.cas().size(); i++) {
            if (req.cas().get(i).name().equals(caName)) {
                return i;
            }
        }
        return -1;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** The mutable state of one call to {@link #issue}. */
    private final class Run {
        final IssuanceRequest request;
        final Instant totalDeadline;
        Checkpoint cp;

        Run(IssuanceRequest request, Instant start) {
            this.request = request;
            this.totalDeadline = start.plus(deadlines.total());
        }
    }

    /** Settings of an {@link IssuanceEngine}. */
    public static final class Builder {
        private final Store store;
        private Backoff backoff = DefaultBackoff.defaults();
        private Deadlines deadlines = Deadlines.defaults();
        private IssuanceListener listener = IssuanceListener.NONE;
        private OkHttpClient http = dev.anvil.acme.internal.DefaultHttp.client();
        private Clock clock = Clock.systemUTC();
        private boolean allowInsecureHttp;

        private Builder(Store store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        public Builder backoff(Backoff b) {
            this.backoff = Objects.requireNonNull(b);
            return this;
        }

        public Builder deadlines(Deadlines d) {
            this.deadlines = Objects.requireNonNull(d);
            return this;
        }

        public Builder listener(IssuanceListener l) {
            this.listener = Objects.requireNonNull(l);
            return this;
        }

        /** The HTTP client for every CA: proxies, trust, timeouts. */
        public Builder httpClient(OkHttpClient client) {
            this.http = Objects.requireNonNull(client);
            return this;
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c);
            return this;
        }

        /** Accept plain-HTTP URLs from CAs. For local test servers only. */
        public Builder allowInsecureHttp(boolean allow) {
            this.allowInsecureHttp = allow;
            return this;
        }

        public IssuanceEngine build() {
            return new IssuanceEngine(this);
        }
    }
}
