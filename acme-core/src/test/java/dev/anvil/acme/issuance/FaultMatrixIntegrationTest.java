package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.AcmeDeadlineException;
import dev.anvil.acme.AcmeInterruptedException;
import dev.anvil.acme.AcmeRateLimitedException;
import dev.anvil.acme.AcmeRetriesExhaustedException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.FaultProxy;
import dev.anvil.acme.testing.FaultProxy.Action;
import dev.anvil.acme.testing.FaultProxy.Fault;
import dev.anvil.acme.testing.FaultProxy.Match;
import dev.anvil.acme.testing.FaultProxy.Rule;
import dev.anvil.acme.testing.FaultProxy.Seen;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fault matrix of the issuance engine: a {@link FaultProxy} in front of a real Pebble 2.4
 * injects faults into otherwise normal issuances, and every issuance must end with a valid
 * certificate for the engine's own stored key (the fault is transient inside the deadline) or
 * with the documented typed error inside the deadline (the fault persists) -- never with stray
 * orders beyond the documented ones, a second finalize, a response to a challenge no longer
 * pending, or a lost key.
 *
 * <p>Pebble runs with its default 5% random badNonce rejection, so every issuance here also
 * proves that badNonce is absorbed. A second Pebble without nonce rejection serves the cases
 * whose assertions need Pebble's exact answers (see {@link #pebbleFor} and
 * {@link #finalizeReachesPebbleExactlyOnce}).
 *
 * <p>Timing: the engine's read timeout is {@value #READ_TIMEOUT_MS} ms, the backoff works in
 * milliseconds and clamps every Retry-After on errors to {@link #RETRY_AFTER_CAP}, and the 117
 * matrix issuances, each with its own proxy, store and engine, run {@value #MATRIX_THREADS} at
 * a time in the background while their test invocations assert one by one (the matrix runs
 * first, so nothing else competes with the timing assertions of the later tests).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultMatrixIntegrationTest {

    private static final long READ_TIMEOUT_MS = 2_000;
    /** Slower than the read timeout: the client gives up although Pebble acted. */
    private static final Duration SLOW_ANSWER = Duration.ofMillis(READ_TIMEOUT_MS + 500);
    /** Retry-After on errors is clamped to this; a Retrying delay of exactly this proves Retry-After was read. */
    private static final Duration RETRY_AFTER_CAP = Duration.ofMillis(250);
    private static final Duration ERROR_INITIAL = Duration.ofMillis(20);
    /** Generous for transient faults: each case must end far inside it (asserted). */
    private static final Deadlines MATRIX_DEADLINES = Deadlines.all(Duration.ofSeconds(15));
    private static final int MATRIX_THREADS = 4;
    private static final String CA = "pebble";
    private static final String RESPONSE = "challenge-response";
    /** What the proxy did when Pebble acted but the client never saw Pebble's answer. */
    private static final Set<Action> LOST = EnumSet.of(Action.RESET_AFTER, Action.CLOSED_AFTER, Action.DELAYED,
            Action.DELAYED_THEN_RESET, Action.MALFORMED_JSON);
    private static final AtomicInteger IDS = new AtomicInteger();

    /** Pebble with its default 5% badNonce rejection. */
    private static Pebble pebble;
    /** Pebble without random badNonce, for cases that depend on exactly what Pebble answers. */
    private static Pebble exactPebble;
    private static Http01TestResponder responder;
    private static Http01TestResponder exactResponder;
    private static OkHttpClient http;
    private static OkHttpClient exactHttp;

    /** The matrix issuances, started together by the first matrix invocation. */
    private static final Map<String, CompletableFuture<Outcome>> MATRIX = new ConcurrentHashMap<>();

    @TempDir
    static Path sharedDir;

    @TempDir
    Path dir;

    private final List<Issuance> issuances = new ArrayList<>();

    @BeforeAll
    static void startPebbles() {
        pebble = Pebble.start();
        exactPebble = Pebble.builder().nonceRejectPercent(0).start();
        responder = Http01TestResponder.start(pebble.httpPort());
        exactResponder = Http01TestResponder.start(exactPebble.httpPort());
        http = client(pebble);
        exactHttp = client(exactPebble);
    }

    @AfterAll
    static void stopPebbles() {
        for (AutoCloseable c : new AutoCloseable[] {responder, exactResponder, pebble, exactPebble}) {
            closeQuietly(c);
        }
    }

    @AfterEach
    void closeProxies() {
        issuances.forEach(i -> closeQuietly(i.proxy));
    }

    private static OkHttpClient client(Pebble p) {
        // No silent re-sends by OkHttp: every retry must be the engine's own decision.
        return p.httpClient().newBuilder()
                .readTimeout(Duration.ofMillis(READ_TIMEOUT_MS)).retryOnConnectionFailure(false).build();
    }

    private static DefaultBackoff.Builder fastBackoff() {
        return DefaultBackoff.builder()
                .errorDelays(ERROR_INITIAL, Duration.ofMillis(200))
                .maxErrorRetries(4)
                .maxRateLimitRetries(4)
                .retryAfterRange(Duration.ofMillis(1), RETRY_AFTER_CAP)
                .polling(Duration.ofMillis(25), Duration.ofMillis(250), Duration.ofSeconds(2));
    }

    /** A new issuance in this test, on the 5% badNonce Pebble. */
    private Issuance issuance() {
        return issuance(pebble);
    }

    private Issuance issuance(Pebble p) {
        Issuance i = new Issuance(p, dir.resolve("store-" + issuances.size()));
        issuances.add(i);
        return i;
    }

    // =================================================================== one issuance

    /** One issuance under test: a fresh proxy, a FileStore, the engine(s) on it, and what they heard. */
    private static final class Issuance {
        final Pebble pebble;
        final FaultProxy proxy;
        final FileStore store;
        final IssuanceRequest request;
        final List<IssuanceEvent> events = new CopyOnWriteArrayList<>();
        /** Every certificate key seen in a checkpoint at a state transition. */
        final Set<String> checkpointKeys = ConcurrentHashMap.newKeySet();

        Issuance(Pebble pebble, Path storeDir) {
            this.pebble = pebble;
            this.proxy = proxy(pebble);
            this.store = new FileStore(storeDir);
            String id = "fm" + IDS.incrementAndGet();
            this.request = IssuanceRequest.of(id + ".faults.anvil.test").withId(id)
                    .withCa(CertificateAuthority.of(CA, proxy.url()))
                    .withSolver(new TestSolvers.Http01(pebble == exactPebble ? exactResponder : responder));
        }

        /** A fresh proxy in front of Pebble's ACME listener, as {@link FaultProxy#start(Pebble)} but without Nagle. */
        private static FaultProxy proxy(Pebble p) {
            String dir = p.directoryUrl();
            return FaultProxy.start(dir.substring(0, dir.length() - FaultProxy.DIRECTORY.length()),
                    p.httpClient().newBuilder().build(), p.tls().serverSslContext());
        }

        IssuanceEngine engine() {
            return engine(fastBackoff().build(), MATRIX_DEADLINES, IssuanceListener.NONE);
        }

        /** An engine on this issuance's store; {@code extra} hears every event too. */
        IssuanceEngine engine(DefaultBackoff backoff, Deadlines deadlines, IssuanceListener extra) {
            AtomicReference<IssuanceEngine> self = new AtomicReference<>();
            IssuanceEngine engine = IssuanceEngine.builder(store)
                    .httpClient(pebble == exactPebble ? exactHttp : http)
                    .backoff(backoff)
                    .deadlines(deadlines)
                    .listener(e -> {
                        events.add(e);
                        extra.onEvent(e);
                        if (e instanceof IssuanceEvent.StateChanged) {
                            self.get().checkpoint(e.issuanceId()).ifPresent(cp -> checkpointKeys.add(cp.certificateKeyPem()));
                        }
                    })
                    .build();
            self.set(engine);
            return engine;
        }

        Checkpoint checkpoint() {
            return engine().checkpoint(request.id()).orElseThrow(() -> new AssertionError("no checkpoint"));
        }

        boolean hasCheckpoint() {
            return engine().checkpoint(request.id()).isPresent();
        }

        <T extends IssuanceEvent> List<T> eventsOf(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }

        List<IssuanceEvent.Polled> polled(Status status) {
            return eventsOf(IssuanceEvent.Polled.class).stream().filter(p -> p.status() == status).toList();
        }

        /** POSTs on the path that reached Pebble and got this status from it. */
        long reached(String path, int pebbleStatus) {
            return proxy.seen("POST", path).stream().filter(s -> s.forwarded() && s.upstreamStatus() == pebbleStatus)
                    .count();
        }

        /** Of these requests (in order), how many Pebble accepted (2xx). */
        static long accepted(List<Seen> requests) {
            return requests.stream().filter(s -> s.forwarded() && s.upstreamStatus() / 100 == 2).count();
        }

        /** Of these requests (in order), how many were sent after Pebble had accepted one. */
        static long sentAfterAccepted(List<Seen> requests) {
            for (int k = 0; k < requests.size(); k++) {
                Seen s = requests.get(k);
                if (s.forwarded() && s.upstreamStatus() / 100 == 2) {
                    return requests.size() - k - 1L;
                }
            }
            return 0;
        }

        /** POSTs on the path for which Pebble created the resource but the client never saw the answer. */
        long createdButLost(String path, int createdStatus) {
            return proxy.seen("POST", path).stream()
                    .filter(s -> LOST.contains(s.action()) && s.upstreamStatus() == createdStatus).count();
        }

        /**
         * Chain and key are stored, the leaf is for the one key every checkpoint held from the start
         * (never regenerated, never lost), and no checkpoint is left.
         */
        void assertIssuedWithStoredKey(IssuedCertificate issued) throws Exception {
            PublicKey key = issued.keyPair().getPublic();
            assertThat(issued.leaf().getPublicKey()).isEqualTo(key);
            assertThat(issued.leaf().getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                    .containsExactly(request.identifiers().get(0).value());
            String pem = new String(store.read(IssuanceEngine.certificateKey(request.id())).orElseThrow(),
                    StandardCharsets.US_ASCII);
            int keyAt = pem.indexOf("-----BEGIN PRIVATE KEY");
            assertThat(Pem.readCertificates(pem.substring(0, keyAt)).get(0)).isEqualTo(issued.leaf());
            assertThat(Pem.readKeyPair(pem.substring(keyAt)).getPublic()).isEqualTo(key);
            assertThat(checkpointKeys).as("certificate keys seen in checkpoints").hasSize(1);
            assertThat(Pem.readKeyPair(checkpointKeys.iterator().next()).getPublic()).isEqualTo(key);
            assertThat(hasCheckpoint()).as("checkpoint left").isFalse();
        }
    }

    // =================================================================== the transient matrix

    /** Where the fault hits: one of Pebble's endpoints, and the engine step that sees it. */
    enum Endpoint {
        DIRECTORY("GET", FaultProxy.DIRECTORY, "directory"),
        // The first request to need a nonce is newAccount's; that step reports the failure.
        NEW_NONCE("HEAD", FaultProxy.NEW_NONCE, "newAccount"),
        NEW_ACCOUNT("POST", FaultProxy.NEW_ACCOUNT, "newAccount"),
        NEW_ORDER("POST", FaultProxy.NEW_ORDER, "newOrder"),
        AUTHORIZATION("POST", FaultProxy.AUTHZ, "fetch authorization"),
        CHALLENGE("POST", FaultProxy.CHALLENGE, "respond to http-01"),
        FINALIZE("POST", FaultProxy.FINALIZE, "finalize"),
        // The first order poll is while the authorization is pending.
        ORDER_POLL("POST", FaultProxy.ORDER, "poll order"),
        CERTIFICATE("POST", FaultProxy.CERT, "download certificate");

        final String method;
        final String path;
        final String step;

        Endpoint(String method, String path, String step) {
            this.method = method;
            this.path = path;
            this.step = step;
        }

        Match once() {
            return Match.any().withMethod(method).withPathPrefix(path).times(1);
        }
    }

    /** One transient fault, applied to one request. */
    enum Transient {
        HTTP_500(500, false), HTTP_500_RETRY_AFTER(500, true),
        HTTP_502(502, false), HTTP_502_RETRY_AFTER(502, true),
        HTTP_503(503, false), HTTP_503_RETRY_AFTER(503, true),
        HTTP_504(504, false), HTTP_504_RETRY_AFTER(504, true),
        HTTP_429_RETRY_AFTER(429, true),
        RESET_BEFORE(0, false), RESET_AFTER(0, false), SLOW(0, false), MALFORMED_JSON(0, false);

        final int status;
        final boolean retryAfter;

        Transient(int status, boolean retryAfter) {
            this.status = status;
            this.retryAfter = retryAfter;
        }

        Fault fault(Endpoint e) {
            if (status == 429) {
                return Fault.status(429).retryAfter(Duration.ofSeconds(1)).problem("rateLimited", "slow down");
            }
            if (status != 0) {
                Fault f = Fault.status(status);
                return retryAfter ? f.retryAfter(Duration.ofSeconds(1)) : f;
            }
            return switch (this) {
                case RESET_BEFORE -> Fault.resetBeforeForwarding();
                case RESET_AFTER -> Fault.resetAfterForwarding();
                case SLOW -> Fault.delay(SLOW_ANSWER);
                // A HEAD has no body to garble: its malformed answer is a 200 without Replay-Nonce.
                default -> e == Endpoint.NEW_NONCE ? Fault.status(200).noBody().nonce(false) : Fault.malformedJson();
            };
        }

        Cause cause() {
            return switch (this) {
                case HTTP_503, HTTP_503_RETRY_AFTER -> Cause.UNAVAILABLE;
                case HTTP_429_RETRY_AFTER -> Cause.RATE_LIMITED;
                case RESET_BEFORE, RESET_AFTER, SLOW -> Cause.TRANSPORT;
                case MALFORMED_JSON -> Cause.MALFORMED;
                default -> Cause.SERVER_ERROR;
            };
        }
    }

    static Stream<Arguments> transientFaults() {
        return Stream.of(Endpoint.values()).flatMap(e -> Stream.of(Transient.values()).map(t -> Arguments.of(e, t)));
    }

    /**
     * Garbling a POST answer needs Pebble's answer to be the real one: with random nonce
     * rejection it would sometimes be Pebble's 400 badNonce, which garbled reaches the client as a
     * 400 without a readable problem document -- an error no client may retry.
     */
    private static Pebble pebbleFor(Endpoint e, Transient t) {
        return t == Transient.MALFORMED_JSON && e.method.equals("POST") ? exactPebble : pebble;
    }

    /** A finished matrix issuance. */
    private record Outcome(Issuance issuance, Rule rule, IssuedCertificate issued, Duration took) {
    }

    /** The issuance of a matrix case; the first call starts all of them in the background. */
    private static synchronized CompletableFuture<Outcome> matrixCase(Endpoint endpoint, Transient fault) {
        if (MATRIX.isEmpty()) {
            AtomicInteger n = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(MATRIX_THREADS, r -> {
                Thread t = new Thread(r, "fault-matrix-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            for (Endpoint e : Endpoint.values()) {
                for (Transient t : Transient.values()) {
                    MATRIX.put(e + "/" + t, CompletableFuture.supplyAsync(() -> runMatrixCase(e, t), pool));
                }
            }
            pool.shutdown(); // the submitted cases still run
        }
        return MATRIX.get(endpoint + "/" + fault);
    }

    private static Outcome runMatrixCase(Endpoint endpoint, Transient fault) {
        Issuance i = new Issuance(pebbleFor(endpoint, fault), sharedDir.resolve(endpoint + "-" + fault));
        try {
            Rule rule = i.proxy.on(endpoint.once(), fault.fault(endpoint));
            // Names the challenge responses (not their POST-as-GET fetches) in what the proxy saw.
            i.proxy.on(Match.post(FaultProxy.CHALLENGE).where(RESPONSE, r -> !r.isPostAsGet()), Fault.passThrough());
            IssuanceEngine engine = i.engine();
            long t0 = System.nanoTime();
            IssuedCertificate issued = engine.issue(i.request);
            return new Outcome(i, rule, issued, Duration.ofNanos(System.nanoTime() - t0));
        } catch (RuntimeException e) {
            throw new AssertionError(endpoint + " x " + fault + ": the issuance failed: " + e + "\nevents: " + i.events
                    + "\nproxy saw:\n  " + String.join("\n  ", i.proxy.seen().stream().map(Seen::toString).toList()), e);
        } finally {
            i.proxy.close();
        }
    }

    @Order(1)
    @ParameterizedTest(name = "{0} x {1}")
    @MethodSource("transientFaults")
    void transientFaultEndsWithAValidCertificateForTheStoredKey(Endpoint endpoint, Transient fault) throws Exception {
        Outcome o;
        try {
            o = matrixCase(endpoint, fault).get(120, TimeUnit.SECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
        }
        Issuance i = o.issuance();

        assertThat(o.rule().hits()).as("the fault was injected").isEqualTo(1);
        i.assertIssuedWithStoredKey(o.issued());
        assertThat(o.took()).as("inside the deadline").isLessThan(MATRIX_DEADLINES.total().minusSeconds(5));

        // The engine retried exactly the faulted step, once, for the right reason, after the right delay.
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).as("retries; proxy saw %s", i.proxy.seen())
                .singleElement().satisfies(r -> {
                    assertThat(r.step()).startsWith(endpoint.step);
                    assertThat(r.cause()).isEqualTo(fault.cause());
                    assertThat(r.attempt()).isEqualTo(1);
                    if (fault.retryAfter) {
                        // Retry-After: 1 honoured, clamped to the configured maximum.
                        assertThat(r.delay()).isEqualTo(RETRY_AFTER_CAP);
                    } else {
                        assertThat(r.delay()).isLessThanOrEqualTo(ERROR_INITIAL);
                    }
                });

        // Stray orders: one order, plus one unused order exactly when Pebble created an order whose
        // answer was lost (reset after forwarding, too slow, garbled: only possible on newOrder).
        // That one is documented in IssuanceEngine: "a newOrder whose response was lost leaves one
        // unused order at the CA". If Pebble happened to reject the faulted request's nonce, nothing
        // was created and there is no stray order.
        long lostOrders = i.createdButLost(FaultProxy.NEW_ORDER, 201);
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).as("orders created at Pebble").isEqualTo(1 + lostOrders)
                .isLessThanOrEqualTo(2);
        if (endpoint != Endpoint.NEW_ORDER || fault.status != 0 || fault == Transient.RESET_BEFORE) {
            assertThat(lostOrders).isZero();
        }
        // One account: a lost newAccount answer is repaired by sending newAccount again (idempotent per key).
        assertThat(i.reached(FaultProxy.NEW_ACCOUNT, 201)).as("accounts created").isEqualTo(1);

        // Challenge responses: after a lost answer the engine fetches the challenge and responds again
        // only while it is still pending. Pebble keeps a challenge pending while it validates, so one
        // more response (which Pebble accepts) is legitimate then; a response to a challenge no longer
        // pending would be refused (400) and, not being retryable, would have failed the issuance.
        List<Seen> responses = i.proxy.seen("POST", FaultProxy.CHALLENGE).stream().filter(s -> s.rule() != null)
                .toList();
        long lostResponses = responses.stream().filter(s -> LOST.contains(s.action()) && s.upstreamStatus() == 200)
                .count();
        assertThat(Issuance.accepted(responses)).as("challenge responses accepted").isBetween(1L, 1 + lostResponses);
        if (lostResponses == 0) {
            assertThat(Issuance.sentAfterAccepted(responses)).as("challenge responses sent after").isZero();
        }
        // Finalize is not idempotent: Pebble accepted exactly one and, once it had, the engine never sent
        // another (after a lost answer it fetched the order, which Pebble moves to processing at once).
        List<Seen> finalizes = i.proxy.seen("POST", FaultProxy.FINALIZE);
        assertThat(Issuance.accepted(finalizes)).as("finalize accepted").isEqualTo(1);
        assertThat(Issuance.sentAfterAccepted(finalizes)).as("finalize sent after").isZero();
        if (i.pebble == exactPebble) {
            assertThat(i.proxy.forwarded("POST", FaultProxy.FINALIZE)).isEqualTo(1);
            assertThat(i.proxy.seen("POST", FaultProxy.CHALLENGE)).filteredOn(Seen::forwarded)
                    .allSatisfy(s -> assertThat(s.upstreamStatus()).isEqualTo(200));
        }
    }

    /**
     * ZeroSSL's "finalize answers 502/504" on the Pebble without random badNonce, so Pebble saw
     * exactly the finalize requests the engine sent.
     */
    @Order(2)
    @ParameterizedTest(name = "finalize x {0}")
    @EnumSource(value = Transient.class, names = {"HTTP_502_RETRY_AFTER", "HTTP_504", "RESET_BEFORE", "RESET_AFTER",
        "SLOW"})
    void finalizeReachesPebbleExactlyOnce(Transient fault) throws Exception {
        Issuance i = issuance(exactPebble);
        i.proxy.on(Endpoint.FINALIZE.once(), fault.fault(Endpoint.FINALIZE));

        IssuedCertificate issued = i.engine().issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(i.proxy.forwarded("POST", FaultProxy.FINALIZE)).as("finalize requests Pebble saw").isEqualTo(1);
        boolean reachedPebble = fault == Transient.RESET_AFTER || fault == Transient.SLOW;
        // Not forwarded: the re-fetched order is still ready, so the engine finalizes again.
        // Forwarded: the re-fetched order is processing or valid, so the engine does not finalize again.
        assertThat(i.proxy.count("POST", FaultProxy.FINALIZE)).as("finalize requests sent")
                .isEqualTo(reachedPebble ? 1 : 2);
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).singleElement()
                .satisfies(r -> assertThat(r.step()).isEqualTo("finalize"));
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).isEqualTo(1);
    }

    // =================================================================== persistent faults

    @Test
    void persistent503OnNewOrderExhaustsRetriesFastAndResumesWithTheSameKey() throws Exception {
        Issuance i = issuance();
        Rule always = i.proxy.on(Match.post(FaultProxy.NEW_ORDER).always(), Fault.status(503));
        IssuanceEngine engine = i.engine();

        long t0 = System.nanoTime();
        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> engine.issue(i.request));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(e).isNotNull();
        assertThat(e.step()).isEqualTo("newOrder at " + CA);
        assertThat(e.attempts()).isEqualTo(5); // maxRateLimitRetries(4) + the first try
        assertThat(e.getCause()).isInstanceOfSatisfying(AcmeServerException.class,
                c -> assertThat(c.status()).isEqualTo(503));
        assertThat(took).as("fails fast, far inside the deadline").isLessThan(Duration.ofSeconds(5));
        assertThat(always.hits()).isEqualTo(5);
        assertThat(i.proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isZero();
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).hasSize(4)
                .allSatisfy(r -> assertThat(r.cause()).isEqualTo(Cause.UNAVAILABLE));
        Checkpoint cp = i.checkpoint();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orderUrl()).isNull();
        assertThat(cp.orders()).isZero();
        PublicKey key = Pem.readKeyPair(cp.certificateKeyPem()).getPublic();

        always.remove();
        IssuedCertificate issued = engine.issue(i.request);

        assertThat(issued.keyPair().getPublic()).as("the checkpointed key, not a new one").isEqualTo(key);
        i.assertIssuedWithStoredKey(issued);
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).isEqualTo(1);
        assertThat(i.reached(FaultProxy.NEW_ACCOUNT, 201)).isEqualTo(1);
    }

    @Test
    void persistent504OnFinalizeNeverReachesPebbleThenResumeFinalizesOnce() throws Exception {
        Issuance i = issuance();
        Rule always = i.proxy.on(Match.post(FaultProxy.FINALIZE).always(), Fault.status(504));
        IssuanceEngine engine = i.engine();

        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> engine.issue(i.request));

        assertThat(e).isNotNull();
        assertThat(e.step()).isEqualTo("finalize at " + CA);
        assertThat(e.attempts()).isEqualTo(5); // maxErrorRetries(4) + the first try
        assertThat(always.hits()).isEqualTo(5);
        assertThat(i.proxy.forwarded("POST", FaultProxy.FINALIZE)).isZero();
        // Before each new finalize the order was fetched and found still ready.
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).hasSize(4)
                .allSatisfy(r -> assertThat(r.step()).isEqualTo("finalize"));
        Checkpoint cp = i.checkpoint();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orderUrl()).isNotNull();
        assertThat(cp.csr()).isNotNull();
        PublicKey key = Pem.readKeyPair(cp.certificateKeyPem()).getPublic();

        always.remove();
        i.events.clear();
        IssuedCertificate issued = engine.issue(i.request);

        assertThat(issued.keyPair().getPublic()).isEqualTo(key);
        assertThat(issued.orderUrl()).isEqualTo(cp.orderUrl());
        i.assertIssuedWithStoredKey(issued);
        assertThat(i.eventsOf(IssuanceEvent.Resumed.class)).singleElement()
                .satisfies(r -> assertThat(r.orderUrl()).isEqualTo(cp.orderUrl()));
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).as("no second order").isEqualTo(1);
        assertThat(i.reached(FaultProxy.FINALIZE, 200)).isEqualTo(1);
    }

    @Test
    void rateLimitFarBeyondTheDeadlineFailsAtOnceWithoutSleeping() {
        Issuance i = issuance();
        i.proxy.on(Match.post(FaultProxy.NEW_ORDER).always(), Fault.status(429).retryAfter(Duration.ofSeconds(3600))
                .problem("rateLimited", "too many new orders recently"));
        // Retry-After is not clamped below the deadline here, so the engine must see it is too far.
        IssuanceEngine engine = i.engine(fastBackoff().retryAfterRange(Duration.ofMillis(1), Duration.ofHours(2))
                .build(), Deadlines.all(Duration.ofSeconds(10)), IssuanceListener.NONE);

        Instant before = Instant.now();
        AcmeDeadlineException e = catchThrowableOfType(AcmeDeadlineException.class, () -> engine.issue(i.request));
        Instant after = Instant.now();

        assertThat(e).isNotNull();
        assertThat(e.issuanceId()).isEqualTo(i.request.id());
        assertThat(e.step()).isEqualTo("newOrder at " + CA);
        assertThat(e.getCause()).isInstanceOf(AcmeRateLimitedException.class);
        assertThat(e.retryAfter()).hasValueSatisfying(t -> assertThat(t)
                .isBetween(before.plusSeconds(3600 - 1), after.plusSeconds(3600 + 1)));
        assertThat(Duration.between(before, after)).as("no sleeping").isLessThan(Duration.ofSeconds(3));
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).isEmpty();
        // Answered by the proxy (never forwarded): exactly one newOrder was sent, none retried.
        assertThat(i.proxy.count("POST", FaultProxy.NEW_ORDER)).isEqualTo(1);
        assertThat(i.hasCheckpoint()).isTrue();
    }

    // =================================================================== processing

    @Test
    void orderHeldInProcessingForThreePollsHonoursRetryAfterAndSucceeds() throws Exception {
        Issuance i = issuance();
        Rule hold = i.proxy.holdProcessing(3, Duration.ofSeconds(1));

        IssuedCertificate issued = i.engine().issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(hold.hits()).isEqualTo(3);
        assertThat(i.proxy.count(Action.HELD_PROCESSING)).isEqualTo(3);
        // One wait after finalize answered "processing", one after each held poll (plus any while
        // Pebble itself was still processing); the held polls carried Retry-After: 1, honoured.
        List<IssuanceEvent.Polled> processing = i.polled(Status.PROCESSING);
        assertThat(processing.size()).isGreaterThanOrEqualTo(3 + 1);
        assertThat(processing).extracting(IssuanceEvent.Polled::poll)
                .containsExactlyElementsOf(IntStream.rangeClosed(1, processing.size()).boxed().toList());
        // (Without Retry-After no wait exceeds the polling maximum of 250 ms.)
        assertThat(processing).filteredOn(p -> p.nextDelay().compareTo(Duration.ofMillis(500)) > 0
                && p.nextDelay().compareTo(Duration.ofSeconds(1)) <= 0).hasSize(3);
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).isEmpty();
        assertThat(i.reached(FaultProxy.FINALIZE, 200)).isEqualTo(1);
    }

    @Test
    void orderHeldInProcessingForeverEndsAtTheDeadlineAndResumesTheSameOrder() throws Exception {
        Issuance i = issuance();
        Rule hold = i.proxy.holdProcessing(1000, null);
        Duration finalization = Duration.ofSeconds(3);
        Deadlines deadlines = new Deadlines(Duration.ofSeconds(10), Duration.ofSeconds(10), finalization,
                Duration.ofSeconds(30));
        AtomicReference<Instant> readyAt = new AtomicReference<>();
        IssuanceEngine engine = i.engine(fastBackoff().build(), deadlines, e -> {
            if (e instanceof IssuanceEvent.StateChanged s && s.to() == IssuanceState.READY) {
                readyAt.compareAndSet(null, Instant.now());
            }
        });

        AcmeDeadlineException e = catchThrowableOfType(AcmeDeadlineException.class, () -> engine.issue(i.request));
        Instant failedAt = Instant.now();

        assertThat(e).isNotNull();
        assertThat(e.issuanceId()).isEqualTo(i.request.id());
        assertThat(e.step()).isEqualTo("order still processing at " + CA);
        assertThat(hold.hits()).isGreaterThan(3);
        // It never slept past the finalization deadline (counted from READY), and says when to come back.
        assertThat(Duration.between(readyAt.get(), failedAt)).isLessThan(finalization.plusSeconds(1));
        assertThat(e.retryAfter()).hasValueSatisfying(t -> assertThat(t).isAfter(readyAt.get().plus(finalization)));
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).isEmpty();
        // The checkpoint keeps order, CSR and key; the engine marks a stopped issuance FAILED (resumable).
        Checkpoint cp = i.checkpoint();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orderUrl()).isNotNull();
        assertThat(cp.csr()).isNotNull();
        assertThat(cp.orders()).isEqualTo(1);
        PublicKey key = Pem.readKeyPair(cp.certificateKeyPem()).getPublic();
        long accountsBefore = i.proxy.count("POST", FaultProxy.NEW_ACCOUNT);

        i.proxy.clearRules();
        i.events.clear();
        IssuedCertificate issued = engine.issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(issued.keyPair().getPublic()).isEqualTo(key);
        assertThat(issued.orderUrl()).isEqualTo(cp.orderUrl());
        assertThat(i.eventsOf(IssuanceEvent.Resumed.class)).singleElement().satisfies(r -> {
            assertThat(r.orderUrl()).isEqualTo(cp.orderUrl());
            assertThat(r.state()).isEqualTo(IssuanceState.FAILED);
        });
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).as("no second newOrder").isEqualTo(1);
        assertThat(i.reached(FaultProxy.FINALIZE, 200)).as("no second finalize").isEqualTo(1);
        assertThat(i.proxy.count("POST", FaultProxy.NEW_ACCOUNT)).as("the stored account is reused")
                .isEqualTo(accountsBefore);
    }

    @Test
    void interruptDuringAProcessingWaitEndsTypedWithTheFlagSetAndResumes() throws Exception {
        Issuance i = issuance();
        i.proxy.holdProcessing(1000, null);
        // Long polling intervals, so the interrupt lands in the engine's wait, not in I/O.
        DefaultBackoff slowPolls = fastBackoff().polling(Duration.ofMillis(1500), Duration.ofMillis(1500),
                Duration.ofMillis(1500)).build();
        CountDownLatch waiting = new CountDownLatch(1);
        IssuanceEngine engine = i.engine(slowPolls, MATRIX_DEADLINES, e -> {
            if (e instanceof IssuanceEvent.Polled p && p.status() == Status.PROCESSING) {
                waiting.countDown();
            }
        });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        Thread worker = new Thread(() -> {
            try {
                engine.issue(i.request);
            } catch (Throwable t) {
                thrown.set(t);
                flagAfter.set(Thread.currentThread().isInterrupted());
            }
        }, "fault-matrix-issuer");
        worker.start();

        assertThat(waiting.await(20, TimeUnit.SECONDS)).as("reached a processing wait").isTrue();
        Thread.sleep(200);
        long t0 = System.nanoTime();
        worker.interrupt();
        worker.join(10_000);

        assertThat(worker.isAlive()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("stops at once").isLessThan(Duration.ofSeconds(1));
        // Typed, not the FileStore's "ClosedByInterruptException" from writing the FAILED checkpoint.
        assertThat(thrown.get()).isInstanceOf(AcmeInterruptedException.class);
        assertThat(thrown.get().getSuppressed()).isEmpty();
        assertThat(flagAfter.get()).as("interrupt flag set again").isTrue();
        Checkpoint cp = i.checkpoint();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orderUrl()).isNotNull();
        PublicKey key = Pem.readKeyPair(cp.certificateKeyPem()).getPublic();

        i.proxy.clearRules();
        IssuedCertificate issued = i.engine().issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(issued.keyPair().getPublic()).isEqualTo(key);
        assertThat(issued.orderUrl()).isEqualTo(cp.orderUrl());
        assertThat(i.reached(FaultProxy.NEW_ORDER, 201)).isEqualTo(1);
        assertThat(i.reached(FaultProxy.FINALIZE, 200)).isEqualTo(1);
    }

    // =================================================================== badNonce storms

    @Test
    void badNonceStormOfFiveIsAbsorbedByTheClient() throws Exception {
        Issuance i = issuance();
        Rule storm = i.proxy.badNonceStorm(5);

        IssuedCertificate issued = i.engine().issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(storm.hits()).isEqualTo(5);
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).as("never reaches the engine's backoff").isEmpty();
        assertThat(i.reached(FaultProxy.NEW_ACCOUNT, 201)).isEqualTo(1);
    }

    @Test
    void badNonceStormOfThirtyOutlastsTheClientAndIsRetriedByTheEngine() throws Exception {
        Issuance i = issuance();
        Rule storm = i.proxy.badNonceStorm(30);

        IssuedCertificate issued = i.engine().issue(i.request);

        i.assertIssuedWithStoredKey(issued);
        assertThat(storm.hits()).isEqualTo(30);
        // The client sends each request up to 11 times (maxBadNonceRetries 10). Twice that ran out
        // and the engine retried newAccount as a server error: 11 + 11 + 8 injected, then through.
        assertThat(i.eventsOf(IssuanceEvent.Retrying.class)).hasSize(2).allSatisfy(r -> {
            assertThat(r.step()).isEqualTo("newAccount");
            assertThat(r.cause()).isEqualTo(Cause.SERVER_ERROR);
            assertThat(r.error()).contains("badNonce");
        });
        assertThat(i.reached(FaultProxy.NEW_ACCOUNT, 201)).isEqualTo(1);
    }

    @Test
    void endlessBadNonceIsBoundedAndTyped() {
        Issuance i = issuance();
        i.proxy.on(Match.method("POST").always(), Fault.badNonce());

        long t0 = System.nanoTime();
        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> i.engine().issue(i.request));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(e).isNotNull();
        assertThat(e.step()).isEqualTo("newAccount at " + CA);
        assertThat(e.attempts()).isEqualTo(5);
        assertThat(i.proxy.count(Action.BAD_NONCE)).as("(1 + 10 client retries) x (1 + 4 engine retries)")
                .isEqualTo(55);
        assertThat(i.proxy.forwarded("POST", null)).isZero();
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    // =================================================================== plumbing


    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // best effort
        }
    }
}
