package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AcmeDeadlineException;
import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeInterruptedException;
import dev.anvil.acme.AcmeRateLimitedException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.AcmeValidationException;
import dev.anvil.acme.ExternalAccountBinding;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.retry.Backoff;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import dev.anvil.acme.store.MemoryStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.x500.X500Principal;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The issuance engine against a scripted fake ACME CA on MockWebServer, for what Pebble 2.4
 * cannot do: Retry-After, rate limits, finalize answering 5xx, failover between CAs, profiles,
 * EAB-only CAs. The fake parses the flattened JWS (it checks url, nonce and content type but
 * not signatures) and issues real certificates for the key in the CSR the client sends.
 */
class EngineScenariosTest {

    private static final String NAME = "example.com";

    private final List<IssuanceEvent> events = new CopyOnWriteArrayList<>();
    private final List<FakeCa> cas = new ArrayList<>();
    private MemoryStore store;
    private OkHttpClient http;
    private FakeCa ca;
    private RecordingSolver solver;

    @BeforeEach
    void setUp() throws IOException {
        store = new MemoryStore();
        http = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).followRedirects(false).build();
        ca = newCa();
        solver = new RecordingSolver("http-01");
    }

    @AfterEach
    void tearDown() {
        cas.forEach(FakeCa::close);
        http.connectionPool().evictAll();
    }

    private FakeCa newCa() throws IOException {
        FakeCa c = new FakeCa();
        cas.add(c);
        return c;
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    /** Milliseconds everywhere, so retries and polls cost nothing. */
    private static DefaultBackoff.Builder fast() {
        return DefaultBackoff.builder()
                .errorDelays(ms(5), ms(20))
                .maxErrorRetries(2)
                .maxRateLimitRetries(3)
                .retryAfterRange(ms(1), Duration.ofHours(2))
                .polling(ms(10), ms(50), ms(200))
                .jitter(0, () -> 0);
    }

    private IssuanceEngine engine(Backoff backoff, Deadlines deadlines) {
        return IssuanceEngine.builder(store).allowInsecureHttp(true).httpClient(http).backoff(backoff)
                .deadlines(deadlines).listener(events::add).build();
    }

    private IssuanceEngine engine(Backoff backoff) {
        return engine(backoff, Deadlines.defaults());
    }

    private IssuanceRequest request(CertificateAuthority... authorities) {
        IssuanceRequest r = IssuanceRequest.of(NAME).withSolver(solver);
        for (CertificateAuthority a : authorities) {
            r = r.withCa(a);
        }
        return r;
    }

    private <T extends IssuanceEvent> List<T> eventsOf(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private List<IssuanceEvent.Polled> polls(Status status) {
        return eventsOf(IssuanceEvent.Polled.class).stream().filter(p -> p.status() == status).toList();
    }

    private void assertIssued(IssuanceEngine engine, IssuedCertificate cert, String caName) throws Exception {
        assertThat(cert.ca()).isEqualTo(caName);
        assertThat(cert.issuanceId()).isEqualTo(NAME);
        assertThat(cert.chain().certificates()).hasSize(2);
        assertThat(cert.leaf().getSubjectAlternativeNames())
                .anySatisfy(san -> assertThat(san.get(1)).isEqualTo(NAME));
        assertThat(cert.leaf().getPublicKey().getEncoded()).isEqualTo(cert.keyPair().getPublic().getEncoded());
        assertThat(cert.leaf().getIssuerX500Principal()).isEqualTo(Pki.INTERMEDIATE.getSubjectX500Principal());
        assertThat(store.read(IssuanceEngine.certificateKey(NAME))).isPresent();
        assertThat(engine.checkpoint(NAME)).isEmpty();
        assertThat(solver.cleaned).hasSameSizeAs(solver.presented);
    }

    // ---- baseline ----

    @Test
    void happyPathWalksEveryStateAndCleansUp() throws Exception {
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        assertThat(eventsOf(IssuanceEvent.StateChanged.class)).extracting(IssuanceEvent.StateChanged::to)
                .containsSubsequence(IssuanceState.ORDERED, IssuanceState.AUTHORIZING, IssuanceState.READY,
                        IssuanceState.FINALIZING, IssuanceState.VALID, IssuanceState.STORED);
        assertThat(solver.presented).hasSize(1);
        ChallengeContext c = solver.presented.get(0);
        assertThat(c.identifier()).isEqualTo(Identifier.dns(NAME));
        assertThat(c.keyAuthorization()).startsWith(c.token() + ".");
        assertThat(solver.cleaned).containsExactly(c);
        assertThat(ca.count("new-account")).isEqualTo(1);
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(ca.count("finalize")).isEqualTo(1);
        assertThat(ca.payloads("new-order").get(0).has("profile")).isFalse();
    }

    // ---- a. Retry-After while polling ----

    @Test
    void processingHonoursRetryAfterThenSucceeds() throws Exception {
        ca.processingPolls = 3;
        ca.processingRetryAfter = "1";
        IssuanceEngine engine = engine(fast().polling(ms(10), ms(50), Duration.ofSeconds(5)).build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        List<IssuanceEvent.Polled> processing = polls(Status.PROCESSING);
        assertThat(processing).hasSize(3);
        assertThat(processing).extracting(IssuanceEvent.Polled::poll).containsExactly(1, 2, 3);
        // Retry-After: 1 beats the 50 ms polling cap (parsed against the clock, so a little under 1 s)
        assertThat(processing).allSatisfy(p -> assertThat(p.nextDelay()).isBetween(ms(500), ms(1000)));
        assertThat(processing).allSatisfy(p -> assertThat(p.resource()).isEqualTo(ca.url("/order/1")));
        // no Retry-After while pending: the polling schedule from pollInitial
        assertThat(polls(Status.PENDING)).isNotEmpty()
                .allSatisfy(p -> assertThat(p.nextDelay()).isEqualTo(ms(10)));
        assertThat(ca.count("finalize")).isEqualTo(1);
    }

    @Test
    void hugeRetryAfterOnAuthorizationsAndOrdersIsClamped() throws Exception {
        ca.pendingPolls = 1;
        ca.processingPolls = 1;
        ca.pendingRetryAfter = "86400";
        ca.processingRetryAfter = "86400";
        ca.challengeRetryAfter = "10";
        IssuanceEngine engine = engine(fast().polling(ms(10), ms(50), ms(200)).build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        assertThat(polls(Status.PENDING)).hasSize(2);
        assertThat(polls(Status.PROCESSING)).hasSize(1);
        assertThat(eventsOf(IssuanceEvent.Polled.class))
                .allSatisfy(p -> assertThat(p.nextDelay()).isEqualTo(ms(200)));
        assertThat(ca.sentRetryAfter.get()).as("the fake really sent Retry-After: 86400").isTrue();
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).isEmpty();
    }

    // ---- b. deadline while processing, then resume ----

    @Test
    void stuckOrderEndsAtTheDeadlineAndResumesTheSameOrder() throws Exception {
        ca.processingPolls = Integer.MAX_VALUE;
        IssuanceEngine engine = engine(fast().polling(ms(20), ms(100), ms(200)).build(),
                Deadlines.all(Duration.ofSeconds(2)));
        IssuanceRequest request = request(ca.authority("fake"));

        AcmeDeadlineException e = catchThrowableOfType(AcmeDeadlineException.class, () -> engine.issue(request));

        assertThat(e).isNotNull();
        assertThat(e.issuanceId()).isEqualTo(NAME);
        assertThat(e.retryAfter()).isPresent();
        assertThat(e.getMessage()).contains(NAME).contains("processing");
        assertThat(polls(Status.PROCESSING)).hasSizeGreaterThan(3);
        Checkpoint cp = engine.checkpoint(NAME).orElseThrow();
        assertThat(cp.orderUrl()).isEqualTo(ca.url("/order/1"));
        assertThat(cp.ca()).isEqualTo("fake");
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orders()).isEqualTo(1);
        KeyPair firstKey = Pem.readKeyPair(cp.certificateKeyPem());

        ca.release();
        events.clear();
        IssuedCertificate cert = engine.issue(request);

        assertIssued(engine, cert, "fake");
        assertThat(cert.orderUrl()).isEqualTo(ca.url("/order/1"));
        assertThat(cert.keyPair().getPublic().getEncoded()).isEqualTo(firstKey.getPublic().getEncoded());
        assertThat(eventsOf(IssuanceEvent.Resumed.class)).singleElement()
                .satisfies(r -> assertThat(r.orderUrl()).isEqualTo(ca.url("/order/1")));
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(ca.count("finalize")).isEqualTo(1);
        assertThat(ca.count("new-account")).as("the stored account is reused").isEqualTo(1);
    }

    // ---- c. rate limits ----

    @Test
    void rateLimitedNewOrderWaitsForRetryAfterAndSucceeds() throws Exception {
        ca.script("new-order", r -> problem(429, "rateLimited", "too many new orders recently", "1"));
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).singleElement().satisfies(r -> {
            assertThat(r.cause()).isEqualTo(Cause.RATE_LIMITED);
            assertThat(r.step()).isEqualTo("newOrder");
            assertThat(r.attempt()).isEqualTo(1);
            assertThat(r.delay()).isBetween(ms(500), ms(1000));
            assertThat(r.error()).contains("rateLimited");
        });
        assertThat(ca.count("new-order")).isEqualTo(2);
    }

    @Test
    void rateLimitBeyondTheDeadlineFailsAtOnceWithoutSleeping() {
        for (int i = 0; i < 5; i++) {
            ca.script("new-order", r -> problem(429, "rateLimited", "too many certificates", "3600"));
        }
        IssuanceEngine engine = engine(fast().build(), Deadlines.all(Duration.ofSeconds(20)));
        Instant before = Instant.now();

        AcmeDeadlineException e = catchThrowableOfType(AcmeDeadlineException.class,
                () -> engine.issue(request(ca.authority("fake"))));

        assertThat(e).isNotNull();
        assertThat(e.issuanceId()).isEqualTo(NAME);
        assertThat(e.retryAfter()).hasValueSatisfying(t -> assertThat(t).isAfter(before.plus(Duration.ofMinutes(50))));
        assertThat(e.getCause()).isInstanceOf(AcmeRateLimitedException.class);
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).isEmpty();
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(engine.checkpoint(NAME)).isPresent();
    }

    // ---- d. finalize answering 5xx ----

    @Test
    void finalizeBadGatewayAfterTheCaAcceptedItIsNotSentAgain() throws Exception {
        ca.processingPolls = 2;
        ca.script("finalize", r -> {
            ca.answer(r); // the CA processes the request, then the gateway loses the answer
            return html(502, "<html><body>502 Bad Gateway</body></html>");
        });
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        assertThat(ca.count("finalize")).isEqualTo(1);
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).singleElement().satisfies(r -> {
            assertThat(r.step()).isEqualTo("finalize");
            assertThat(r.cause()).isEqualTo(Cause.SERVER_ERROR);
        });
        assertThat(polls(Status.PROCESSING)).isNotEmpty();
    }

    @Test
    void finalizeGatewayTimeoutWhileStillReadyIsSentAgain() throws Exception {
        ca.script("finalize", r -> html(504, "<html><body>504 Gateway Time-out</body></html>"));
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")));

        assertIssued(engine, cert, "fake");
        assertThat(ca.count("finalize")).isEqualTo(2);
        // the order was looked at between the two finalize requests
        List<String> endpoints = ca.endpoints();
        int firstFinalize = endpoints.indexOf("finalize");
        int secondFinalize = endpoints.lastIndexOf("finalize");
        assertThat(endpoints.subList(firstFinalize, secondFinalize)).contains("order");
    }

    // ---- e. failover ----

    @Test
    void userErrorsDoNotFailOver() throws Exception {
        FakeCa second = newCa();
        ca.script("new-order", r -> problem(403, "rejectedIdentifier", "example.com is on a blocklist", null));
        IssuanceEngine engine = engine(fast().build());

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> engine.issue(request(ca.authority("ca1"), second.authority("ca2"))));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.is("rejectedIdentifier")).isTrue();
        assertThat(e.getMessage()).contains("blocklist");
        assertThat(second.server.getRequestCount()).isZero();
        assertThat(eventsOf(IssuanceEvent.FailedOver.class)).isEmpty();
        assertThat(IssuanceEngine.failoverHelps(e)).isFalse();
    }

    @Test
    void serverErrorsEverywhereFailOverToTheNextCa() throws Exception {
        FakeCa second = newCa();
        ca.everything = r -> problem(500, "serverInternal", "the database is on fire", null);
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("ca1"), second.authority("ca2")));

        assertIssued(engine, cert, "ca2");
        assertThat(eventsOf(IssuanceEvent.FailedOver.class)).singleElement().satisfies(f -> {
            assertThat(f.ca()).isEqualTo("ca1");
            assertThat(f.nextCa()).isEqualTo("ca2");
            assertThat(f.reason()).contains("500");
        });
        // the directory was tried 1 + maxErrorRetries times, then given up
        assertThat(ca.count("directory")).isEqualTo(3);
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).filteredOn(r -> r.ca().equals("ca1")).hasSize(2)
                .allSatisfy(r -> assertThat(r.cause()).isEqualTo(Cause.SERVER_ERROR));
        assertThat(second.count("new-order")).isEqualTo(1);
    }

    // ---- f. cleanUp always runs ----

    @Test
    void presentFailureStillCleansUpAndNamesTheIdentifier() {
        solver.presentFailure = new IOException("web root is read-only");
        IssuanceEngine engine = engine(fast().build());

        AcmeException e = catchThrowableOfType(AcmeException.class, () -> engine.issue(request(ca.authority("fake"))));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains(NAME).contains("http-01").contains("web root is read-only");
        assertThat(solver.presented).hasSize(1);
        assertThat(solver.cleaned).containsExactlyElementsOf(solver.presented);
        assertThat(ca.count("challenge")).as("nothing to validate").isZero();
        assertThat(engine.checkpoint(NAME)).isPresent();
    }

    @Test
    void invalidOrderCarriesTheChallengeProblemWithItsIdentifier() throws Exception {
        FakeCa second = newCa();
        ca.failValidation = true;
        IssuanceEngine engine = engine(fast().build());

        AcmeValidationException e = catchThrowableOfType(AcmeValidationException.class,
                () -> engine.issue(request(ca.authority("ca1"), second.authority("ca2"))));

        assertThat(e).isNotNull();
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.type()).isEqualTo("urn:ietf:params:acme:error:incorrectResponse");
            assertThat(p.detail()).contains("404");
            assertThat(p.identifier()).isEqualTo(Identifier.dns(NAME));
        });
        assertThat(e.getMessage()).contains("incorrectResponse").contains(NAME);
        assertThat(solver.cleaned).hasSize(1).containsExactlyElementsOf(solver.presented);
        // the challenge setup must be fixed: another CA would fail the same way
        assertThat(second.server.getRequestCount()).isZero();
    }

    @Test
    void parallelPresentFailureCleansUpOnlyAfterTheOtherPresentsFinished() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        CountDownLatch bStarted = new CountDownLatch(1);
        ChallengeSolver slow = new ChallengeSolver() {
            @Override
            public List<String> types() {
                return List.of("http-01");
            }

            @Override
            public void present(ChallengeContext c) throws Exception {
                String name = c.identifier().value();
                log.add("present " + name);
                if (name.startsWith("a.")) {
                    bStarted.await(5, TimeUnit.SECONDS);
                    throw new IOException("API down for " + name);
                }
                bStarted.countDown();
                // an API call that does not react to interruption
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                while (System.nanoTime() < end) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException ignored) {
                        // keeps going, as blocking socket I/O would
                    }
                }
                log.add("presented " + name);
            }

            @Override
            public void cleanUp(ChallengeContext c) {
                log.add("cleanUp " + c.identifier().value());
            }
        };
        IssuanceEngine engine = engine(fast().build());
        IssuanceRequest request = IssuanceRequest.of("a.example.com", "b.example.com").withSolver(slow)
                .withCa(ca.authority("fake"));

        AcmeException e = catchThrowableOfType(AcmeException.class, () -> engine.issue(request));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("a.example.com").contains("API down");
        assertThat(log).contains("cleanUp a.example.com", "cleanUp b.example.com");
        assertThat(log).containsSubsequence("presented b.example.com", "cleanUp b.example.com");
        assertThat(log.stream().filter(l -> l.startsWith("cleanUp"))).hasSize(2);
    }

    // ---- g. interruption ----

    @Test
    void interruptionWhileSleepingInAPollStopsCleansUpAndKeepsTheFlag() throws Exception {
        ca.pendingPolls = 1000;
        CountDownLatch polling = new CountDownLatch(1);
        IssuanceEngine engine = IssuanceEngine.builder(store).allowInsecureHttp(true).httpClient(http)
                .backoff(fast().polling(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5)).build())
                .listener(ev -> {
                    events.add(ev);
                    if (ev instanceof IssuanceEvent.Polled) {
                        polling.countDown();
                    }
                }).build();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flagAfter = new AtomicReference<>();
        Thread issuer = new Thread(() -> {
            try {
                engine.issue(request(ca.authority("fake")));
            } catch (Throwable t) {
                thrown.set(t);
            }
            flagAfter.set(Thread.currentThread().isInterrupted());
        }, "issuer");
        issuer.start();

        assertThat(polling.await(10, TimeUnit.SECONDS)).as("the engine started polling").isTrue();
        issuer.interrupt();
        issuer.join(10_000);

        assertThat(issuer.isAlive()).isFalse();
        assertThat(thrown.get()).isInstanceOf(AcmeInterruptedException.class);
        assertThat(flagAfter.get()).as("interrupt flag set after issue returned").isTrue();
        assertThat(solver.presented).hasSize(1);
        assertThat(solver.cleaned).containsExactlyElementsOf(solver.presented);
        assertThat(polls(Status.PENDING)).hasSize(1);
        assertThat(engine.checkpoint(NAME)).hasValueSatisfying(cp -> assertThat(cp.orderUrl()).isNotNull());
    }

    @Test
    void interruptionDuringARequestStopsWithTheFlagSet() throws Exception {
        ca.pendingPolls = 1000;
        CountDownLatch polling = new CountDownLatch(1);
        // every order poll takes 3 s to answer: the interrupt hits the HTTP call, not a sleep
        ca.delayOrderPolls = true;
        IssuanceEngine engine = IssuanceEngine.builder(store).allowInsecureHttp(true).httpClient(http)
                .backoff(fast().polling(ms(1), ms(1), ms(1)).build())
                .listener(ev -> {
                    events.add(ev);
                    if (ev instanceof IssuanceEvent.Polled) {
                        polling.countDown();
                    }
                }).build();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flagAfter = new AtomicReference<>();
        Thread issuer = new Thread(() -> {
            try {
                engine.issue(request(ca.authority("fake")));
            } catch (Throwable t) {
                thrown.set(t);
            }
            flagAfter.set(Thread.currentThread().isInterrupted());
        }, "issuer");
        issuer.start();

        assertThat(polling.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ca.orderPollStarted.await(10, TimeUnit.SECONDS)).as("an order poll is in flight").isTrue();
        issuer.interrupt();
        issuer.join(10_000);

        assertThat(issuer.isAlive()).isFalse();
        assertThat(thrown.get()).isInstanceOf(AcmeInterruptedException.class);
        assertThat(flagAfter.get()).isTrue();
        assertThat(solver.cleaned).containsExactlyElementsOf(solver.presented);
        assertThat(eventsOf(IssuanceEvent.Retrying.class)).as("an interrupt is not a network error to retry").isEmpty();
    }

    // ---- h. no solver ----

    @Test
    void noSolverForTheOfferedTypesListsThem() {
        ca.challengeTypes = List.of("dns-01", "tls-alpn-01");
        IssuanceEngine engine = engine(fast().build());

        AcmeException e = catchThrowableOfType(AcmeException.class, () -> engine.issue(request(ca.authority("fake"))));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains(NAME).contains("dns-01").contains("tls-alpn-01").contains("http-01");
        assertThat(solver.presented).isEmpty();
        assertThat(solver.cleaned).isEmpty();
        assertThat(ca.count("challenge")).isZero();
    }

    // ---- i. profiles ----

    @Test
    void advertisedProfileIsSentWithNewOrder() throws Exception {
        ca.meta = Map.of("profiles", Map.of("classic", "90 days", "shortlived", "about 6 days"));
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake").withProfile("shortlived")));

        assertIssued(engine, cert, "fake");
        assertThat(ca.payloads("new-order")).singleElement()
                .satisfies(p -> assertThat(p.path("profile").asText()).isEqualTo("shortlived"));
    }

    @Test
    void unadvertisedProfileIsRefusedBeforeAnyNewOrder() {
        ca.meta = Map.of("profiles", Map.of("classic", "90 days", "shortlived", "about 6 days"));
        IssuanceEngine engine = engine(fast().build());

        IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
                () -> engine.issue(request(ca.authority("fake").withProfile("nope"))));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("nope").contains("classic").contains("shortlived");
        assertThat(ca.count("new-order")).isZero();
    }

    @Test
    void profileIsNotSentToACaWithoutProfiles() throws Exception {
        IssuanceEngine engine = engine(fast().build());

        engine.issue(request(ca.authority("fake").withProfile("shortlived")));

        assertThat(ca.payloads("new-order")).singleElement().satisfies(p -> assertThat(p.has("profile")).isFalse());
    }

    // ---- j. EAB ----

    @Test
    void externalAccountBindingIsSentToACaThatRequiresIt() throws Exception {
        byte[] macKey = new byte[32];
        new SecureRandom().nextBytes(macKey);
        String macKeyB64 = Base64.getUrlEncoder().withoutPadding().encodeToString(macKey);
        ca.meta = Map.of("externalAccountRequired", true);
        IssuanceEngine engine = engine(fast().build());

        IssuedCertificate cert = engine.issue(request(ca.authority("fake")
                .withEab(EabProvider.of(ExternalAccountBinding.of("kid-123", macKeyB64)))));

        assertIssued(engine, cert, "fake");
        FakeCa.Req newAccount = ca.requests("new-account").get(0);
        JsonNode eab = newAccount.payload().path("externalAccountBinding");
        assertThat(eab.isObject()).isTrue();
        JsonNode header = FakeCa.decodeJson(eab.path("protected").asText());
        assertThat(header.path("alg").asText()).isEqualTo("HS256");
        assertThat(header.path("kid").asText()).isEqualTo("kid-123");
        assertThat(header.path("url").asText()).isEqualTo(ca.url("/new-account"));
        // the bound key is the account key of the outer JWS
        assertThat(FakeCa.decodeJson(eab.path("payload").asText())).isEqualTo(newAccount.protectedHeader().path("jwk"));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
        byte[] expected = mac.doFinal((eab.path("protected").asText() + "." + eab.path("payload").asText())
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(Base64.getUrlDecoder().decode(eab.path("signature").asText())).isEqualTo(expected);
    }

    @Test
    void caRequiringEabWithoutCredentialsFailsBeforeRegistering() {
        ca.meta = Map.of("externalAccountRequired", true);
        IssuanceEngine engine = engine(fast().build());

        AcmeException e = catchThrowableOfType(AcmeException.class, () -> engine.issue(request(ca.authority("fake"))));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("external account binding");
        assertThat(ca.count("new-account")).isZero();
    }

    // ======================================================================================
    // test doubles
    // ======================================================================================

    /** A solver that records what it is asked to do. */
    static final class RecordingSolver implements ChallengeSolver {
        final List<String> types;
        final List<ChallengeContext> presented = new CopyOnWriteArrayList<>();
        final List<ChallengeContext> cleaned = new CopyOnWriteArrayList<>();
        volatile Exception presentFailure;

        RecordingSolver(String... types) {
            this.types = List.of(types);
        }

        @Override
        public List<String> types() {
            return types;
        }

        @Override
        public void present(ChallengeContext challenge) throws Exception {
            presented.add(challenge);
            if (presentFailure != null) {
                throw presentFailure;
            }
        }

        @Override
        public void cleanUp(ChallengeContext challenge) {
            cleaned.add(challenge);
        }
    }

    static MockResponse problem(int status, String type, String detail, String retryAfter) {
        MockResponse.Builder b = new MockResponse.Builder().code(status)
                .setHeader("Content-Type", "application/problem+json")
                .body(Json.write(Map.of("type", Problem.ACME_PREFIX + type, "detail", detail, "status", status)));
        if (retryAfter != null) {
            b.setHeader("Retry-After", retryAfter);
        }
        return b.build();
    }

    static MockResponse html(int status, String body) {
        return new MockResponse.Builder().code(status).setHeader("Content-Type", "text/html").body(body).build();
    }

    /** A CA hierarchy for the fake: a root and an intermediate that issues the leaves. */
    static final class Pki {
        private static final AtomicInteger SERIAL = new AtomicInteger(1000);
        static final KeyPair ROOT_KEY = ecKey();
        static final X509Certificate ROOT = ca("CN=Fake Root,O=Anvil Tests", ROOT_KEY, null, ROOT_KEY);
        static final KeyPair INTERMEDIATE_KEY = ecKey();
        static final X509Certificate INTERMEDIATE = ca("CN=Fake Intermediate,O=Anvil Tests", INTERMEDIATE_KEY, ROOT,
                ROOT_KEY);

        static KeyPair ecKey() {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                return g.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static X509Certificate ca(String name, KeyPair key, X509Certificate issuer, KeyPair issuerKey) {
            X500Principal subject = new X500Principal(name);
            X500Principal issuerName = issuer == null ? subject : issuer.getSubjectX500Principal();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(Instant.now().minusSeconds(3600)),
                    Date.from(Instant.now().plus(Duration.ofDays(365))), subject, key.getPublic());
            try {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(1));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return sign(b, issuerKey);
        }

        static X509Certificate leaf(PublicKey key, List<String> dnsNames) {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(INTERMEDIATE,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(Instant.now().minusSeconds(60)),
                    Date.from(Instant.now().plus(Duration.ofDays(90))), new X500Principal("CN=" + dnsNames.get(0)), key);
            try {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(dnsNames.stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return sign(b, INTERMEDIATE_KEY);
        }

        private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuerKey) {
            try {
                return new JcaX509CertificateConverter().getCertificate(
                        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * A scripted ACME CA with one order at a time. Endpoints: {@code /directory}, {@code /nonce},
     * {@code /new-account}, {@code /new-order}, {@code /order/1}, {@code /authz/<i>},
     * {@code /challenge/<i>}, {@code /finalize/1}, {@code /cert/1}. Scripts (per endpoint, used
     * once each, first in first out) and {@link #everything} override the normal answers.
     */
    static final class FakeCa implements AutoCloseable {

        private static final ObjectMapper MAPPER = new ObjectMapper();

        /** One request as the fake saw it. {@code payload} is null for POST-as-GET and non-POST requests. */
        record Req(String method, String path, String endpoint, JsonNode protectedHeader, JsonNode payload) {
        }

        final MockWebServer server = new MockWebServer();
        private final List<Req> requests = new CopyOnWriteArrayList<>();
        private final Set<String> nonces = ConcurrentHashMap.newKeySet();
        private final AtomicInteger nonceCounter = new AtomicInteger();
        private final Map<String, Deque<Function<Req, MockResponse>>> scripts = new ConcurrentHashMap<>();
        final AtomicReference<Boolean> sentRetryAfter = new AtomicReference<>(false);

        // ---- configuration (set before issuing) ----
        volatile Map<String, Object> meta = Map.of();
        volatile List<String> challengeTypes = List.of("http-01");
        /** Order answers still "pending" after every challenge was answered. */
        volatile int pendingPolls;
        /** Order answers "processing" after finalize (the finalize answer included); MAX_VALUE: until released. */
        volatile int processingPolls;
        volatile String pendingRetryAfter;
        volatile String processingRetryAfter;
        volatile String challengeRetryAfter;
        volatile boolean failValidation;
        /** When set, POST-as-GET of the order answers after 3 s. */
        volatile boolean delayOrderPolls;
        final CountDownLatch orderPollStarted = new CountDownLatch(1);
        /** When set, answers every request (a CA that is down). */
        volatile Function<Req, MockResponse> everything;

        // ---- state of the one order ----
        private List<String> identifiers = List.of();
        private String orderStatus;
        private final List<String> authzStatus = new ArrayList<>();
        private final List<String> challengeStatus = new ArrayList<>();
        private final List<String> tokens = new ArrayList<>();
        private int pendingLeft;
        private int processingLeft;
        private String certificatePem;

        FakeCa() throws IOException {
            server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return withNonce(handle(request));
                }
            });
            server.start();
        }

        String url(String path) {
            return server.url(path).toString();
        }

        CertificateAuthority authority(String name) {
            return CertificateAuthority.of(name, url("/directory"));
        }

        /** Answers the next request to the endpoint with this function, once. */
        void script(String endpoint, Function<Req, MockResponse> answer) {
            scripts.computeIfAbsent(endpoint, k -> new ArrayDeque<>()).add(answer);
        }

        /** Lets an order held in "processing" become valid. */
        synchronized void release() {
            processingLeft = 0;
        }

        List<Req> requests(String endpoint) {
            return requests.stream().filter(r -> r.endpoint().equals(endpoint)).toList();
        }

        int count(String endpoint) {
            return requests(endpoint).size();
        }

        List<JsonNode> payloads(String endpoint) {
            return requests(endpoint).stream().map(Req::payload).toList();
        }

        List<String> endpoints() {
            return requests.stream().map(Req::endpoint).toList();
        }

        static JsonNode decodeJson(String base64url) {
            try {
                return MAPPER.readTree(Base64.getUrlDecoder().decode(base64url));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private MockResponse handle(RecordedRequest rr) {
            String path = rr.getUrl().encodedPath();
            String first = path.split("/").length > 1 ? path.split("/")[1] : "";
            String endpoint = switch (first) {
                case "authz" -> "authorization";
                default -> first;
            };
            JsonNode header = null;
            JsonNode payload = null;
            if ("POST".equals(rr.getMethod())) {
                String contentType = rr.getHeaders().get("Content-Type");
                if (!"application/jose+json".equals(contentType)) {
                    return problem(415, "malformed", "Content-Type must be application/jose+json", null);
                }
                try {
                    JsonNode jws = MAPPER.readTree(rr.getBody() == null ? "" : rr.getBody().utf8());
                    header = decodeJson(jws.path("protected").asText());
                    String p = jws.path("payload").asText();
                    payload = p.isEmpty() ? null : decodeJson(p);
                } catch (IOException | RuntimeException e) {
                    return problem(400, "malformed", "not a flattened JWS: " + e, null);
                }
            }
            Req req = new Req(rr.getMethod(), path, endpoint, header, payload);
            requests.add(req);
            if (header != null) {
                if (!nonces.remove(header.path("nonce").asText())) {
                    return problem(400, "badNonce", "The Replay Nonce is not recognized", null);
                }
                if (!rr.getUrl().toString().equals(header.path("url").asText())) {
                    return problem(401, "unauthorized", "JWS url " + header.path("url") + " is not " + rr.getUrl(),
                            null);
                }
            }
            Function<Req, MockResponse> all = everything;
            if (all != null) {
                return all.apply(req);
            }
            Deque<Function<Req, MockResponse>> script = scripts.get(endpoint);
            Function<Req, MockResponse> next = null;
            if (script != null) {
                synchronized (script) {
                    next = script.poll();
                }
            }
            return next != null ? next.apply(req) : answer(req);
        }

        private MockResponse withNonce(MockResponse r) {
            String nonce = "nonce" + nonceCounter.incrementAndGet() + "_" + Long.toHexString(System.nanoTime());
            nonces.add(nonce);
            return r.newBuilder().setHeader("Replay-Nonce", nonce).setHeader("Cache-Control", "no-store").build();
        }

        /** The normal behaviour of the CA. */
        synchronized MockResponse answer(Req r) {
            switch (r.endpoint()) {
                case "directory" -> {
                    Map<String, Object> dir = new LinkedHashMap<>();
                    dir.put("newNonce", url("/nonce"));
                    dir.put("newAccount", url("/new-account"));
                    dir.put("newOrder", url("/new-order"));
                    dir.put("revokeCert", url("/revoke"));
                    dir.put("keyChange", url("/key-change"));
                    dir.put("meta", meta);
                    return json(200, dir);
                }
                case "nonce" -> {
                    return new MockResponse.Builder().code("HEAD".equals(r.method()) ? 200 : 204).build();
                }
                case "new-account" -> {
                    if (!r.protectedHeader().has("jwk")) {
                        return problem(400, "malformed", "newAccount must carry a jwk", null);
                    }
                    return json(201, Map.of("status", "valid", "orders", url("/acct/1/orders")))
                            .newBuilder().setHeader("Location", url("/acct/1")).build();
                }
                case "new-order" -> {
                    if (!r.protectedHeader().has("kid")) {
                        return problem(400, "malformed", "newOrder must carry a kid", null);
                    }
                    identifiers = new ArrayList<>();
                    r.payload().path("identifiers").forEach(i -> identifiers.add(i.path("value").asText()));
                    orderStatus = "pending";
                    authzStatus.clear();
                    challengeStatus.clear();
                    tokens.clear();
                    for (int i = 0; i < identifiers.size(); i++) {
                        authzStatus.add("pending");
                        challengeStatus.add("pending");
                        tokens.add("token" + i + "_" + Long.toHexString(System.nanoTime()));
                    }
                    certificatePem = null;
                    return order(201).newBuilder().setHeader("Location", url("/order/1")).build();
                }
                case "order" -> {
                    if (delayOrderPolls) {
                        orderPollStarted.countDown();
                        return order(200).newBuilder().headersDelay(3, TimeUnit.SECONDS).build();
                    }
                    return order(200);
                }
                case "authorization" -> {
                    int i = index(r.path());
                    MockResponse.Builder b = json(200, authorization(i)).newBuilder();
                    if ("pending".equals(authzStatus.get(i)) && pendingRetryAfter != null) {
                        b.setHeader("Retry-After", pendingRetryAfter);
                        sentRetryAfter.set(true);
                    }
                    return b.build();
                }
                case "challenge" -> {
                    int i = index(r.path());
                    if (r.payload() != null && "pending".equals(challengeStatus.get(i))) {
                        challengeStatus.set(i, "processing");
                        if (!challengeStatus.contains("pending")) {
                            pendingLeft = pendingPolls;
                        }
                    }
                    MockResponse.Builder b = json(200, challenge(i, challengeTypes.get(0))).newBuilder();
                    if (challengeRetryAfter != null) {
                        b.setHeader("Retry-After", challengeRetryAfter);
                    }
                    return b.build();
                }
                case "finalize" -> {
                    if (!"ready".equals(orderStatus)) {
                        return problem(403, "orderNotReady", "order is " + orderStatus, null);
                    }
                    String issued = issue(r.payload().path("csr").asText());
                    if (issued != null) {
                        return problem(400, "badCSR", issued, null);
                    }
                    orderStatus = "processing";
                    processingLeft = processingPolls;
                    return order(200);
                }
                case "cert" -> {
                    if (certificatePem == null || !"valid".equals(orderStatus)) {
                        return problem(404, "malformed", "no certificate yet", null);
                    }
                    return new MockResponse.Builder().code(200)
                            .setHeader("Content-Type", "application/pem-certificate-chain").body(certificatePem).build();
                }
                default -> {
                    return problem(404, "malformed", "no such resource " + r.path(), null);
                }
            }
        }

        /** Issues the certificate for the CSR; returns an error detail when the CSR is unacceptable. */
        private String issue(String csrBase64Url) {
            try {
                PKCS10CertificationRequest csr = new PKCS10CertificationRequest(Base64.getUrlDecoder().decode(csrBase64Url));
                // the JDK's KeyFactory knows "EC" and "RSA", not the OIDs Bouncy Castle would look up
                String keyAlgorithm = X9ObjectIdentifiers.id_ecPublicKey.equals(
                        csr.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm()) ? "EC" : "RSA";
                PublicKey key = KeyFactory.getInstance(keyAlgorithm)
                        .generatePublic(new X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded()));
                if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                    return "CSR signature is invalid";
                }
                List<String> sans = new ArrayList<>();
                for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                    Extensions extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
                    GeneralNames names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
                    if (names != null) {
                        for (GeneralName n : names.getNames()) {
                            sans.add(n.getName().toString());
                        }
                    }
                }
                if (!Set.copyOf(sans).equals(Set.copyOf(identifiers))) {
                    return "CSR names " + sans + " do not match the order's " + identifiers;
                }
                X509Certificate leaf = Pki.leaf(key, identifiers);
                certificatePem = Pem.write(leaf) + Pem.write(Pki.INTERMEDIATE);
                return null;
            } catch (Exception e) {
                return "unreadable CSR: " + e;
            }
        }

        private MockResponse order(int code) {
            if ("pending".equals(orderStatus) && !challengeStatus.contains("pending")) {
                if (pendingLeft > 0) {
                    pendingLeft--;
                } else {
                    for (int i = 0; i < authzStatus.size(); i++) {
                        authzStatus.set(i, failValidation ? "invalid" : "valid");
                        challengeStatus.set(i, failValidation ? "invalid" : "valid");
                    }
                    orderStatus = failValidation ? "invalid" : "ready";
                }
            } else if ("processing".equals(orderStatus)) {
                if (processingLeft > 0) {
                    if (processingLeft != Integer.MAX_VALUE) {
                        processingLeft--;
                    }
                } else {
                    orderStatus = "valid";
                }
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("status", orderStatus);
            o.put("expires", Instant.now().plus(Duration.ofDays(7)).toString());
            o.put("identifiers", identifiers.stream().map(n -> Map.of("type", "dns", "value", n)).toList());
            List<String> authzs = new ArrayList<>();
            for (int i = 0; i < identifiers.size(); i++) {
                authzs.add(url("/authz/" + i));
            }
            o.put("authorizations", authzs);
            o.put("finalize", url("/finalize/1"));
            if ("valid".equals(orderStatus)) {
                o.put("certificate", url("/cert/1"));
            }
            MockResponse.Builder b = json(code, o).newBuilder();
            String retryAfter = "pending".equals(orderStatus) ? pendingRetryAfter
                    : "processing".equals(orderStatus) ? processingRetryAfter : null;
            if (retryAfter != null) {
                b.setHeader("Retry-After", retryAfter);
                sentRetryAfter.set(true);
            }
            return b.build();
        }

        private Map<String, Object> authorization(int i) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("identifier", Map.of("type", "dns", "value", identifiers.get(i)));
            a.put("status", authzStatus.get(i));
            a.put("expires", Instant.now().plus(Duration.ofDays(7)).toString());
            List<Map<String, Object>> challenges = new ArrayList<>();
            for (String type : challengeTypes) {
                challenges.add(challenge(i, type));
            }
            a.put("challenges", challenges);
            return a;
        }

        private Map<String, Object> challenge(int i, String type) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("type", type);
            c.put("url", url("/challenge/" + i));
            c.put("status", challengeStatus.get(i));
            c.put("token", tokens.get(i));
            if ("invalid".equals(challengeStatus.get(i))) {
                c.put("error", Map.of("type", Problem.ACME_PREFIX + "incorrectResponse",
                        "detail", "Invalid response from http://" + identifiers.get(i)
                                + "/.well-known/acme-challenge/" + tokens.get(i) + ": 404",
                        "status", 403));
            }
            return c;
        }

        private static int index(String path) {
            return Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
        }

        private static MockResponse json(int code, Object body) {
            return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json")
                    .body(Json.write(body)).build();
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
