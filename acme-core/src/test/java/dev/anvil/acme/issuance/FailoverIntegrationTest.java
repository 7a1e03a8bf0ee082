package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.AcmeValidationException;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestTls;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover between CAs and between directory URLs of one CA, against two real Pebbles, each with
 * its own http-01 responder on its own VA port. Errors another CA could fix (transport errors,
 * 5xx, a CA that dies mid-issuance) fail over; errors the user must fix (a rejected identifier,
 * failed validation) do not, and the next CA then sees no request at all.
 */
class FailoverIntegrationTest {

    private static final String BLOCKED = "blocked.failover.anvil.test";

    private static Pebble pebble1; // refuses BLOCKED
    private static Pebble pebble2;
    private static Http01TestResponder responder1;
    private static Http01TestResponder responder2;

    @TempDir
    Path dir;

    private final List<IssuanceEvent> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startPebbles() {
        pebble1 = Pebble.builder().domainBlocklist(BLOCKED).start();
        pebble2 = Pebble.start();
        responder1 = Http01TestResponder.start(pebble1.httpPort());
        responder2 = Http01TestResponder.start(pebble2.httpPort());
    }

    @AfterAll
    static void stopPebbles() {
        for (AutoCloseable c : new AutoCloseable[] {responder1, responder2, pebble1, pebble2}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    void deadFirstCaFailsOverToSecond() {
        String dead = "https://127.0.0.1:" + Pebble.freeTcpPort() + "/dir"; // nothing listens there
        int before2 = pebble2.requestCount();
        IssuanceEngine engine = engine(pebble2);
        IssuanceRequest request = request("dead-first", "dead.failover.anvil.test")
                .withCa(CertificateAuthority.of("dead", dead))
                .withCa(CertificateAuthority.of("pebble2", pebble2.directoryUrl()));

        long t0 = System.nanoTime();
        IssuedCertificate issued = engine.issue(request);
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(issued.ca()).isEqualTo("pebble2");
        assertThat(issued.orderUrl()).startsWith("https://127.0.0.1:" + pebble2.listenPort() + "/");
        assertThat(issued.leaf().getPublicKey()).isEqualTo(issued.keyPair().getPublic());
        assertIssuedBy(issued, pebble2);
        assertThat(events).filteredOn(IssuanceEvent.FailedOver.class::isInstance)
                .singleElement()
                .satisfies(e -> {
                    IssuanceEvent.FailedOver f = (IssuanceEvent.FailedOver) e;
                    assertThat(f.ca()).isEqualTo("dead");
                    assertThat(f.nextCa()).isEqualTo("pebble2");
                    assertThat(f.reason()).contains("directory");
                });
        // maxErrorRetries(2): two retries of the directory at "dead", then failover
        assertThat(events).filteredOn(IssuanceEvent.Retrying.class::isInstance)
                .map(e -> (IssuanceEvent.Retrying) e)
                .filteredOn(r -> r.ca().equals("dead"))
                .extracting(IssuanceEvent.Retrying::step, IssuanceEvent.Retrying::cause)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("directory", Cause.TRANSPORT),
                        org.assertj.core.groups.Tuple.tuple("directory", Cause.TRANSPORT));
        assertThat(events).noneMatch(IssuanceEvent.DirectoryFailedOver.class::isInstance);
        assertThat(pebble2.requestLog().subList(before2, pebble2.requestCount())).contains("POST /order-plz");
        assertThat(store().read("accounts/dead.json")).as("no account at a CA never reached").isEmpty();
        assertThat(store().read("accounts/pebble2.json")).isPresent();
        assertThat(engine.checkpoint("dead-first")).isEmpty();
        assertThat(ms).as("fast backoff: the dead CA costs milliseconds, not seconds").isLessThan(15_000);
    }

    @Test
    void deadFirstDirectoryUrlFailsOverToSecondUrlOfSameCa() {
        String dead = "https://127.0.0.1:" + Pebble.freeTcpPort() + "/dir";
        IssuanceEngine engine = engine(pebble2);
        IssuanceRequest request = request("two-urls", "urls.failover.anvil.test")
                .withCa(CertificateAuthority.of("pebble2-mirrors", dead, pebble2.directoryUrl()));

        IssuedCertificate issued = engine.issue(request);

        assertThat(issued.ca()).isEqualTo("pebble2-mirrors");
        assertIssuedBy(issued, pebble2);
        assertThat(events).filteredOn(IssuanceEvent.DirectoryFailedOver.class::isInstance)
                .singleElement()
                .satisfies(e -> {
                    IssuanceEvent.DirectoryFailedOver d = (IssuanceEvent.DirectoryFailedOver) e;
                    assertThat(d.issuanceId()).isEqualTo("two-urls");
                    assertThat(d.ca()).isEqualTo("pebble2-mirrors");
                    assertThat(d.fromUrl()).isEqualTo(dead);
                    assertThat(d.toUrl()).isEqualTo(pebble2.directoryUrl());
                });
        assertThat(events).noneMatch(IssuanceEvent.FailedOver.class::isInstance);
        assertThat(new String(store().read("accounts/pebble2-mirrors.json").orElseThrow()))
                .as("the account is bound to the URL that worked").contains(pebble2.directoryUrl()).doesNotContain(dead);
    }

    @Test
    void rejectedIdentifierIsAUserErrorAndDoesNotFailOver() {
        int before2 = pebble2.requestCount();
        IssuanceEngine engine = engine(pebble1, pebble2);
        IssuanceRequest request = request("rejected", BLOCKED)
                .withCa(CertificateAuthority.of("pebble1", pebble1.directoryUrl()))
                .withCa(CertificateAuthority.of("pebble2", pebble2.directoryUrl()));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, () -> engine.issue(request));

        assertThat(e).as("newOrder refused at pebble1").isNotNull();
        assertThat(e.is("rejectedIdentifier")).as(e.getMessage()).isTrue();
        assertThat(pebble2.requestCount()).as("pebble2 never contacted").isEqualTo(before2);
        assertThat(events).noneMatch(IssuanceEvent.FailedOver.class::isInstance);
        assertThat(events).last().isEqualTo(new IssuanceEvent.StateChanged("rejected", "pebble1", IssuanceState.NEW,
                IssuanceState.FAILED));
        Checkpoint cp = engine.checkpoint("rejected").orElseThrow();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.ca()).isEqualTo("pebble1");
        assertThat(cp.orders()).isZero();
    }

    @Test
    void failedValidationIsAUserErrorAndDoesNotFailOver() {
        int before2 = pebble2.requestCount();
        IssuanceEngine engine = engine(pebble1, pebble2);
        // pebble1's VA reads a wrong key authorization; pebble2's would read the right one
        MultiResponderSolver solver = new MultiResponderSolver(Map.of(
                responder1, ka -> "wrong-" + ka,
                responder2, ka -> ka));
        IssuanceRequest request = new IssuanceRequest("invalid", List.of(Identifier.of("invalid.failover.anvil.test")),
                List.of(CertificateAuthority.of("pebble1", pebble1.directoryUrl()),
                        CertificateAuthority.of("pebble2", pebble2.directoryUrl())),
                List.of(solver), null, null);

        AcmeValidationException e = catchThrowableOfType(AcmeValidationException.class, () -> engine.issue(request));

        assertThat(e).isNotNull();
        // the order's own error (no identifier) and the challenge's, which the engine ties to the identifier
        assertThat(e.problems()).isNotEmpty().allSatisfy(p -> assertThat(p.acmeType()).isEqualTo("unauthorized"));
        assertThat(e.problems()).anySatisfy(p -> {
            assertThat(p.identifier()).isEqualTo(Identifier.of("invalid.failover.anvil.test"));
            assertThat(p.detail()).contains("wrong-"); // says what the CA read
        });
        assertThat(pebble2.requestCount()).as("pebble2 never contacted").isEqualTo(before2);
        assertThat(events).noneMatch(IssuanceEvent.FailedOver.class::isInstance);
        assertThat(solver.presented).hasSize(1);
        assertThat(solver.cleaned).isEqualTo(solver.presented);
        Checkpoint cp = engine.checkpoint("invalid").orElseThrow();
        assertThat(cp.state()).isEqualTo(IssuanceState.FAILED);
        assertThat(cp.orderUrl()).startsWith("https://127.0.0.1:" + pebble1.listenPort() + "/");
    }

    @Test
    void caDyingAfterTheOrderFailsOverWithTheSameKey() {
        Pebble doomed = Pebble.start();
        try (Http01TestResponder doomedResponder = Http01TestResponder.start(doomed.httpPort())) {
            int before2 = pebble2.requestCount();
            AtomicReference<IssuanceEngine> engineRef = new AtomicReference<>();
            Map<String, Checkpoint> seen = new ConcurrentHashMap<>();
            IssuanceEngine engine = builder(doomed, pebble2).listener(e -> {
                events.add(e);
                if (e instanceof IssuanceEvent.StateChanged sc) {
                    if (sc.ca().equals("doomed") && sc.to() == IssuanceState.ORDERED) {
                        seen.put("doomed-ordered", engineRef.get().checkpoint("doomed").orElseThrow());
                        doomed.close(); // the CA goes away with our order
                    } else if (sc.ca().equals("pebble2") && sc.to() == IssuanceState.VALID) {
                        seen.put("pebble2-valid", engineRef.get().checkpoint("doomed").orElseThrow());
                    }
                }
            }).build();
            engineRef.set(engine);
            MultiResponderSolver solver = new MultiResponderSolver(Map.of(
                    doomedResponder, ka -> ka,
                    responder2, ka -> ka));
            IssuanceRequest request = new IssuanceRequest("doomed", List.of(Identifier.of("doomed.failover.anvil.test")),
                    List.of(CertificateAuthority.of("doomed", doomed.directoryUrl()),
                            CertificateAuthority.of("pebble2", pebble2.directoryUrl())),
                    List.of(solver), null, null);

            IssuedCertificate issued = engine.issue(request);

            assertThat(doomed.isAlive()).isFalse();
            assertThat(doomed.requestLog()).contains("POST /order-plz");
            assertThat(issued.ca()).isEqualTo("pebble2");
            assertIssuedBy(issued, pebble2);
            assertThat(pebble2.requestLog().subList(before2, pebble2.requestCount())).contains("POST /order-plz");

            Checkpoint atDoomed = seen.get("doomed-ordered");
            Checkpoint atPebble2 = seen.get("pebble2-valid");
            assertThat(atDoomed).isNotNull();
            assertThat(atPebble2).isNotNull();
            assertThat(atDoomed.ca()).isEqualTo("doomed");
            assertThat(atDoomed.orders()).isEqualTo(1);
            assertThat(atDoomed.orderUrl()).startsWith("https://127.0.0.1:" + doomed.listenPort() + "/");
            assertThat(atPebble2.ca()).isEqualTo("pebble2");
            assertThat(atPebble2.directoryUrl()).isEqualTo(pebble2.directoryUrl());
            assertThat(atPebble2.orders()).isEqualTo(2);
            assertThat(atPebble2.orderUrl()).isEqualTo(issued.orderUrl())
                    .startsWith("https://127.0.0.1:" + pebble2.listenPort() + "/");
            KeyPair key = Pem.readKeyPair(atDoomed.certificateKeyPem());
            assertThat(issued.leaf().getPublicKey()).as("the key survives the failover").isEqualTo(key.getPublic());

            assertThat(events).filteredOn(IssuanceEvent.FailedOver.class::isInstance)
                    .singleElement()
                    .satisfies(e -> {
                        IssuanceEvent.FailedOver f = (IssuanceEvent.FailedOver) e;
                        assertThat(f.ca()).isEqualTo("doomed");
                        assertThat(f.nextCa()).isEqualTo("pebble2");
                    });
            assertThat(events).filteredOn(IssuanceEvent.Retrying.class::isInstance)
                    .map(e -> (IssuanceEvent.Retrying) e)
                    .filteredOn(r -> r.ca().equals("doomed"))
                    .hasSize(2)
                    .allSatisfy(r -> assertThat(r.cause()).isEqualTo(Cause.TRANSPORT));
            assertThat(engine.checkpoint("doomed")).isEmpty();
        } finally {
            doomed.close();
        }
    }

    // ---- helpers

    private FileStore store() {
        return new FileStore(dir.resolve("store"));
    }

    private IssuanceEngine engine(Pebble... trusted) {
        return builder(trusted).listener(events::add).build();
    }

    private IssuanceEngine.Builder builder(Pebble... trusted) {
        return IssuanceEngine.builder(store())
                .httpClient(trusting(trusted))
                .backoff(DefaultBackoff.builder()
                        .errorDelays(Duration.ofMillis(10), Duration.ofMillis(50))
                        .maxErrorRetries(2)
                        .polling(Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1))
                        .build());
    }

    private IssuanceRequest request(String id, String name) {
        return new IssuanceRequest(id, List.of(Identifier.of(name)), null,
                List.of(new MultiResponderSolver(Map.of(responder1, ka -> ka, responder2, ka -> ka))), null, null);
    }

    /** One client for every CA: trusts the listener certificates of all the given Pebbles. */
    private static OkHttpClient trusting(Pebble... pebbles) {
        X509Certificate[] anchors = Arrays.stream(pebbles).map(p -> p.tls().caCertificate()).toArray(X509Certificate[]::new);
        X509TrustManager tm = TestTls.trustManagerFor(anchors);
        try {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new TrustManager[] {tm}, null);
            return new OkHttpClient.Builder().sslSocketFactory(ssl.getSocketFactory(), tm)
                    .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(10))
                    .callTimeout(Duration.ofSeconds(20)).followRedirects(false).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The leaf chains up to the given Pebble's issuing intermediate. */
    private static void assertIssuedBy(IssuedCertificate issued, Pebble pebble) {
        X509Certificate intermediate = pebble.intermediateCertificate(0);
        assertThat(issued.leaf().getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
        try {
            issued.leaf().verify(intermediate.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new AssertionError("leaf not signed by " + pebble + "'s intermediate", e);
        }
    }

    /**
     * http-01 on several responders at once (one per Pebble VA port), since one request's solvers
     * serve every CA; each responder may serve a transformed key authorization.
     */
    static final class MultiResponderSolver implements ChallengeSolver {
        private final Map<Http01TestResponder, UnaryOperator<String>> responders;
        final List<String> presented = new CopyOnWriteArrayList<>();
        final List<String> cleaned = new CopyOnWriteArrayList<>();

        MultiResponderSolver(Map<Http01TestResponder, UnaryOperator<String>> responders) {
            this.responders = responders;
        }

        @Override
        public List<String> types() {
            return List.of(Challenge.HTTP_01);
        }

        @Override
        public void present(ChallengeContext c) {
            presented.add(c.token());
            responders.forEach((r, f) -> r.put(c.token(), f.apply(c.keyAuthorization())));
        }

        @Override
        public void cleanUp(ChallengeContext c) {
            cleaned.add(c.token());
            responders.keySet().forEach(r -> r.remove(c.token()));
        }
    }
}
