package dev.anvil.acme.renewal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okio.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The renewal manager end to end against a real Pebble issuing 120-second certificates (Pebble
 * 2.4 has no ARI, so the lifetime rule applies and no "replaces" is sent). The manager runs on
 * a {@link MutableClock} that starts at the real now and is moved past two thirds of each
 * certificate's lifetime; the engine keeps the real clock, as Pebble's own times are real.
 */
class RenewalIntegrationTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long VALIDITY_SECONDS = 120;

    private static Pebble pebble;
    private static Http01TestResponder responder;
    private static OkHttpClient http;
    private static String newOrderUrl;
    private static final List<JsonNode> NEW_ORDERS = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    private final List<RenewalEvent> events = new CopyOnWriteArrayList<>();
    private final List<IssuedCertificate> delivered = new CopyOnWriteArrayList<>();
    private final MutableClock clock = new MutableClock(Instant.now());

    @BeforeAll
    static void start() {
        pebble = Pebble.builder().certificateValidityPeriod(VALIDITY_SECONDS).start();
        responder = Http01TestResponder.start(pebble.httpPort());
        // Records the payload of every newOrder that created an order (201), to see what the engine
        // sends; a newOrder rejected for a bad nonce (5% of them) is sent again and not counted twice.
        http = pebble.httpClient().newBuilder().addInterceptor(chain -> {
            Request r = chain.request();
            okhttp3.Response response = chain.proceed(r);
            if ("POST".equals(r.method()) && r.url().toString().equals(newOrderUrl) && r.body() != null
                    && response.code() == 201) {
                Buffer body = new Buffer();
                r.body().writeTo(body);
                JsonNode jws = MAPPER.readTree(body.readUtf8());
                NEW_ORDERS.add(MAPPER.readTree(Base64.getUrlDecoder().decode(jws.path("payload").asText())));
            }
            return response;
        }).build();
        newOrderUrl = AcmeClient.builder(pebble.directoryUrl()).httpClient(http).build().fetchDirectory().newOrder();
    }

    @AfterAll
    static void stop() {
        responder.close();
        pebble.close();
    }

    @BeforeEach
    void clearOrders() {
        NEW_ORDERS.clear();
    }

    @Test
    void issuesThenRenewsPastTwoThirdsOfTheLifetimeSeveralTimes() throws IOException {
        FileStore store = new FileStore(dir);
        RenewalManager manager = manager(store, clock, null);
        manager.manage(ManagedCertificate.of(request("renew.anvil.test"), delivered::add));

        manager.runDueWork();

        assertThat(eventsOf(RenewalEvent.Succeeded.class)).singleElement().satisfies(s -> {
            assertThat(s.ca()).isEqualTo("pebble");
            assertThat(s.id()).isEqualTo("renew.anvil.test");
        });
        assertThat(delivered).hasSize(1);
        assertDelivered(delivered.get(0), store, "renew.anvil.test");
        X509Certificate first = delivered.get(0).leaf();
        assertThat(Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant()))
                .as("Pebble's certificateValidityPeriod").isBetween(Duration.ofSeconds(VALIDITY_SECONDS - 1),
                        Duration.ofSeconds(VALIDITY_SECONDS));

        for (int renewal = 1; renewal <= 3; renewal++) {
            IssuedCertificate current = delivered.get(renewal - 1);
            manager.runDueWork();
            RenewalManager.Plan plan = manager.plan("renew.anvil.test").orElseThrow();
            assertThat(plan.serial()).isEqualTo(current.leaf().getSerialNumber().toString(16));
            assertThat(plan.renewAt()).isEqualTo(twoThirds(current.leaf()));
            assertThat(plan.renewAt()).as("not due yet").isAfter(clock.instant());
            assertThat(eventsOf(RenewalEvent.Scheduled.class)).hasSize(renewal).last()
                    .satisfies(s -> assertThat(s.reason()).contains("67%").contains("pebble has no ARI"));

            // just before the moment: nothing happens
            clock.set(plan.renewAt().minusSeconds(1));
            assertThat(manager.runDueWork()).isEqualTo(plan.renewAt());
            assertThat(NEW_ORDERS).hasSize(renewal);

            clock.set(plan.renewAt());
            awaitNextSecond(current);
            manager.runDueWork();

            assertThat(delivered).hasSize(renewal + 1);
            IssuedCertificate renewed = delivered.get(renewal);
            assertDelivered(renewed, store, "renew.anvil.test");
            assertThat(renewed.leaf().getSerialNumber()).isNotEqualTo(current.leaf().getSerialNumber());
            assertThat(renewed.keyPair().getPublic()).as("ROTATE").isNotEqualTo(current.keyPair().getPublic());
            assertThat(eventsOf(RenewalEvent.Succeeded.class)).hasSize(renewal + 1).last()
                    .satisfies(s -> assertThat(s.serial()).isEqualTo(renewed.leaf().getSerialNumber().toString(16)));
        }

        assertThat(NEW_ORDERS).hasSize(4).allSatisfy(p -> {
            assertThat(p.has("replaces")).as("Pebble offers no renewalInfo").isFalse();
            assertThat(p.path("identifiers").get(0).path("value").asText()).isEqualTo("renew.anvil.test");
        });
        assertThat(delivered).extracting(c -> c.keyPair().getPublic()).doesNotHaveDuplicates();
        assertThat(eventsOf(RenewalEvent.Failed.class)).isEmpty();
        assertThat(eventsOf(RenewalEvent.ExpiringSoon.class)).as("every renewal succeeded on time").isEmpty();
    }

    @Test
    void reuseKeepsTheKeyAcrossRenewals() throws IOException {
        FileStore store = new FileStore(dir);
        RenewalManager manager = manager(store, clock, null);
        manager.manage(ManagedCertificate.of(request("reuse.anvil.test"), delivered::add).withKeyPolicy(KeyPolicy.REUSE));

        manager.runDueWork();
        for (int i = 0; i < 2; i++) {
            manager.runDueWork();
            assertThat(delivered).hasSize(i + 1);
            clock.set(manager.plan("reuse.anvil.test").orElseThrow().renewAt());
            awaitNextSecond(delivered.get(i));
            manager.runDueWork();
        }

        assertThat(delivered).hasSize(3);
        PublicKey key = delivered.get(0).keyPair().getPublic();
        assertThat(delivered).allSatisfy(c -> {
            assertThat(c.keyPair().getPublic()).isEqualTo(key);
            assertThat(c.leaf().getPublicKey()).isEqualTo(key);
        });
        assertThat(delivered).extracting(c -> c.leaf().getSerialNumber()).doesNotHaveDuplicates();
        assertDelivered(delivered.get(2), store, "reuse.anvil.test");
    }

    @Test
    void restartContinuesFromThePersistedPlanWithoutIssuingEarly() throws IOException {
        RenewalManager before = manager(new FileStore(dir), clock, null);
        before.manage(ManagedCertificate.of(request("restart.anvil.test"), delivered::add));
        before.runDueWork();
        before.runDueWork();
        RenewalManager.Plan plan = before.plan("restart.anvil.test").orElseThrow();
        before.close();

        // a new process: new store object on the same directory, new engine, new manager
        events.clear();
        List<IssuedCertificate> deliveredAfter = new CopyOnWriteArrayList<>();
        FileStore store = new FileStore(dir);
        RenewalManager after = manager(store, clock, null);
        after.manage(ManagedCertificate.of(request("restart.anvil.test"), deliveredAfter::add));
        clock.set(plan.renewAt().minusSeconds(2));

        assertThat(after.runDueWork()).isEqualTo(plan.renewAt());
        assertThat(after.plan("restart.anvil.test")).contains(plan);
        assertThat(events).as("nothing issued, nothing rescheduled").isEmpty();
        assertThat(NEW_ORDERS).hasSize(1);
        assertThat(deliveredAfter).isEmpty();

        clock.set(plan.renewAt());
        after.runDueWork();

        assertThat(deliveredAfter).singleElement().satisfies(c -> {
            assertThat(c.leaf().getSerialNumber().toString(16)).isNotEqualTo(plan.serial());
            assertDelivered(c, store, "restart.anvil.test");
        });
        assertThat(NEW_ORDERS).hasSize(2);
        after.close();
    }

    @Test
    void ownDaemonThreadIssuesWithinSecondsAndStopsOnClose() throws Exception {
        FileStore store = new FileStore(dir);
        RenewalManager manager = manager(store, Clock.systemUTC(), null);
        manager.manage(ManagedCertificate.of(request("thread.anvil.test"), delivered::add));

        manager.start();
        try {
            awaitEvent(RenewalEvent.Scheduled.class, Duration.ofSeconds(20));
        } finally {
            manager.close();
        }

        assertThat(delivered).hasSize(1);
        assertDelivered(delivered.get(0), store, "thread.anvil.test");
        assertThat(eventsOf(RenewalEvent.Scheduled.class)).singleElement()
                .satisfies(s -> assertThat(s.at()).isEqualTo(twoThirds(delivered.get(0).leaf())));
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("anvil-renewal")) {
                assertThat(t.isDaemon()).isTrue();
                t.join(5_000);
                assertThat(t.isAlive()).as("the manager's thread ends on close()").isFalse();
            }
        }
    }

    @Test
    void applicationExecutorIssuesWithinSecondsAndIsLeftRunningOnClose() throws Exception {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            FileStore store = new FileStore(dir);
            RenewalManager manager = manager(store, Clock.systemUTC(), executor);
            manager.manage(ManagedCertificate.of(request("executor.anvil.test"), delivered::add));

            manager.start();
            awaitEvent(RenewalEvent.Scheduled.class, Duration.ofSeconds(20));
            manager.close();

            assertThat(delivered).hasSize(1);
            assertDelivered(delivered.get(0), store, "executor.anvil.test");
            assertThat(executor.isShutdown()).as("the application's executor is the application's").isFalse();
            // nothing of the manager's is left to run on it
            int before = NEW_ORDERS.size();
            Thread.sleep(200);
            assertThat(NEW_ORDERS).hasSize(before);
        } finally {
            executor.shutdownNow();
            assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    // ---- helpers ----

    private RenewalManager manager(FileStore store, Clock managerClock, ScheduledExecutorService executor) {
        IssuanceEngine engine = IssuanceEngine.builder(store).httpClient(http).build();
        RenewalManager.Builder b = RenewalManager.builder(engine, store).clock(managerClock).listener(events::add);
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    private IssuanceRequest request(String name) {
        return IssuanceRequest.of(name).withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()))
                .withSolver(new TestSolvers.Http01(responder));
    }

    /** The callback got a certificate with its key, for the name, and the store holds exactly that. */
    private static void assertDelivered(IssuedCertificate c, FileStore store, String name) {
        assertThat(c.issuanceId()).isEqualTo(name);
        assertThat(c.leaf().getPublicKey()).isEqualTo(c.keyPair().getPublic());
        try {
            assertThat(c.leaf().getSubjectAlternativeNames()).anySatisfy(san -> assertThat(san.get(1)).isEqualTo(name));
        } catch (java.security.cert.CertificateParsingException e) {
            throw new AssertionError(e);
        }
        IssuedCertificate stored = IssuanceEngine.builder(store).build().storedCertificate(name).orElseThrow();
        assertThat(stored.leaf()).isEqualTo(c.leaf());
        assertThat(stored.keyPair().getPublic()).isEqualTo(c.keyPair().getPublic());
    }

    /**
     * Waits until Pebble's next certificate starts at least a second after this one's (X.509
     * times have whole seconds): the manager's clock has jumped ahead of real time to this
     * certificate's renewal moment, and a successor issued within the same real second would
     * already be at two thirds of its lifetime by that clock.
     */
    private static void awaitNextSecond(IssuedCertificate current) {
        Instant next = current.leaf().getNotBefore().toInstant().plusMillis(1_050);
        long ms = Duration.between(Instant.now(), next).toMillis();
        if (ms > 0) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static Instant twoThirds(X509Certificate leaf) {
        Instant nb = leaf.getNotBefore().toInstant();
        Instant na = leaf.getNotAfter().toInstant();
        return nb.plusMillis((long) (Duration.between(nb, na).toMillis() * (2.0 / 3.0)));
    }

    private <T extends RenewalEvent> List<T> eventsOf(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private void awaitEvent(Class<? extends RenewalEvent> type, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (eventsOf(type).isEmpty()) {
            assertThat(System.nanoTime()).as("no %s within %s; events: %s", type.getSimpleName(), timeout, events)
                    .isLessThan(end);
            Thread.sleep(20);
        }
    }
}
