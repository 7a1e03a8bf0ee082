package dev.anvil.acme.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AccountSession;
import dev.anvil.acme.AcmeBadNonceException;
import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.AcmeNetworkException;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeRateLimitedException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.Authorization;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.NewAccount;
import dev.anvil.acme.Order;
import dev.anvil.acme.OrderRequest;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.Csr;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.testing.FaultProxy.Action;
import dev.anvil.acme.testing.FaultProxy.Fault;
import dev.anvil.acme.testing.FaultProxy.Match;
import dev.anvil.acme.testing.FaultProxy.Rule;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Proves each {@link FaultProxy} fault against a real Pebble, as the ACME client sees it. */
class FaultProxyTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final AtomicInteger NAMES = new AtomicInteger();

    private static Pebble pebble;
    private static Http01TestResponder responder;

    private FaultProxy proxy;

    @BeforeAll
    static void startPebble() {
        // No random badNonce from Pebble itself, so request counts are exact.
        pebble = Pebble.builder().nonceRejectPercent(0).start();
        responder = Http01TestResponder.start(pebble.httpPort());
    }

    @AfterAll
    static void stopPebble() {
        if (responder != null) {
            responder.close();
        }
        if (pebble != null) {
            pebble.close();
        }
    }

    @BeforeEach
    void startProxy() {
        proxy = FaultProxy.start(pebble);
    }

    @AfterEach
    void stopProxy() {
        proxy.close();
    }

    private AcmeClient client(Duration readTimeout) {
        return AcmeClient.builder(proxy.url())
                .httpClient(pebble.httpClient().newBuilder().readTimeout(readTimeout).build())
                .maxBadNonceRetries(10) // explicit: the storm test counts attempts
                .build();
    }

    private AccountSession account() {
        return client(Duration.ofSeconds(10)).newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms());
    }

    private static OrderRequest uniqueOrder() {
        return OrderRequest.of("fp" + NAMES.incrementAndGet() + ".anvil.test");
    }

    /** An order taken to "ready" through the proxy (http-01 validated by Pebble). */
    private static Order readyOrder(AccountSession account) throws InterruptedException {
        Order order = account.newOrder(uniqueOrder());
        for (String url : order.authorizations()) {
            Authorization authz = account.fetchAuthorization(url);
            if (authz.status() == Status.PENDING) {
                Challenge c = authz.challenge(Challenge.HTTP_01).orElseThrow();
                responder.put(c.token(), account.keyAuthorization(c.token()));
                account.respond(c);
            }
        }
        return pollWhile(account, order, Status.PENDING);
    }

    private static Order pollWhile(AccountSession account, Order order, Status status) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(20);
        while (order.status() == status && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
            order = account.fetchOrder(order.url());
        }
        return order;
    }

    private static List<String> pebbleLogSince(int mark) {
        List<String> log = pebble.requestLog();
        return new ArrayList<>(log.subList(mark, log.size()));
    }

    private int rawGet(String path) throws IOException {
        Request req = new Request.Builder().url(proxy.origin() + path).get().build();
        try (Response r = pebble.httpClient().newCall(req).execute()) {
            return r.code();
        }
    }

    // ------------------------------------------------------------------ pass-through

    @Test
    void passThroughIssuesEndToEndAndPebbleHandsOutProxyUrls() throws Exception {
        // Directory through the proxy: Pebble built every URL from the forwarded Host header.
        Request req = new Request.Builder().url(proxy.url()).get().build();
        JsonNode dir;
        try (Response r = pebble.httpClient().newCall(req).execute()) {
            assertThat(r.code()).isEqualTo(200);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            dir = MAPPER.readTree(r.body().string());
        }
        assertThat(dir.path("newNonce").asText()).isEqualTo(proxy.origin() + FaultProxy.NEW_NONCE);
        assertThat(dir.path("newAccount").asText()).isEqualTo(proxy.origin() + FaultProxy.NEW_ACCOUNT);
        assertThat(dir.path("newOrder").asText()).isEqualTo(proxy.origin() + FaultProxy.NEW_ORDER);
        assertThat(dir.path("revokeCert").asText()).isEqualTo(proxy.origin() + FaultProxy.REVOKE_CERT);
        assertThat(dir.path("keyChange").asText()).isEqualTo(proxy.origin() + FaultProxy.KEY_CHANGE);
        Request head = new Request.Builder().url(proxy.origin() + FaultProxy.NEW_NONCE).head().build();
        try (Response r = pebble.httpClient().newCall(head).execute()) {
            assertThat(r.header("Replay-Nonce")).isNotBlank();
            assertThat(r.header("Link")).isEqualTo("<" + proxy.url() + ">;rel=\"index\"");
        }

        int mark = pebble.requestCount();
        AccountSession account = account();
        assertThat(account.accountUrl()).startsWith(proxy.origin() + FaultProxy.ACCOUNT);
        List<String> log = new ArrayList<>();
        // JWS signed for proxy URLs: Pebble would answer "url header incorrect" if it compared against its own port.
        TestIssuance.Result result = TestIssuance.issue(account, uniqueOrder(), TestIssuance.http01(responder),
                null, log::add);

        assertThat(result.order().status()).isEqualTo(Status.VALID);
        assertThat(result.order().url()).startsWith(proxy.origin() + FaultProxy.ORDER);
        assertThat(result.order().finalizeUrl()).startsWith(proxy.origin() + FaultProxy.FINALIZE);
        assertThat(result.order().certificateUrl()).startsWith(proxy.origin() + FaultProxy.CERT);
        assertThat(result.order().authorizations()).allMatch(u -> u.startsWith(proxy.origin() + FaultProxy.AUTHZ));
        assertThat(result.chain().leaf().getPublicKey()).isEqualTo(result.certificateKey().getPublic());

        // Everything passed, everything reached Pebble, and every path is one of Pebble's known prefixes.
        List<FaultProxy.Seen> seen = proxy.seen();
        assertThat(seen).allMatch(s -> s.action() == Action.PASSED && s.forwarded() && s.rule() == null);
        assertThat(seen).extracting(FaultProxy.Seen::path).allMatch(p -> List.of(FaultProxy.DIRECTORY,
                FaultProxy.NEW_NONCE, FaultProxy.NEW_ACCOUNT, FaultProxy.NEW_ORDER, FaultProxy.ACCOUNT,
                FaultProxy.AUTHZ, FaultProxy.CHALLENGE, FaultProxy.FINALIZE, FaultProxy.ORDER, FaultProxy.CERT)
                .stream().anyMatch(p::startsWith));
        assertThat(proxy.count("POST", FaultProxy.NEW_ORDER)).isEqualTo(1);
        assertThat(proxy.forwarded("POST", FaultProxy.FINALIZE)).isEqualTo(1);
        assertThat(proxy.count("POST", FaultProxy.CHALLENGE)).isEqualTo(1);
        assertThat(proxy.count("POST", FaultProxy.CERT)).isEqualTo(1);
        // Pebble logged exactly what the proxy forwarded (the raw GET and HEAD above came before the mark).
        assertThat(pebbleLogSince(mark)).hasSize(seen.size() - 2);
    }

    // ------------------------------------------------------------------ injected status

    @Test
    void injectedStatusCarriesRetryAfterAndAFreshNonceAndNeverReachesPebble() {
        AccountSession account = account();
        proxy.clearSeen();
        Rule rule = proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1),
                Fault.status(502).retryAfter(Duration.ofSeconds(7)));
        int mark = pebble.requestCount();
        Instant before = Instant.now();

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, () -> account.newOrder(uniqueOrder()));
        assertThat(e.status()).isEqualTo(502);
        assertThat(e.problem()).isEmpty(); // an HTML page, as from a load balancer
        assertThat(e.retryAfter()).get().satisfies(t -> assertThat(t)
                .isBetween(before.plusSeconds(6), Instant.now().plusSeconds(8)));
        // Pebble only saw the proxy's nonce fetch for the injected answer.
        assertThat(pebbleLogSince(mark)).containsExactly("HEAD /nonce-plz");

        // The retry uses the injected Replay-Nonce: accepted at once, no badNonce, no HEAD newNonce.
        Order order = account.newOrder(uniqueOrder());
        assertThat(order.status()).isEqualTo(Status.PENDING);
        assertThat(proxy.count("POST", FaultProxy.NEW_ORDER)).isEqualTo(2);
        assertThat(proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isEqualTo(1);
        assertThat(proxy.count("HEAD", FaultProxy.NEW_NONCE)).isZero();
        assertThat(proxy.seen("POST", FaultProxy.NEW_ORDER)).extracting(FaultProxy.Seen::action)
                .containsExactly(Action.RESPONDED, Action.PASSED);
        assertThat(rule.hits()).isEqualTo(1);
        assertThat(rule.exhausted()).isTrue();
    }

    @Test
    void problemDocumentsHttpDateRetryAfterAndRateLimits() {
        AccountSession account = account();
        Instant at = Instant.now().plusSeconds(120).truncatedTo(ChronoUnit.SECONDS);
        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1),
                Fault.status(503).retryAfter(at).problem("serverInternal", "the signer is down"));
        proxy.on(Match.post(FaultProxy.NEW_ORDER).nth(2).times(1),
                Fault.status(429).retryAfter(Duration.ofSeconds(3600)).problem("rateLimited", "too many new orders"));

        AcmeServerException e503 = catchThrowableOfType(AcmeServerException.class,
                () -> account.newOrder(uniqueOrder()));
        assertThat(e503.status()).isEqualTo(503);
        assertThat(e503.acmeType()).isEqualTo("serverInternal");
        assertThat(e503.getMessage()).contains("the signer is down");
        assertThat(e503.retryAfter()).contains(at);

        AcmeRateLimitedException e429 = catchThrowableOfType(AcmeRateLimitedException.class,
                () -> account.newOrder(uniqueOrder()));
        assertThat(e429.status()).isEqualTo(429);
        assertThat(e429.retryAfter()).get().satisfies(t -> assertThat(t).isAfter(Instant.now().plusSeconds(3500)));

        assertThat(account.newOrder(uniqueOrder()).status()).isEqualTo(Status.PENDING);
        assertThat(proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isEqualTo(1);

        // On a GET (the directory) a 504 HTML page, without a nonce.
        proxy.on(Match.get(FaultProxy.DIRECTORY).times(1), Fault.status(504));
        AcmeServerException e504 = catchThrowableOfType(AcmeServerException.class,
                () -> client(Duration.ofSeconds(5)).fetchDirectory());
        assertThat(e504.status()).isEqualTo(504);
        assertThat(e504.problem()).isEmpty();
        assertThat(e504.retryAfter()).isEmpty();
    }

    @Test
    void finalize502LeavesTheOrderReadyWhileResetAfterFinalizeLetsPebbleAct() throws Exception {
        AccountSession account = account();

        // 502 on finalize: Pebble never saw it, the order is still ready, finalizing again works.
        Order ready = readyOrder(account);
        assertThat(ready.status()).isEqualTo(Status.READY);
        proxy.on(Match.post(FaultProxy.FINALIZE).times(1), Fault.status(502).retryAfter(Duration.ofSeconds(1)));
        byte[] csr = Csr.create(KeyPairs.generate(), ready.identifiers());
        assertThatThrownBy(() -> account.finalizeOrder(ready, csr))
                .isInstanceOfSatisfying(AcmeServerException.class, e -> assertThat(e.status()).isEqualTo(502));
        assertThat(account.fetchOrder(ready.url()).status()).isEqualTo(Status.READY);
        assertThat(account.finalizeOrder(ready, csr).status()).isIn(Status.PROCESSING, Status.VALID);
        assertThat(proxy.count("POST", FaultProxy.FINALIZE)).isEqualTo(2);
        assertThat(proxy.forwarded("POST", FaultProxy.FINALIZE)).isEqualTo(1);

        // Reset after forwarding: the client sees an I/O error, but Pebble finalized.
        Order ready2 = readyOrder(account);
        proxy.clearRules();
        proxy.on(Match.post(FaultProxy.FINALIZE).times(1), Fault.resetAfterForwarding());
        int mark = pebble.requestCount();
        byte[] csr2 = Csr.create(KeyPairs.generate(), ready2.identifiers());
        AcmeNetworkException e = catchThrowableOfType(AcmeNetworkException.class,
                () -> account.finalizeOrder(ready2, csr2));
        assertThat(e.url()).startsWith(proxy.origin() + FaultProxy.FINALIZE);
        assertThat(e.getCause()).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        assertThat(pebbleLogSince(mark)).anyMatch(l -> l.startsWith("POST " + FaultProxy.FINALIZE));
        assertThat(account.fetchOrder(ready2.url()).status()).isIn(Status.PROCESSING, Status.VALID);
        assertThat(proxy.seen("POST", FaultProxy.FINALIZE)).last().satisfies(s -> {
            assertThat(s.action()).isEqualTo(Action.RESET_AFTER);
            assertThat(s.forwarded()).isTrue();
            assertThat(s.upstreamStatus()).isEqualTo(200);
            assertThat(s.status()).isEqualTo(-1);
        });
    }

    // ------------------------------------------------------------------ connection faults

    @Test
    void resetBeforeForwardingNeverReachesPebbleAndCloseAfterForwardingDoes() {
        AccountSession account = account();
        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1), Fault.resetBeforeForwarding());
        proxy.on(Match.post(FaultProxy.NEW_ORDER).nth(2).times(1), Fault.closeAfterForwarding());
        int mark = pebble.requestCount();

        AcmeNetworkException reset = catchThrowableOfType(AcmeNetworkException.class,
                () -> account.newOrder(uniqueOrder()));
        assertThat(reset.getCause()).isInstanceOf(SocketException.class).hasMessageContaining("reset"); // a real RST
        assertThat(pebbleLogSince(mark)).noneMatch(l -> l.startsWith("POST " + FaultProxy.NEW_ORDER));

        // The failed request used up its nonce; the client fetches a fresh one and this time Pebble acts.
        assertThatThrownBy(() -> account.newOrder(uniqueOrder())).isInstanceOf(AcmeNetworkException.class)
                .cause().hasMessageContaining("unexpected end of stream");
        assertThat(pebbleLogSince(mark)).filteredOn(l -> l.startsWith("POST " + FaultProxy.NEW_ORDER)).hasSize(1);

        assertThat(account.newOrder(uniqueOrder()).status()).isEqualTo(Status.PENDING);
        assertThat(proxy.seen("POST", FaultProxy.NEW_ORDER)).extracting(FaultProxy.Seen::action)
                .containsExactly(Action.RESET_BEFORE, Action.CLOSED_AFTER, Action.PASSED);
        assertThat(proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isEqualTo(2);
    }

    @Test
    void delayBeyondTheReadTimeoutTimesOutAfterPebbleActed() {
        AcmeClient slowClient = client(Duration.ofMillis(500));
        AccountSession account = slowClient.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms());

        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1), Fault.delay(Duration.ofMillis(1500)));
        long t0 = System.nanoTime();
        AcmeNetworkException e = catchThrowableOfType(AcmeNetworkException.class,
                () -> account.newOrder(uniqueOrder()));
        assertThat(e.getCause()).isInstanceOf(InterruptedIOException.class); // SocketTimeoutException
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1400));
        assertThat(proxy.seen("POST", FaultProxy.NEW_ORDER)).singleElement().satisfies(s -> {
            assertThat(s.action()).isEqualTo(Action.DELAYED);
            assertThat(s.forwarded()).isTrue();
            assertThat(s.upstreamStatus()).isEqualTo(201);
        });

        // A delay within the timeout is only slow; a delay then drop is an I/O error.
        proxy.clearRules();
        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1), Fault.delay(Duration.ofMillis(300)));
        long t1 = System.nanoTime();
        assertThat(account.newOrder(uniqueOrder()).status()).isEqualTo(Status.PENDING);
        assertThat(Duration.ofNanos(System.nanoTime() - t1)).isGreaterThanOrEqualTo(Duration.ofMillis(300));

        // A rule counts from its installation: the next newOrder is its first.
        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1), Fault.delay(Duration.ofMillis(100)).thenDrop());
        assertThatThrownBy(() -> account.newOrder(uniqueOrder())).isInstanceOf(AcmeNetworkException.class)
                .cause().isInstanceOf(SocketException.class);
        assertThat(proxy.count(Action.DELAYED_THEN_RESET)).isEqualTo(1);
        assertThat(proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isEqualTo(3);
    }

    // ------------------------------------------------------------------ body faults

    @Test
    void malformedJsonIsAProtocolErrorAfterPebbleActed() {
        AccountSession account = account();
        proxy.on(Match.post(FaultProxy.NEW_ORDER).times(1), Fault.malformedJson());
        assertThatThrownBy(() -> account.newOrder(uniqueOrder())).isInstanceOf(AcmeProtocolException.class);
        assertThat(proxy.seen("POST", FaultProxy.NEW_ORDER)).singleElement().satisfies(s -> {
            assertThat(s.action()).isEqualTo(Action.MALFORMED_JSON);
            assertThat(s.forwarded()).isTrue();
            assertThat(s.status()).isEqualTo(201);
        });

        proxy.on(Match.get(FaultProxy.DIRECTORY), Fault.malformedJson("<html>not json"));
        assertThatThrownBy(() -> client(Duration.ofSeconds(5)).fetchDirectory())
                .isInstanceOf(AcmeProtocolException.class);
    }

    @Test
    void holdProcessingReportsAValidOrderAsProcessingForTheNextPolls() throws Exception {
        AccountSession account = account();
        Rule hold = proxy.holdProcessing(2, null);
        List<String> log = new ArrayList<>();
        TestIssuance.Result r = TestIssuance.issue(account, uniqueOrder(), TestIssuance.http01(responder), null,
                log::add);
        assertThat(r.order().status()).isEqualTo(Status.VALID);
        assertThat(hold.hits()).isEqualTo(2);
        assertThat(hold.exhausted()).isTrue();
        assertThat(proxy.count(Action.HELD_PROCESSING)).isEqualTo(2);
        assertThat(log.stream().filter(l -> l.equals("poll order -> PROCESSING")).count()).isGreaterThanOrEqualTo(2);

        // Held with Retry-After: processing, no certificate, then the truth.
        proxy.holdProcessing(1, Duration.ofSeconds(5));
        Order held = account.fetchOrder(r.order().url());
        assertThat(held.status()).isEqualTo(Status.PROCESSING);
        assertThat(held.certificateUrl()).isNull();
        assertThat(held.retryAfter()).isNotNull().isAfter(Instant.now().plusSeconds(3));
        Order real = account.fetchOrder(r.order().url());
        assertThat(real.status()).isEqualTo(Status.VALID);
        assertThat(real.certificateUrl()).isEqualTo(r.order().certificateUrl());
    }

    // ------------------------------------------------------------------ badNonce

    @Test
    void badNonceStormOfThreeIsAbsorbedButTwentyExceedsTheRetryBound() {
        AccountSession account = account();
        Rule storm = proxy.badNonceStorm(3);
        int mark = pebble.requestCount();
        assertThat(account.newOrder(uniqueOrder()).status()).isEqualTo(Status.PENDING);
        assertThat(storm.hits()).isEqualTo(3);
        assertThat(proxy.count(Action.BAD_NONCE)).isEqualTo(3);
        assertThat(proxy.count("POST", FaultProxy.NEW_ORDER)).isEqualTo(4);
        assertThat(proxy.forwarded("POST", FaultProxy.NEW_ORDER)).isEqualTo(1);
        // Every injected nonce came from Pebble and the last one was accepted.
        assertThat(pebbleLogSince(mark)).containsExactly("HEAD /nonce-plz", "HEAD /nonce-plz", "HEAD /nonce-plz",
                "POST /order-plz");

        proxy.clearSeen();
        Rule bigStorm = proxy.badNonceStorm(20);
        AcmeBadNonceException e = catchThrowableOfType(AcmeBadNonceException.class,
                () -> account.newOrder(uniqueOrder()));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.acmeType()).isEqualTo("badNonce");
        assertThat(bigStorm.hits()).isEqualTo(11); // 1 attempt + maxBadNonceRetries (10)
        assertThat(proxy.forwarded(null, null)).isZero();
        bigStorm.remove();
        assertThat(account.newOrder(uniqueOrder()).status()).isEqualTo(Status.PENDING);
    }

    // ------------------------------------------------------------------ matching, lifecycle

    @Test
    void occurrenceWindowsCountEveryMatchingRequestPerRule() throws Exception {
        Rule r503 = proxy.on(Match.get(FaultProxy.DIRECTORY).nth(2).times(2), Fault.status(503));
        Rule shield = proxy.on(Match.get(FaultProxy.DIRECTORY).nth(3).times(1), Fault.passThrough());
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            codes.add(rawGet(FaultProxy.DIRECTORY));
        }
        // 3rd request: both rules are in their window, the first installed decides.
        assertThat(codes).containsExactly(200, 503, 503, 200, 200);
        assertThat(r503.matched()).isEqualTo(5);
        assertThat(r503.hits()).isEqualTo(2);
        assertThat(shield.hits()).isZero();
        assertThat(r503.exhausted()).isTrue();

        // Rules can change while running; unlimited rules apply every time.
        Rule always = proxy.on(Match.method("GET"), Fault.status(500));
        assertThat(rawGet(FaultProxy.DIRECTORY)).isEqualTo(500);
        assertThat(rawGet("/nonce-plz")).isEqualTo(500);
        always.remove();
        assertThat(rawGet(FaultProxy.DIRECTORY)).isEqualTo(200);
        assertThat(proxy.rules()).containsExactly(r503, shield);
        assertThat(proxy.count("GET", FaultProxy.DIRECTORY)).isEqualTo(7);
    }

    @Test
    void closeStopsListening() throws Exception {
        int port = proxy.port();
        assertThat(rawGet(FaultProxy.DIRECTORY)).isEqualTo(200);
        proxy.close();
        assertThat(proxy.isClosed()).isTrue();
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(IOException.class);
        assertThat(Thread.getAllStackTraces().keySet()).filteredOn(t -> t.getName().startsWith("fault-proxy-" + port))
                .allMatch(t -> t.isDaemon());
    }
}
