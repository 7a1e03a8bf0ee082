package dev.anvil.acme.renewal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.Problem;
import dev.anvil.acme.RenewalInfo;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.Deadlines;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceEvent;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import dev.anvil.acme.store.MemoryStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.security.auth.x500.X500Principal;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The renewal manager and the engine's ARI (RFC 9773) and profile handling against a scripted
 * fake ACME CA on MockWebServer, since Pebble 2.4 has neither. The manager is driven pass by
 * pass with {@link RenewalManager#runDueWork()} on a {@link MutableClock} shared with the engine
 * (so Retry-After arithmetic and the fake's certificate validity all follow the test's time).
 */
class AriScenariosTest {

    private static final String NAME = "ari.example.com";
    private static final Duration FIVE_MIN = Duration.ofMinutes(5);

    private final Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final MutableClock clock = new MutableClock(t0);
    private final List<RenewalEvent> events = new CopyOnWriteArrayList<>();
    private final List<IssuanceEvent> engineEvents = new CopyOnWriteArrayList<>();
    private final List<IssuedCertificate> delivered = new CopyOnWriteArrayList<>();
    private final List<AriCa> cas = new ArrayList<>();
    private final List<RenewalManager> managers = new ArrayList<>();
    private MemoryStore store;
    private OkHttpClient http;
    private AriCa ca;
    private RecordingSolver solver;

    @BeforeEach
    void setUp() throws IOException {
        store = new MemoryStore();
        http = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).followRedirects(false).build();
        ca = newCa();
        solver = new RecordingSolver();
    }

    @AfterEach
    void tearDown() {
        managers.forEach(RenewalManager::close);
        cas.forEach(AriCa::close);
        http.connectionPool().evictAll();
    }

    // ======================================================================================
    // the ARI request itself
    // ======================================================================================

    @Test
    void renewalInfoIsAPlainGetOfTheCertIdUnderTheDirectoryEntry() {
        IssuanceEngine engine = engine();
        IssuedCertificate cert = engine.issue(request(ca.authority("ca1")));
        String certId = RenewalInfo.certId(cert.leaf());
        Instant start = t0.plus(Duration.ofDays(60));
        Instant end = t0.plus(Duration.ofDays(62));
        ca.renewalInfo = (id, c) -> window(start, end, "21600", "https://ca.example/why");

        AcmeClient client = AcmeClient.builder(ca.url("/directory")).allowInsecureHttp(true).httpClient(http)
                .clock(clock).build();
        RenewalInfo info = client.fetchRenewalInfo(certId);

        assertThat(info.suggestedWindow().start()).isEqualTo(start);
        assertThat(info.suggestedWindow().end()).isEqualTo(end);
        assertThat(info.explanationUrl()).isEqualTo("https://ca.example/why");
        assertThat(info.retryAfter()).isEqualTo(t0.plusSeconds(21600));
        AriCa.Req get = ca.requests("renewal-info").get(0);
        assertThat(get.method()).isEqualTo("GET");
        assertThat(get.path()).isEqualTo("/renewal-info/" + certId);
        assertThat(get.protectedHeader()).as("no JWS").isNull();
        assertThat(get.contentType()).isNull();
        assertThat(get.bodySize()).isZero();

        // the engine asks the same way for a certificate, at the CA's own directory entry
        assertThat(engine.renewalInfo(ca.authority("ca1"), cert.leaf())).hasValueSatisfying(
                i -> assertThat(i.suggestedWindow().end()).isEqualTo(end));
        assertThat(ca.requests("renewal-info")).hasSize(2)
                .allSatisfy(r -> assertThat(r.method()).isEqualTo("GET"))
                .allSatisfy(r -> assertThat(r.path()).isEqualTo("/renewal-info/" + certId));
        assertThat(ca.requests().stream().filter(r -> r.method().equals("POST")))
                .noneMatch(r -> r.path().startsWith("/renewal-info"));
    }

    @Test
    void windowWhoseEndIsNotAfterItsStartIsAProtocolError() {
        IssuedCertificate cert = engine().issue(request(ca.authority("ca1")));
        String certId = RenewalInfo.certId(cert.leaf());
        AcmeClient client = AcmeClient.builder(ca.url("/directory")).allowInsecureHttp(true).httpClient(http).build();

        ca.renewalInfo = (id, c) -> window(t0.plusSeconds(7200), t0.plusSeconds(3600), null, null);
        AcmeProtocolException reversed = catchThrowableOfType(AcmeProtocolException.class,
                () -> client.fetchRenewalInfo(certId));
        ca.renewalInfo = (id, c) -> window(t0.plusSeconds(3600), t0.plusSeconds(3600), null, null);
        AcmeProtocolException empty = catchThrowableOfType(AcmeProtocolException.class,
                () -> client.fetchRenewalInfo(certId));

        assertThat(reversed).isNotNull().hasMessageContaining("invalid suggestedWindow").hasMessageContaining(certId);
        assertThat(empty).isNotNull().hasMessageContaining("invalid suggestedWindow");
    }

    // ======================================================================================
    // (a) (b) scheduling inside the window
    // ======================================================================================

    @Test
    void futureWindowIsScheduledInsideItAndRenewedOnlyOnceItsMomentComesWithReplaces() {
        Instant start = t0.plus(Duration.ofHours(2));
        Instant end = t0.plus(Duration.ofHours(6));
        ca.renewalInfo = (id, c) -> window(start, end, "86400", null);
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);
        assertThat(ca.payloads("new-order").get(0).has("replaces")).as("a first issuance replaces nothing").isFalse();

        Instant wake = manager.runDueWork();

        RenewalEvent.Scheduled scheduled = single(RenewalEvent.Scheduled.class);
        assertThat(scheduled.id()).isEqualTo(NAME);
        assertThat(scheduled.at()).isAfterOrEqualTo(start).isBefore(end);
        assertThat(scheduled.reason()).contains("ARI window").contains(start.toString()).contains(end.toString())
                .contains("ca1");
        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.renewAt()).isEqualTo(scheduled.at());
        assertThat(plan.serial()).isEqualTo(serial(first));
        assertThat(plan.ariCheckAt()).isEqualTo(t0.plus(Duration.ofDays(1)));
        assertThat(wake).as("a pass at least hourly").isEqualTo(t0.plus(Duration.ofHours(1)));
        assertThat(ca.requests("renewal-info")).singleElement()
                .satisfies(r -> assertThat(r.path()).isEqualTo("/renewal-info/" + RenewalInfo.certId(first.leaf())));

        // not before its moment: no order, no further ARI request
        for (Instant t : List.of(t0.plusSeconds(60), start.minusSeconds(1), plan.renewAt().minusMillis(1))) {
            clock.set(t);
            assertThat(manager.runDueWork()).isEqualTo(nextPass(plan.renewAt()));
        }
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(ca.count("renewal-info")).isEqualTo(1);
        assertThat(events).filteredOn(e -> !(e instanceof RenewalEvent.Scheduled)).hasSize(2); // Started, Succeeded

        clock.set(plan.renewAt());
        manager.runDueWork();

        assertThat(ca.payloads("new-order")).hasSize(2);
        assertThat(ca.payloads("new-order").get(1).path("replaces").asText()).isEqualTo(RenewalInfo.certId(first.leaf()));
        assertThat(eventsOf(RenewalEvent.Started.class)).last()
                .satisfies(s -> assertThat(s.reason()).contains("ARI window"));
        assertThat(eventsOf(RenewalEvent.Succeeded.class)).hasSize(2).last().satisfies(s -> {
            assertThat(s.serial()).isNotEqualTo(serial(first));
            assertThat(s.ca()).isEqualTo("ca1");
        });
        assertThat(delivered).hasSize(2);
        IssuedCertificate second = delivered.get(1);
        assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
        assertThat(second.keyPair().getPublic()).as("ROTATE by default").isNotEqualTo(first.keyPair().getPublic());
        assertThat(second.leaf().getPublicKey()).isEqualTo(second.keyPair().getPublic());
        assertThat(manager.plan(NAME).orElseThrow().serial()).isEqualTo(serial(second));
    }

    @Test
    void passedWindowRenewsAtOnce() {
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);
        ca.renewNow.add(RenewalInfo.certId(first.leaf()));

        manager.runDueWork();

        assertThat(single(RenewalEvent.Scheduled.class).at()).isEqualTo(t0);
        assertThat(eventsOf(RenewalEvent.Succeeded.class)).hasSize(2);
        assertThat(ca.payloads("new-order")).hasSize(2);
        assertThat(ca.payloads("new-order").get(1).path("replaces").asText()).isEqualTo(RenewalInfo.certId(first.leaf()));

        // the new certificate gets its own plan, inside its own (future) window: no further renewal
        manager.runDueWork();
        manager.runDueWork();
        assertThat(ca.count("new-order")).isEqualTo(2);
        assertThat(eventsOf(RenewalEvent.Scheduled.class)).hasSize(2).last()
                .satisfies(s -> assertThat(s.at()).isAfter(t0.plus(Duration.ofDays(50))));
    }

    // ======================================================================================
    // (c) Retry-After of renewalInfo
    // ======================================================================================

    @ParameterizedTest(name = "Retry-After {0} -> next ARI check after {1} s")
    @CsvSource({"5, 60", "172800, 86400", "3600, 3600", "http-date+7200, 7200"})
    void retryAfterOnRenewalInfoSetsTheNextCheckClampedToAMinuteAndADay(String retryAfter, long expectedSeconds) {
        Instant start = t0.plus(Duration.ofDays(30));
        Instant end = t0.plus(Duration.ofDays(32));
        // an HTTP-date is absolute: computed from the clock when the CA answers
        ca.renewalInfo = (id, c) -> window(start, end, retryAfter.startsWith("http-date+")
                ? DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant()
                        .plusSeconds(Long.parseLong(retryAfter.substring(10))).atZone(ZoneOffset.UTC))
                : retryAfter, null);
        RenewalManager manager = manager(b -> { });
        issueFirst(manager);

        Instant wake = manager.runDueWork();

        Instant check = t0.plusSeconds(expectedSeconds);
        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.ariCheckAt()).isEqualTo(check);
        assertThat(plan.renewAt()).isAfterOrEqualTo(start).isBefore(end);
        assertThat(wake).as("the next pass is the ARI check (or the hourly pass)").isEqualTo(nextPass(check));
        assertThat(ca.count("renewal-info")).isEqualTo(1);

        clock.set(check.minusMillis(1));
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(1);

        clock.set(check);
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(2);
        assertThat(eventsOf(RenewalEvent.Scheduled.class)).hasSize(2);
        assertThat(manager.plan(NAME).orElseThrow().ariCheckAt()).isEqualTo(check.plusSeconds(expectedSeconds));
        assertThat(ca.count("new-order")).isEqualTo(1);
    }

    @Test
    void withoutRetryAfterTheNextAriCheckIsInSixHours() {
        ca.renewalInfo = (id, c) -> window(t0.plus(Duration.ofDays(30)), t0.plus(Duration.ofDays(32)), null, null);
        RenewalManager manager = manager(b -> { });
        issueFirst(manager);

        manager.runDueWork();

        assertThat(manager.plan(NAME).orElseThrow().ariCheckAt()).isEqualTo(t0.plus(Duration.ofHours(6)));
    }

    // ======================================================================================
    // (d) ARI errors: fall back to the lifetime rule, ask again later
    // ======================================================================================

    @Test
    void invalidWindowFallsBackToTwoThirdsOfTheLifetimeAndAsksAgainInSixHours() {
        ca.renewalInfo = (id, c) -> window(t0.plus(Duration.ofDays(62)), t0.plus(Duration.ofDays(60)), "3600", null);
        RenewalManager manager = manager(b -> b.retry(FIVE_MIN, Duration.ofHours(6)));
        IssuedCertificate first = issueFirst(manager);

        Instant wake = manager.runDueWork();

        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.renewAt()).isEqualTo(twoThirds(first.leaf()));
        assertThat(plan.renewAt()).isBetween(t0.plus(Duration.ofDays(60)).minusSeconds(1), t0.plus(Duration.ofDays(60)));
        assertThat(plan.reason()).contains("67%").contains("ARI unavailable").contains("invalid suggestedWindow");
        // an invalid window is the CA's long-term problem: asked again in 6 hours (the pass still wakes hourly)
        assertThat(plan.ariCheckAt()).isEqualTo(t0.plus(Duration.ofHours(6)));
        assertThat(wake).isEqualTo(t0.plus(Duration.ofHours(1)));
        assertThat(single(RenewalEvent.Scheduled.class).at()).isEqualTo(twoThirds(first.leaf()));

        // later the CA answers properly: the window wins over the lifetime rule
        Instant start = t0.plus(Duration.ofDays(40));
        Instant end = t0.plus(Duration.ofDays(41));
        ca.renewalInfo = (id, c) -> window(start, end, "21600", null);
        clock.set(t0.plus(Duration.ofHours(6)).minusMillis(1));
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(1);
        clock.set(t0.plus(Duration.ofHours(6)));
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(2);
        RenewalManager.Plan after = manager.plan(NAME).orElseThrow();
        assertThat(after.renewAt()).isAfterOrEqualTo(start).isBefore(end);
        assertThat(after.reason()).contains("ARI window");
        assertThat(after.ariCheckAt()).isEqualTo(t0.plus(Duration.ofHours(6)).plusSeconds(21600));
        assertThat(ca.count("new-order")).isEqualTo(1);
    }

    @Test
    void longTermRenewalInfoErrorAsksAgainInSixHours() {
        ca.renewalInfo = (id, c) -> problem(404, "malformed", "no such certificate", null);
        RenewalManager manager = manager(b -> b.retry(FIVE_MIN, Duration.ofHours(6)));
        IssuedCertificate first = issueFirst(manager);

        manager.runDueWork();

        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.renewAt()).isEqualTo(twoThirds(first.leaf()));
        assertThat(plan.reason()).contains("ARI unavailable").contains("404");
        assertThat(plan.ariCheckAt()).isEqualTo(t0.plus(Duration.ofHours(6)));

        clock.set(t0.plus(Duration.ofHours(6)).minusMillis(1));
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(1);
        clock.set(t0.plus(Duration.ofHours(6)));
        manager.runDueWork();
        assertThat(ca.count("renewal-info")).isEqualTo(2);
        assertThat(manager.plan(NAME).orElseThrow().renewAt()).as("the lifetime moment is kept")
                .isEqualTo(twoThirds(first.leaf()));
    }

    @Test
    void transientRenewalInfoErrorAsksAgainAfterRetryInitial() {
        ca.renewalInfo = (id, c) -> problem(500, "serverInternal", "ARI database unavailable", null);
        RenewalManager manager = manager(b -> b.retry(Duration.ofMinutes(10), Duration.ofHours(6)));
        IssuedCertificate first = issueFirst(manager);

        manager.runDueWork();

        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.renewAt()).isEqualTo(twoThirds(first.leaf()));
        assertThat(plan.ariCheckAt()).isEqualTo(t0.plus(Duration.ofMinutes(10)));
    }

    @Test
    void retryAfterOnAFailedRenewalInfoRequestIsHonoured() {
        ca.renewalInfo = (id, c) -> problem(503, "serverInternal", "come back later", "3600");
        RenewalManager manager = manager(b -> b.retry(FIVE_MIN, Duration.ofHours(6)));
        issueFirst(manager);

        manager.runDueWork();

        assertThat(manager.plan(NAME).orElseThrow().ariCheckAt()).as("not earlier than the CA asked")
                .isEqualTo(t0.plus(Duration.ofHours(1)));
    }

    // ======================================================================================
    // (e) replaces refused
    // ======================================================================================

    @Test
    void alreadyReplacedLeadsToExactlyOneMoreOrderWithoutReplaces() {
        assertRenewalRetriedWithoutReplaces(409, "alreadyReplaced",
                "cannot indicate an order replaces a certificate which already has a replacement order");
    }

    @Test
    void accountThatDidNotRequestTheReplacedCertificateLeadsToOneMoreOrderWithoutReplaces() {
        assertRenewalRetriedWithoutReplaces(403, "unauthorized",
                "requester account did not request the certificate being replaced by this order");
    }

    private void assertRenewalRetriedWithoutReplaces(int status, String type, String detail) {
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);
        ca.renewNow.add(RenewalInfo.certId(first.leaf()));
        ca.script("new-order", r -> problem(status, type, detail, null));

        manager.runDueWork();

        List<JsonNode> orders = ca.payloads("new-order");
        assertThat(orders).hasSize(3);
        assertThat(orders.get(1).path("replaces").asText()).isEqualTo(RenewalInfo.certId(first.leaf()));
        assertThat(orders.get(2).has("replaces")).isFalse();
        assertThat(orders.get(2).path("identifiers")).isEqualTo(orders.get(1).path("identifiers"));
        assertThat(eventsOf(RenewalEvent.Failed.class)).isEmpty();
        assertThat(eventsOf(RenewalEvent.Succeeded.class)).hasSize(2);
        assertThat(delivered).hasSize(2);
    }

    @Test
    void refusedAgainWithoutReplacesIsNotRetriedAThirdTime() {
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);
        ca.renewNow.add(RenewalInfo.certId(first.leaf()));
        ca.script("new-order", r -> problem(409, "alreadyReplaced", "already replaced", null));
        ca.script("new-order", r -> problem(409, "conflict", "still conflicting", null));

        manager.runDueWork();

        assertThat(ca.count("new-order")).isEqualTo(3); // the first issuance, then exactly two for the renewal
        assertThat(single(RenewalEvent.Failed.class).error()).contains("409").contains("still conflicting");
    }

    @Test
    void otherNewOrderErrorsAreNotRetriedWithoutReplaces() {
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);
        ca.renewNow.add(RenewalInfo.certId(first.leaf()));
        ca.script("new-order", r -> problem(400, "rejectedIdentifier", "ari.example.com is forbidden now", null));

        manager.runDueWork();

        assertThat(ca.count("new-order")).isEqualTo(2);
        assertThat(single(RenewalEvent.Failed.class).error()).contains("rejectedIdentifier");
    }

    @Test
    void replacesIsSentOnlyToTheCaThatIssuedTheReplacedCertificate() throws IOException {
        AriCa ca2 = newCa();
        IssuanceRequest request = IssuanceRequest.of(NAME).withSolver(solver)
                .withCa(ca.authority("ca1")).withCa(ca2.authority("ca2"));
        RenewalManager manager = manager(b -> { }, engine(), request, KeyPolicy.ROTATE);
        manager.runDueWork();
        IssuedCertificate fromCa1 = delivered.get(0);
        assertThat(fromCa1.ca()).isEqualTo("ca1");

        // ca1 cannot take orders: the renewal fails over to ca2, which has never seen that certificate
        ca.renewNow.add(RenewalInfo.certId(fromCa1.leaf()));
        ca.newOrderFailure = r -> problem(500, "serverInternal", "order database down", null);
        manager.runDueWork();

        assertThat(engineEvents).filteredOn(IssuanceEvent.FailedOver.class::isInstance).hasSize(1);
        assertThat(ca.payloads("new-order")).hasSize(4)
                .last().satisfies(p -> assertThat(p.path("replaces").asText()).isEqualTo(RenewalInfo.certId(fromCa1.leaf())));
        assertThat(ca2.payloads("new-order")).singleElement().satisfies(p -> assertThat(p.has("replaces")).isFalse());
        assertThat(delivered).hasSize(2);
        IssuedCertificate fromCa2 = delivered.get(1);
        assertThat(fromCa2.ca()).isEqualTo("ca2");

        // ca1 is back; ca2's window for its certificate has passed: ca1 (tried first) must not get ca2's CertID
        ca.newOrderFailure = null;
        ca2.renewNow.add(RenewalInfo.certId(fromCa2.leaf()));
        manager.runDueWork();

        assertThat(ca2.requests("renewal-info")).as("ARI is asked of the CA that issued the certificate").isNotEmpty();
        assertThat(delivered).hasSize(3);
        IssuedCertificate againFromCa1 = delivered.get(2);
        assertThat(againFromCa1.ca()).isEqualTo("ca1");
        assertThat(ca.payloads("new-order")).hasSize(5).last().satisfies(p -> assertThat(p.has("replaces")).isFalse());

        // and ca1's own certificate is replaced at ca1 with replaces again
        ca.renewNow.add(RenewalInfo.certId(againFromCa1.leaf()));
        manager.runDueWork();
        assertThat(ca.payloads("new-order")).hasSize(6).last().satisfies(
                p -> assertThat(p.path("replaces").asText()).isEqualTo(RenewalInfo.certId(againFromCa1.leaf())));
        assertThat(eventsOf(RenewalEvent.Failed.class)).isEmpty();
    }

    // ======================================================================================
    // (f) no ARI
    // ======================================================================================

    @Test
    void caWithoutRenewalInfoRenewsAtTwoThirdsOfTheLifetimeWithoutAsking() {
        ca.ari = false;
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);

        Instant wake = manager.runDueWork();

        Instant due = twoThirds(first.leaf());
        RenewalEvent.Scheduled scheduled = single(RenewalEvent.Scheduled.class);
        assertThat(scheduled.at()).isEqualTo(due);
        assertThat(scheduled.reason()).contains("67%").contains("ca1 has no ARI");
        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.ariCheckAt()).isNull();
        assertThat(wake).isEqualTo(nextPass(due));

        clock.set(due.minusSeconds(1));
        assertThat(manager.runDueWork()).isEqualTo(due);
        assertThat(ca.count("new-order")).isEqualTo(1);

        clock.set(due);
        manager.runDueWork();
        assertThat(ca.count("new-order")).isEqualTo(2);
        assertThat(ca.payloads("new-order").get(1).has("replaces")).as("only CAs with renewalInfo get replaces").isFalse();
        assertThat(ca.count("renewal-info")).isZero();
        assertThat(ca.requests()).noneMatch(r -> r.path().contains("renewal"));
        assertThat(delivered).hasSize(2);
    }

    @Test
    void otherLifetimeFractionIsUsed() {
        ca.ari = false;
        RenewalManager manager = manager(b -> b.renewAtLifetimeFraction(0.5));
        IssuedCertificate first = issueFirst(manager);

        manager.runDueWork();

        Instant nb = first.leaf().getNotBefore().toInstant();
        assertThat(manager.plan(NAME).orElseThrow().renewAt()).isEqualTo(nb.plus(Duration.ofDays(45)));
        assertThat(single(RenewalEvent.Scheduled.class).reason()).contains("50%");
    }

    @Test
    void certificateWithoutAuthorityKeyIdentifierAtAnAriCaUsesTheLifetimeRule() {
        ca.leafAki = false;
        RenewalManager manager = manager(b -> { });
        IssuedCertificate first = issueFirst(manager);

        manager.runDueWork();

        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        assertThat(plan.renewAt()).isEqualTo(twoThirds(first.leaf()));
        assertThat(ca.count("renewal-info")).isZero();

        clock.set(plan.renewAt());
        manager.runDueWork();
        assertThat(delivered).hasSize(2);
        assertThat(ca.payloads("new-order").get(1).has("replaces")).isFalse();
    }

    // ======================================================================================
    // (g) profiles
    // ======================================================================================

    @Test
    void advertisedProfileIsSentWithNewOrder() {
        ca.meta = Map.of("profiles", Map.of("classic", "90 days", "shortlived", "about 6 days"));

        IssuedCertificate cert = engine().issue(request(ca.authority("ca1").withProfile("shortlived")));

        assertThat(cert.ca()).isEqualTo("ca1");
        assertThat(ca.payloads("new-order")).singleElement()
                .satisfies(p -> assertThat(p.path("profile").asText()).isEqualTo("shortlived"));
    }

    @Test
    void unadvertisedProfileIsRefusedNamingTheOfferedOnes() {
        ca.meta = Map.of("profiles", Map.of("classic", "90 days", "shortlived", "about 6 days"));

        IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
                () -> engine().issue(request(ca.authority("ca1").withProfile("nope"))));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("'nope'").contains("classic").contains("shortlived");
        assertThat(ca.count("new-order")).isZero();
    }

    @Test
    void invalidProfileAtFinalizeFailsOverToTheNextCa() throws IOException {
        AriCa ca2 = newCa();
        Map<String, Object> profiles = Map.of("profiles", Map.of("classic", "90 days", "shortlived", "about 6 days"));
        ca.meta = profiles;
        ca2.meta = profiles;
        ca.script("finalize", r -> problem(400, "invalidProfile", "profile shortlived is not allowed for this account",
                null));

        IssuedCertificate cert = engine().issue(request(ca.authority("ca1").withProfile("shortlived"),
                ca2.authority("ca2").withProfile("shortlived")));

        assertThat(cert.ca()).isEqualTo("ca2");
        assertThat(engineEvents).filteredOn(IssuanceEvent.FailedOver.class::isInstance)
                .map(IssuanceEvent.FailedOver.class::cast).singleElement().satisfies(f -> {
                    assertThat(f.ca()).isEqualTo("ca1");
                    assertThat(f.nextCa()).isEqualTo("ca2");
                    assertThat(f.reason()).contains("invalidProfile");
                });
        assertThat(ca.count("finalize")).isEqualTo(1);
        assertThat(ca2.payloads("new-order")).singleElement()
                .satisfies(p -> assertThat(p.path("profile").asText()).isEqualTo("shortlived"));
        assertThat(ca2.count("finalize")).isEqualTo(1);
    }

    @Test
    void invalidProfileWithoutAnotherCaIsATypedError() {
        ca.meta = Map.of("profiles", Map.of("shortlived", "about 6 days"));
        ca.script("finalize", r -> problem(400, "invalidProfile", "profile shortlived is not allowed", null));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> engine().issue(request(ca.authority("ca1").withProfile("shortlived"))));

        assertThat(e).isNotNull();
        assertThat(e.is("invalidProfile")).isTrue();
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.getMessage()).contains("not allowed");
        assertThat(ca.count("finalize")).isEqualTo(1);
        assertThat(engineEvents).noneMatch(IssuanceEvent.FailedOver.class::isInstance);
    }

    // ======================================================================================
    // (h) failures, warnings, persistence
    // ======================================================================================

    @Test
    void failingRenewalsBackOffDoublingToRetryMaxWithoutTouchingTheCaInBetween() {
        ca.ari = false;
        RenewalManager manager = manager(b -> b.retry(Duration.ofMinutes(1), Duration.ofMinutes(8)));
        IssuedCertificate first = issueFirst(manager);
        manager.runDueWork();
        Instant due = manager.plan(NAME).orElseThrow().renewAt();
        ca.newOrderFailure = r -> problem(400, "rejectedIdentifier", "policy forbids ari.example.com today", null);

        clock.set(due);
        List<Long> expectedMinutes = List.of(1L, 2L, 4L, 8L, 8L, 8L);
        for (int i = 0; i < expectedMinutes.size(); i++) {
            Instant attemptAt = clock.instant();
            int requestsBefore = ca.requests().size();
            Instant wake = manager.runDueWork();

            List<RenewalEvent.Failed> failed = eventsOf(RenewalEvent.Failed.class);
            assertThat(failed).hasSize(i + 1);
            RenewalEvent.Failed f = failed.get(i);
            assertThat(f.consecutiveFailures()).isEqualTo(i + 1);
            assertThat(f.nextAttempt()).isEqualTo(attemptAt.plus(Duration.ofMinutes(expectedMinutes.get(i))));
            assertThat(f.error()).contains("rejectedIdentifier");
            assertThat(wake).isEqualTo(f.nextAttempt());
            assertThat(ca.requests().size()).isGreaterThan(requestsBefore);
            RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
            assertThat(plan.failures()).isEqualTo(i + 1);
            assertThat(plan.nextAttemptAt()).isEqualTo(f.nextAttempt());
            assertThat(plan.lastError()).contains("rejectedIdentifier");
            assertThat(plan.serial()).isEqualTo(serial(first));

            // before the next attempt: passes do nothing at the CA (no hot loop)
            int quiet = ca.requests().size();
            clock.set(f.nextAttempt().minusMillis(1));
            for (int k = 0; k < 3; k++) {
                assertThat(manager.runDueWork()).isEqualTo(f.nextAttempt());
            }
            assertThat(ca.requests().size()).isEqualTo(quiet);
            assertThat(eventsOf(RenewalEvent.Failed.class)).hasSize(i + 1);
            clock.set(f.nextAttempt());
        }

        // a restart keeps the schedule and the count
        RenewalManager.Plan persisted = manager.plan(NAME).orElseThrow();
        manager.close();
        events.clear();
        RenewalManager restarted = manager(b -> b.retry(Duration.ofMinutes(1), Duration.ofMinutes(8)));
        assertThat(restarted.plan(NAME)).contains(persisted);
        int quiet = ca.requests().size();
        clock.set(persisted.nextAttemptAt().minusSeconds(1));
        assertThat(restarted.runDueWork()).isEqualTo(persisted.nextAttemptAt());
        assertThat(ca.requests().size()).isEqualTo(quiet);
        assertThat(events).as("nothing to announce: the plan is known").isEmpty();

        // the CA recovers: success resets the failures
        ca.newOrderFailure = null;
        clock.set(persisted.nextAttemptAt());
        restarted.runDueWork();
        assertThat(single(RenewalEvent.Succeeded.class).serial()).isNotEqualTo(serial(first));
        RenewalManager.Plan fresh = restarted.plan(NAME).orElseThrow();
        assertThat(fresh.failures()).isZero();
        assertThat(fresh.nextAttemptAt()).isNull();
        assertThat(fresh.lastError()).isNull();
        restarted.runDueWork();
        RenewalManager.Plan scheduled = restarted.plan(NAME).orElseThrow();
        assertThat(scheduled.renewAt()).isEqualTo(twoThirds(delivered.get(1).leaf()));
        assertThat(scheduled.failures()).isZero();
    }

    @Test
    void failedFirstIssuanceIsRetriedOnTheSameSchedule() {
        ca.newOrderFailure = r -> problem(400, "rejectedIdentifier", "not yet", null);
        RenewalManager manager = manager(b -> b.retry(Duration.ofMinutes(2), Duration.ofMinutes(5)));

        assertThat(manager.runDueWork()).isEqualTo(t0.plus(Duration.ofMinutes(2)));
        clock.set(t0.plus(Duration.ofMinutes(2)).minusMillis(1));
        int quiet = ca.requests().size();
        assertThat(manager.runDueWork()).isEqualTo(t0.plus(Duration.ofMinutes(2)));
        assertThat(ca.requests().size()).isEqualTo(quiet);
        clock.set(t0.plus(Duration.ofMinutes(2)));
        assertThat(manager.runDueWork()).isEqualTo(t0.plus(Duration.ofMinutes(6)));
        assertThat(eventsOf(RenewalEvent.Failed.class)).extracting(RenewalEvent.Failed::consecutiveFailures)
                .containsExactly(1, 2);
        assertThat(eventsOf(RenewalEvent.Started.class)).allSatisfy(s -> assertThat(s.reason()).contains("no certificate"));

        ca.newOrderFailure = null;
        clock.set(t0.plus(Duration.ofMinutes(6)));
        manager.runDueWork();
        assertThat(delivered).hasSize(1);
        assertThat(manager.plan(NAME).orElseThrow().failures()).isZero();
    }

    @Test
    void retryAfterOfAFailedRenewalIsHonouredUpToRetryMax() {
        ca.ari = false;
        IssuanceEngine engine = engine(Deadlines.all(Duration.ofMinutes(1)));
        RenewalManager manager = manager(b -> b.retry(Duration.ofMinutes(1), Duration.ofMinutes(30)), engine,
                request(ca.authority("ca1")), KeyPolicy.ROTATE);
        issueFirst(manager);
        manager.runDueWork();
        Instant due = manager.plan(NAME).orElseThrow().renewAt();

        clock.set(due);
        ca.script("new-order", r -> problem(429, "rateLimited", "too many certificates", "600"));
        manager.runDueWork();
        assertThat(single(RenewalEvent.Failed.class).nextAttempt()).isEqualTo(due.plus(Duration.ofMinutes(10)));

        // a Retry-After beyond retryMax is capped at retryMax (the manager asks again after 30 min)
        clock.set(due.plus(Duration.ofMinutes(10)));
        ca.script("new-order", r -> problem(429, "rateLimited", "too many certificates", "86400"));
        manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.Failed.class)).hasSize(2).last()
                .satisfies(f -> assertThat(f.nextAttempt()).isEqualTo(due.plus(Duration.ofMinutes(40))));
    }

    @Test
    void expiringSoonIsRaisedOncePerThresholdPerCertificate() {
        ca.ari = false;
        List<Duration> thresholds = List.of(Duration.ofDays(5), Duration.ofDays(20), Duration.ofDays(10));
        Consumer<RenewalManager.Builder> config = b -> b.retry(Duration.ofMinutes(1), Duration.ofHours(8))
                .expiryWarnings(thresholds);
        RenewalManager manager = manager(config);
        IssuedCertificate first = issueFirst(manager);
        Instant notAfter = first.leaf().getNotAfter().toInstant();
        manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).isEmpty();

        ca.newOrderFailure = r -> problem(400, "rejectedIdentifier", "policy says no", null);
        clock.set(manager.plan(NAME).orElseThrow().renewAt());
        manager.runDueWork(); // 30 days left: first failure, no threshold reached yet
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).isEmpty();

        clock.set(notAfter.minus(Duration.ofDays(20)));
        manager.runDueWork();
        manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).singleElement().satisfies(w -> {
            assertThat(w.threshold()).isEqualTo(Duration.ofDays(20));
            assertThat(w.notAfter()).isEqualTo(notAfter);
            assertThat(w.id()).isEqualTo(NAME);
            assertThat(w.lastError()).contains("policy says no");
        });

        clock.set(notAfter.minus(Duration.ofDays(6)));
        manager.runDueWork();
        clock.set(notAfter.minus(Duration.ofDays(6)).plus(Duration.ofHours(9)));
        manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).extracting(RenewalEvent.ExpiringSoon::threshold)
                .containsExactly(Duration.ofDays(20), Duration.ofDays(10));

        // a restart remembers what was already said
        manager.close();
        RenewalManager restarted = manager(config);
        clock.set(notAfter.minus(Duration.ofDays(1)));
        restarted.runDueWork();
        restarted.runDueWork();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).extracting(RenewalEvent.ExpiringSoon::threshold)
                .containsExactly(Duration.ofDays(20), Duration.ofDays(10), Duration.ofDays(5));

        // the CA recovers: the new certificate starts with a clean slate and is far from expiry
        ca.newOrderFailure = null;
        clock.set(clock.instant().plus(Duration.ofHours(8)));
        restarted.runDueWork();
        restarted.runDueWork();
        assertThat(delivered).hasSize(2);
        assertThat(restarted.plan(NAME).orElseThrow().warned()).isEmpty();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).hasSize(3);
    }

    @Test
    void healthyShortLivedCertificateRaisesNoExpiringSoon() {
        ca.ari = false;
        ca.validity = Duration.ofDays(6); // e.g. Let's Encrypt's shortlived profile
        RenewalManager manager = manager(b -> { }); // default thresholds 14, 7, 3 and 1 days
        IssuedCertificate first = issueFirst(manager);

        manager.runDueWork();
        clock.set(manager.plan(NAME).orElseThrow().renewAt());
        manager.runDueWork();
        manager.runDueWork();

        assertThat(delivered).hasSize(2);
        assertThat(delivered.get(1).leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).as("every renewal succeeded on time").isEmpty();

        // but a failing renewal of the same certificate does warn
        ca.newOrderFailure = r -> problem(400, "rejectedIdentifier", "policy says no", null);
        clock.set(manager.plan(NAME).orElseThrow().renewAt());
        manager.runDueWork();
        clock.set(clock.instant().plus(Duration.ofHours(1)));
        manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).extracting(RenewalEvent.ExpiringSoon::threshold)
                .containsExactly(Duration.ofDays(14), Duration.ofDays(7), Duration.ofDays(3));
    }

    @Test
    void ariPlanSurvivesARestartWithoutAskingAgainEarly() {
        Instant start = t0.plus(Duration.ofDays(20));
        Instant end = t0.plus(Duration.ofDays(21));
        ca.renewalInfo = (id, c) -> window(start, end, "43200", null);
        RenewalManager manager = manager(b -> { });
        issueFirst(manager);
        manager.runDueWork();
        RenewalManager.Plan plan = manager.plan(NAME).orElseThrow();
        manager.close();

        events.clear();
        RenewalManager restarted = manager(b -> b.random(new SplittableRandom(999)));
        clock.set(t0.plus(Duration.ofHours(11)));
        assertThat(restarted.runDueWork()).isEqualTo(t0.plus(Duration.ofHours(12)));

        assertThat(restarted.plan(NAME)).contains(plan);
        assertThat(ca.count("renewal-info")).isEqualTo(1);
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(events).isEmpty();
    }

    // ======================================================================================
    // lifecycle
    // ======================================================================================

    @Test
    void reuseKeepsTheKeyAcrossRenewals() {
        ca.ari = false;
        RenewalManager manager = manager(b -> { }, engine(), request(ca.authority("ca1")), KeyPolicy.REUSE);
        IssuedCertificate first = issueFirst(manager);
        for (int i = 0; i < 2; i++) {
            manager.runDueWork();
            clock.set(manager.plan(NAME).orElseThrow().renewAt());
            manager.runDueWork();
        }
        assertThat(delivered).hasSize(3);
        assertThat(delivered).allSatisfy(c -> assertThat(c.keyPair().getPublic()).isEqualTo(first.keyPair().getPublic()));
        assertThat(delivered).extracting(c -> c.leaf().getSerialNumber()).doesNotHaveDuplicates();
    }

    @Test
    void closeDuringARenewalInterruptsItPromptlyAndARestartResumesTheOrder() throws Exception {
        ca.ari = false;
        CountDownLatch presenting = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        ChallengeSolver stuck = new ChallengeSolver() {
            @Override
            public List<String> types() {
                return List.of("http-01");
            }

            @Override
            public void present(ChallengeContext c) throws Exception {
                presenting.countDown();
                try {
                    Thread.sleep(30_000); // a DNS API that hangs
                } catch (InterruptedException e) {
                    interrupted.countDown();
                    throw e;
                }
            }

            @Override
            public void cleanUp(ChallengeContext c) {
            }
        };
        RenewalManager manager = manager(b -> b.clock(Clock.systemUTC()), engine(),
                IssuanceRequest.of(NAME).withSolver(stuck).withCa(ca.authority("ca1")), KeyPolicy.ROTATE);
        manager.start();
        assertThat(presenting.await(10, TimeUnit.SECONDS)).as("the renewal thread is presenting").isTrue();

        long before = System.nanoTime();
        manager.close();
        long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);

        assertThat(closeMillis).as("close() does not wait for the renewal to finish").isLessThan(2_000);
        assertThat(interrupted.await(5, TimeUnit.SECONDS)).as("the renewal was interrupted").isTrue();
        joinRenewalThreads();
        assertThat(eventsOf(RenewalEvent.Failed.class)).as("a shutdown is not a failed renewal").isEmpty();
        assertThat(manager.plan(NAME).map(RenewalManager.Plan::failures).orElse(0)).isZero();
        assertThat(store.read(IssuanceEngine.checkpointKey(NAME))).as("resumable").isPresent();

        // the next process continues the same order at once
        RenewalManager restarted = manager(b -> { });
        restarted.runDueWork();
        assertThat(delivered).hasSize(1);
        assertThat(ca.count("new-order")).isEqualTo(1);
        assertThat(engineEvents).anyMatch(IssuanceEvent.Resumed.class::isInstance);
    }

    private static void joinRenewalThreads() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("anvil-renewal")) {
                t.join(5_000);
                assertThat(t.isAlive()).as("renewal thread ended").isFalse();
            }
        }
    }

    // ======================================================================================
    // helpers
    // ======================================================================================

    private AriCa newCa() throws IOException {
        AriCa c = new AriCa(clock);
        cas.add(c);
        return c;
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private IssuanceEngine engine() {
        return engine(Deadlines.defaults());
    }

    /** Milliseconds for every retry and poll; the engine shares the test's clock. */
    private IssuanceEngine engine(Deadlines deadlines) {
        DefaultBackoff backoff = DefaultBackoff.builder().errorDelays(ms(5), ms(20)).maxErrorRetries(2)
                .maxRateLimitRetries(3).retryAfterRange(ms(1), Duration.ofHours(2))
                .polling(ms(5), ms(20), ms(100)).jitter(0, () -> 0).build();
        return IssuanceEngine.builder(store).allowInsecureHttp(true).httpClient(http).backoff(backoff)
                .deadlines(deadlines).clock(clock).listener(engineEvents::add).build();
    }

    private IssuanceRequest request(CertificateAuthority... authorities) {
        IssuanceRequest r = IssuanceRequest.of(NAME).withSolver(solver);
        for (CertificateAuthority a : authorities) {
            r = r.withCa(a);
        }
        return r;
    }

    private RenewalManager manager(Consumer<RenewalManager.Builder> config) {
        return manager(config, engine(), request(ca.authority("ca1")), KeyPolicy.ROTATE);
    }

    private RenewalManager manager(Consumer<RenewalManager.Builder> config, IssuanceEngine engine,
                                   IssuanceRequest request, KeyPolicy policy) {
        RenewalManager.Builder b = RenewalManager.builder(engine, store).clock(clock).random(new SplittableRandom(1234))
                .listener(events::add);
        config.accept(b);
        RenewalManager m = b.build();
        managers.add(m);
        m.manage(new ManagedCertificate(request, policy, delivered::add));
        return m;
    }

    /** The first pass: no certificate yet, so it is issued at once. */
    private IssuedCertificate issueFirst(RenewalManager manager) {
        Instant wake = manager.runDueWork();
        assertThat(eventsOf(RenewalEvent.Started.class)).singleElement()
                .satisfies(s -> assertThat(s.reason()).isEqualTo("no certificate yet"));
        assertThat(eventsOf(RenewalEvent.Succeeded.class)).singleElement();
        assertThat(delivered).hasSize(1);
        IssuedCertificate cert = delivered.get(0);
        assertThat(cert.leaf().getPublicKey()).isEqualTo(cert.keyPair().getPublic());
        assertThat(wake).as("the new certificate is planned on the next pass, at once").isEqualTo(clock.instant());
        assertThat(eventsOf(RenewalEvent.Scheduled.class)).isEmpty();
        return cert;
    }

    /** runDueWork's answer for work due at {@code at}: then, or in an hour at the latest. */
    private Instant nextPass(Instant at) {
        Instant hourly = clock.instant().plus(Duration.ofHours(1));
        return at.isBefore(hourly) ? at : hourly;
    }

    private <T extends RenewalEvent> List<T> eventsOf(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private <T extends RenewalEvent> T single(Class<T> type) {
        List<T> found = eventsOf(type);
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    private static String serial(IssuedCertificate c) {
        return c.leaf().getSerialNumber().toString(16);
    }

    /** The manager's lifetime rule, computed the same way. */
    private static Instant twoThirds(X509Certificate leaf) {
        Instant nb = leaf.getNotBefore().toInstant();
        Instant na = leaf.getNotAfter().toInstant();
        return nb.plusMillis((long) (Duration.between(nb, na).toMillis() * (2.0 / 3.0)));
    }

    static MockResponse window(Instant start, Instant end, String retryAfter, String explanationUrl) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("suggestedWindow", Map.of("start", start.toString(), "end", end.toString()));
        if (explanationUrl != null) {
            body.put("explanationURL", explanationUrl);
        }
        MockResponse.Builder b = new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                .body(Json.write(body));
        if (retryAfter != null) {
            b.setHeader("Retry-After", retryAfter);
        }
        return b.build();
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

    /** A solver that records and does nothing: the fake CA validates every answered challenge. */
    static final class RecordingSolver implements ChallengeSolver {
        final List<ChallengeContext> presented = new CopyOnWriteArrayList<>();

        @Override
        public List<String> types() {
            return List.of("http-01");
        }

        @Override
        public void present(ChallengeContext challenge) {
            presented.add(challenge);
        }

        @Override
        public void cleanUp(ChallengeContext challenge) {
        }
    }

    /**
     * A fake ACME CA with ARI and profiles and any number of orders. Its own issuing
     * certificate (with a Subject Key Identifier) signs leaves that carry the matching Authority
     * Key Identifier, valid from the test clock's now for {@link #validity}. Like Boulder it
     * refuses "replaces" naming a certificate of another issuer or an unknown one (404), or one
     * already replaced (409). Endpoints: {@code /directory}, {@code /nonce}, {@code /new-account},
     * {@code /new-order}, {@code /order/<n>}, {@code /authz/<n>/<i>}, {@code /challenge/<n>/<i>},
     * {@code /finalize/<n>}, {@code /cert/<n>}, {@code GET /renewal-info/<certID>}.
     */
    static final class AriCa implements AutoCloseable {

        private static final ObjectMapper MAPPER = new ObjectMapper();
        private static final SecureRandom RANDOM = new SecureRandom();

        /** One request as the fake saw it; header and payload are null for GETs and POST-as-GET payloads. */
        record Req(String method, String path, String endpoint, JsonNode protectedHeader, JsonNode payload,
                   String contentType, long bodySize) {
        }

        final MockWebServer server = new MockWebServer();
        private final Clock clock;
        private final KeyPair issuerKey = ecKey();
        private final X509Certificate issuer;
        private final byte[] issuerKeyId;
        private final List<Req> requests = new CopyOnWriteArrayList<>();
        private final Set<String> nonces = ConcurrentHashMap.newKeySet();
        private final AtomicInteger counter = new AtomicInteger();
        private final Map<String, Deque<Function<Req, MockResponse>>> scripts = new ConcurrentHashMap<>();
        private final Map<Integer, FakeOrder> orders = new ConcurrentHashMap<>();
        private final Map<String, X509Certificate> issued = new ConcurrentHashMap<>();
        private final Set<String> replaced = ConcurrentHashMap.newKeySet();

        // ---- configuration ----
        volatile boolean ari = true;
        volatile Map<String, Object> meta = Map.of();
        volatile Duration validity = Duration.ofDays(90);
        volatile boolean leafAki = true;
        /** CertIDs whose window has passed (the default renewalInfo answer). */
        final Set<String> renewNow = ConcurrentHashMap.newKeySet();
        /** The renewalInfo answer for a CertID and the certificate it names (null when unknown). */
        volatile BiFunction<String, X509Certificate, MockResponse> renewalInfo = this::defaultRenewalInfo;
        /** When set, answers every newOrder. */
        volatile Function<Req, MockResponse> newOrderFailure;

        private static final class FakeOrder {
            final List<String> identifiers;
            final String replaces;
            final List<String> authz = new ArrayList<>();
            String status = "pending";
            String certificatePem;

            FakeOrder(List<String> identifiers, String replaces) {
                this.identifiers = identifiers;
                this.replaces = replaces;
                identifiers.forEach(i -> authz.add("pending"));
            }
        }

        AriCa(Clock clock) throws IOException {
            this.clock = clock;
            try {
                this.issuerKeyId = new JcaX509ExtensionUtils().createSubjectKeyIdentifier(issuerKey.getPublic())
                        .getKeyIdentifier();
                X500Principal name = new X500Principal("CN=Fake ARI CA " + Long.toHexString(RANDOM.nextLong()));
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                        Date.from(clock.instant().minus(Duration.ofDays(1))),
                        Date.from(clock.instant().plus(Duration.ofDays(3650))), name, issuerKey.getPublic());
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
                b.addExtension(Extension.subjectKeyIdentifier, false,
                        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(issuerKey.getPublic()));
                this.issuer = sign(b);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
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

        void script(String endpoint, Function<Req, MockResponse> answer) {
            scripts.computeIfAbsent(endpoint, k -> new ArrayDeque<>()).add(answer);
        }

        List<Req> requests() {
            return List.copyOf(requests);
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

        private MockResponse defaultRenewalInfo(String certId, X509Certificate cert) {
            if (cert == null) {
                return problem(404, "malformed", "no certificate " + certId, null);
            }
            Instant now = clock.instant();
            if (renewNow.contains(certId)) {
                return window(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)), "21600", null);
            }
            Instant nb = cert.getNotBefore().toInstant();
            Instant mid = nb.plus(Duration.between(nb, cert.getNotAfter().toInstant()).multipliedBy(2).dividedBy(3));
            return window(mid.minus(Duration.ofDays(1)), mid.plus(Duration.ofDays(1)), "21600", null);
        }

        private MockResponse handle(RecordedRequest rr) {
            String path = rr.getUrl().encodedPath();
            String[] parts = path.split("/");
            String endpoint = parts.length > 1 ? parts[1] : "";
            JsonNode header = null;
            JsonNode payload = null;
            long size = rr.getBody() == null ? 0 : rr.getBody().size();
            if ("POST".equals(rr.getMethod())) {
                if (!"application/jose+json".equals(rr.getHeaders().get("Content-Type"))) {
                    return problem(415, "malformed", "Content-Type must be application/jose+json", null);
                }
                try {
                    JsonNode jws = MAPPER.readTree(rr.getBody() == null ? "" : rr.getBody().utf8());
                    header = decode(jws.path("protected").asText());
                    String p = jws.path("payload").asText();
                    payload = p.isEmpty() ? null : decode(p);
                } catch (IOException | RuntimeException e) {
                    return problem(400, "malformed", "not a flattened JWS: " + e, null);
                }
            }
            Req req = new Req(rr.getMethod(), path, endpoint, header, payload, rr.getHeaders().get("Content-Type"), size);
            requests.add(req);
            if (header != null) {
                if (!nonces.remove(header.path("nonce").asText())) {
                    return problem(400, "badNonce", "The Replay Nonce is not recognized", null);
                }
                if (!rr.getUrl().toString().equals(header.path("url").asText())) {
                    return problem(401, "unauthorized", "JWS url is not " + rr.getUrl(), null);
                }
            }
            Deque<Function<Req, MockResponse>> script = scripts.get(endpoint);
            Function<Req, MockResponse> next = null;
            if (script != null) {
                synchronized (script) {
                    next = script.poll();
                }
            }
            if (next != null) {
                return next.apply(req);
            }
            try {
                return answer(req, parts);
            } catch (RuntimeException e) {
                return problem(500, "serverInternal", "fake CA bug: " + e, null);
            }
        }

        private MockResponse withNonce(MockResponse r) {
            String nonce = "n" + counter.incrementAndGet() + "_" + Long.toHexString(System.nanoTime());
            nonces.add(nonce);
            return r.newBuilder().setHeader("Replay-Nonce", nonce).setHeader("Cache-Control", "no-store").build();
        }

        private synchronized MockResponse answer(Req r, String[] parts) {
            switch (r.endpoint()) {
                case "directory" -> {
                    Map<String, Object> dir = new LinkedHashMap<>();
                    dir.put("newNonce", url("/nonce"));
                    dir.put("newAccount", url("/new-account"));
                    dir.put("newOrder", url("/new-order"));
                    dir.put("revokeCert", url("/revoke"));
                    if (ari) {
                        dir.put("renewalInfo", url("/renewal-info"));
                    }
                    dir.put("meta", meta);
                    return json(200, dir);
                }
                case "nonce" -> {
                    return new MockResponse.Builder().code("HEAD".equals(r.method()) ? 200 : 204).build();
                }
                case "new-account" -> {
                    return json(201, Map.of("status", "valid")).newBuilder()
                            .setHeader("Location", url("/acct/" + counter.incrementAndGet())).build();
                }
                case "new-order" -> {
                    if (r.protectedHeader() == null || !r.protectedHeader().has("kid")) {
                        return problem(400, "malformed", "newOrder must carry a kid", null);
                    }
                    Function<Req, MockResponse> failure = newOrderFailure;
                    if (failure != null) {
                        return failure.apply(r);
                    }
                    JsonNode p = r.payload();
                    if (p.has("profile")) {
                        Object offered = meta.get("profiles");
                        if (!(offered instanceof Map<?, ?> m) || !m.containsKey(p.path("profile").asText())) {
                            return problem(400, "invalidProfile", "no profile " + p.path("profile"), null);
                        }
                    }
                    String replaces = p.has("replaces") ? p.path("replaces").asText() : null;
                    if (replaces != null) {
                        MockResponse refused = checkReplaces(replaces);
                        if (refused != null) {
                            return refused;
                        }
                    }
                    List<String> ids = new ArrayList<>();
                    p.path("identifiers").forEach(i -> ids.add(i.path("value").asText()));
                    int n = counter.incrementAndGet();
                    orders.put(n, new FakeOrder(ids, replaces));
                    return json(201, order(n)).newBuilder().setHeader("Location", url("/order/" + n)).build();
                }
                case "order" -> {
                    return json(200, order(Integer.parseInt(parts[2])));
                }
                case "authz" -> {
                    return json(200, authorization(Integer.parseInt(parts[2]), Integer.parseInt(parts[3])));
                }
                case "challenge" -> {
                    int n = Integer.parseInt(parts[2]);
                    int i = Integer.parseInt(parts[3]);
                    FakeOrder o = orders.get(n);
                    if (r.payload() != null) {
                        o.authz.set(i, "valid");
                        if (!o.authz.contains("pending")) {
                            o.status = "ready";
                        }
                    }
                    return json(200, challenge(n, i));
                }
                case "finalize" -> {
                    int n = Integer.parseInt(parts[2]);
                    FakeOrder o = orders.get(n);
                    if (!"ready".equals(o.status)) {
                        return problem(403, "orderNotReady", "order is " + o.status, null);
                    }
                    String error = issue(o, r.payload().path("csr").asText());
                    if (error != null) {
                        return problem(400, "badCSR", error, null);
                    }
                    return json(200, order(n));
                }
                case "cert" -> {
                    FakeOrder o = orders.get(Integer.parseInt(parts[2]));
                    return new MockResponse.Builder().code(200)
                            .setHeader("Content-Type", "application/pem-certificate-chain").body(o.certificatePem).build();
                }
                case "renewal-info" -> {
                    if (!"GET".equals(r.method()) || parts.length != 3) {
                        return problem(405, "malformed", "renewalInfo takes a GET of /renewal-info/<certID>", null);
                    }
                    return renewalInfo.apply(parts[2], issued.get(parts[2]));
                }
                default -> {
                    return problem(404, "malformed", "no such resource " + r.path(), null);
                }
            }
        }

        /** Boulder-like checks of "replaces" (RFC 9773 section 5). */
        private MockResponse checkReplaces(String certId) {
            String[] p = certId.split("\\.");
            if (p.length != 2) {
                return problem(400, "malformed", "replaces is not a CertID", null);
            }
            if (!p[0].equals(Base64.getUrlEncoder().withoutPadding().encodeToString(issuerKeyId))) {
                return problem(404, "malformed", "the Authority Key Identifier of " + certId
                        + " does not match a known issuer", null);
            }
            if (!issued.containsKey(certId)) {
                return problem(404, "malformed", "unknown certificate " + certId, null);
            }
            if (replaced.contains(certId)) {
                return problem(409, "alreadyReplaced", certId + " already has a replacement order", null);
            }
            return null;
        }

        private String issue(FakeOrder o, String csrBase64Url) {
            try {
                PKCS10CertificationRequest csr = new PKCS10CertificationRequest(Base64.getUrlDecoder().decode(csrBase64Url));
                String alg = X9ObjectIdentifiers.id_ecPublicKey.equals(
                        csr.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm()) ? "EC" : "RSA";
                PublicKey key = KeyFactory.getInstance(alg)
                        .generatePublic(new X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded()));
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
                if (!Set.copyOf(sans).equals(Set.copyOf(o.identifiers))) {
                    return "CSR names " + sans + " do not match the order's " + o.identifiers;
                }
                Instant nb = clock.instant().truncatedTo(ChronoUnit.SECONDS);
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
                        new BigInteger(72, RANDOM).add(BigInteger.ONE), Date.from(nb), Date.from(nb.plus(validity)),
                        new X500Principal("CN=" + o.identifiers.get(0)), key);
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(o.identifiers.stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
                if (leafAki) {
                    b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
                }
                X509Certificate leaf = sign(b);
                if (leafAki) {
                    issued.put(RenewalInfo.certId(leaf), leaf);
                }
                if (o.replaces != null) {
                    replaced.add(o.replaces);
                }
                o.certificatePem = Pem.write(leaf) + Pem.write(issuer);
                o.status = "valid";
                return null;
            } catch (Exception e) {
                return "unreadable CSR: " + e;
            }
        }

        private Map<String, Object> order(int n) {
            FakeOrder o = orders.get(n);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("status", o.status);
            m.put("expires", clock.instant().plus(Duration.ofDays(7)).toString());
            m.put("identifiers", o.identifiers.stream().map(v -> Map.of("type", "dns", "value", v)).toList());
            List<String> authzs = new ArrayList<>();
            for (int i = 0; i < o.identifiers.size(); i++) {
                authzs.add(url("/authz/" + n + "/" + i));
            }
            m.put("authorizations", authzs);
            m.put("finalize", url("/finalize/" + n));
            if (o.replaces != null) {
                m.put("replaces", o.replaces);
            }
            if ("valid".equals(o.status)) {
                m.put("certificate", url("/cert/" + n));
            }
            return m;
        }

        private Map<String, Object> authorization(int n, int i) {
            FakeOrder o = orders.get(n);
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("identifier", Map.of("type", "dns", "value", o.identifiers.get(i)));
            a.put("status", o.authz.get(i));
            a.put("expires", clock.instant().plus(Duration.ofDays(7)).toString());
            a.put("challenges", List.of(challenge(n, i)));
            return a;
        }

        private Map<String, Object> challenge(int n, int i) {
            FakeOrder o = orders.get(n);
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("type", "http-01");
            c.put("url", url("/challenge/" + n + "/" + i));
            c.put("status", o.authz.get(i));
            c.put("token", "token_" + n + "_" + i);
            return c;
        }

        private X509Certificate sign(X509v3CertificateBuilder b) {
            try {
                return new JcaX509CertificateConverter().getCertificate(
                        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static KeyPair ecKey() {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                return g.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static JsonNode decode(String base64url) {
            try {
                return MAPPER.readTree(Base64.getUrlDecoder().decode(base64url));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
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
