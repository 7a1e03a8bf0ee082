package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DnsMadeEasyProviderTest {

    static final String KEY = "1c1a3c91-4770-4ce7-96f4-54c0eb0e457a";
    static final String SECRET = "c9b5625f-9834-4ff8-baba-4ed5f32cae55";
    static final String NAME = "_acme-challenge.example.com";

    FakeDnsMadeEasy dme;
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        dme = new FakeDnsMadeEasy(KEY, SECRET);
        dme.addZone("example.com");
    }

    @AfterEach
    void stop() {
        dme.close();
    }

    DnsMadeEasyProvider.Builder builder() {
        return DnsMadeEasyProvider.builder(KEY, SECRET).baseUrl(dme.baseUrl()).sleeper(sleeps::add);
    }

    List<String> targets() {
        return dme.log.stream().map(l -> l.substring(0, l.indexOf(" -> "))).toList();
    }

    @Test
    void requestDateIsRfc1123WithZeroPaddedDayInGmt() {
        assertThat(DnsMadeEasyProvider.REQUEST_DATE.format(Instant.parse("2026-11-03T09:05:07Z")))
                .isEqualTo("Tue, 03 Nov 2026 09:05:07 GMT");
        assertThat(DnsMadeEasyProvider.REQUEST_DATE.format(Instant.parse("2026-11-24T10:00:00Z")))
                .isEqualTo("Tue, 24 Nov 2026 10:00:00 GMT");
    }

    @Test
    void addsListsAndRemovesOnlyTheMatchingValue() {
        dme.addRecord("example.com", "_acme-challenge", "\"left-by-another-tool\"");
        dme.addRecord("example.com", "other", "\"unrelated\"");
        DnsMadeEasyProvider p = builder().build();

        String zone = p.findZone(NAME);
        assertThat(zone).isEqualTo("example.com");
        p.addTxt(zone, NAME, "apex-value", Duration.ofSeconds(60));
        p.addTxt(zone, NAME, "wildcard-value", Duration.ofSeconds(60));

        assertThat(dme.values("example.com", "_acme-challenge"))
                .containsExactly("left-by-another-tool", "apex-value", "wildcard-value");
        // stored and returned quoted, as DNS Made Easy does
        assertThat(dme.records("example.com", "_acme-challenge")).extracting(FakeDnsMadeEasy.Rec::value)
                .containsExactly("\"left-by-another-tool\"", "\"apex-value\"", "\"wildcard-value\"");
        JsonNode post = dme.posted.get(0);
        assertThat(post.path("name").asText()).isEqualTo("_acme-challenge");
        assertThat(post.path("type").asText()).isEqualTo("TXT");
        assertThat(post.path("value").asText()).isEqualTo("\"apex-value\"");
        assertThat(post.path("ttl").asInt()).isEqualTo(60);
        assertThat(post.path("gtdLocation").asText()).isEqualTo("DEFAULT");

        // idempotent: the value is listed (quoted) and recognised, no second POST
        p.addTxt(zone, NAME, "apex-value", Duration.ofSeconds(60));
        assertThat(dme.posted).hasSize(2);

        p.removeTxt(zone, NAME, "apex-value");
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("left-by-another-tool", "wildcard-value");
        assertThat(dme.values("example.com", "other")).containsExactly("unrelated");
        assertThat(targets()).filteredOn(t -> t.startsWith("DELETE")).hasSize(1);

        p.removeTxt(zone, NAME, "never-added"); // absent: no error, nothing deleted
        p.removeTxt(zone, NAME, "wildcard-value");
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("left-by-another-tool");
        assertThat(targets()).filteredOn(t -> t.startsWith("DELETE")).hasSize(2);
        assertThat(dme.dateRejections.get() + dme.hmacRejections.get()).isZero();
        assertThat(sleeps).isEmpty(); // plenty of requests left: no pacing
        assertThat(p.requestsRemaining()).isEqualTo(150 - dme.requestCount());
    }

    @Test
    void valuesWrittenBareByOtherToolsAreMatchedToo() {
        dme.addRecord("example.com", "_acme-challenge", "bare-value");
        DnsMadeEasyProvider p = builder().build();
        p.addTxt("example.com", NAME, "bare-value", null); // recognised: no duplicate
        assertThat(dme.posted).isEmpty();
        p.removeTxt("example.com", NAME, "bare-value");
        assertThat(dme.values("example.com", "_acme-challenge")).isEmpty();
    }

    @Test
    void concurrentCallersShareOneProvider() throws Exception {
        DnsMadeEasyProvider p = builder().build();
        int n = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String value = "value-" + i;
                String name = i % 2 == 0 ? NAME : "_acme-challenge.www.example.com";
                futures.add(pool.submit(() -> p.addTxt(p.findZone(name), name, value, null)));
            }
            for (java.util.concurrent.Future<?> f : futures) {
                f.get(20, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(dme.values("example.com", "_acme-challenge"))
                .containsExactlyInAnyOrder("value-0", "value-2", "value-4", "value-6");
        assertThat(dme.values("example.com", "_acme-challenge.www"))
                .containsExactlyInAnyOrder("value-1", "value-3", "value-5", "value-7");
    }

    @Test
    void walksUpTheLabelsToFindTheZoneAndCachesIt() {
        dme.addZone("sub.example.com");
        DnsMadeEasyProvider p = builder().build();

        assertThat(p.findZone("_acme-challenge.www.example.com.")).isEqualTo("example.com");
        assertThat(targets()).containsExactly(
                "GET /V2.0/dns/managed/name?domainname=_acme-challenge.www.example.com",
                "GET /V2.0/dns/managed/name?domainname=www.example.com",
                "GET /V2.0/dns/managed/name?domainname=example.com");
        assertThat(p.findZone("_acme-challenge.WWW.example.com")).isEqualTo("example.com");
        assertThat(dme.requestCount()).isEqualTo(3); // cached
        assertThat(p.findZone("_acme-challenge.a.sub.example.com")).isEqualTo("sub.example.com");

        // records go to the cached zone id without another lookup
        int before = dme.requestCount();
        p.addTxt("sub.example.com", "_acme-challenge.a.sub.example.com", "v", Duration.ofMinutes(2));
        assertThat(targets().subList(before, targets().size())).noneMatch(t -> t.contains("domainname"));
        assertThat(dme.values("sub.example.com", "_acme-challenge.a")).containsExactly("v");
    }

    @Test
    void unknownZoneNamesTheNameSearched() {
        DnsMadeEasyProvider p = builder().build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.findZone("_acme-challenge.www.nothere.org"));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("no managed zone holds _acme-challenge.www.nothere.org")
                .contains("www.nothere.org, nothere.org");
        assertThat(targets()).hasSize(3).noneMatch(t -> t.endsWith("=org"));
    }

    @Test
    void wrongSecretSaysWrongKeyOrSecret() {
        DnsMadeEasyProvider p = DnsMadeEasyProvider.builder(KEY, "not-the-secret-0000").baseUrl(dme.baseUrl()).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("403").contains("Unable to verify HMAC")
                .contains("wrong API key or secret (check for stray spaces)")
                .doesNotContain("not-the-secret-0000").doesNotContain(KEY);
        assertThat(dme.requestCount()).isEqualTo(1); // clock in sync: no re-sign
    }

    @Test
    void wrongKeySaysWrongKeyOrSecret() {
        DnsMadeEasyProvider p = DnsMadeEasyProvider.builder("00000000-aaaa-bbbb-cccc-000000000000", SECRET)
                .baseUrl(dme.baseUrl()).build();
        assertThatThrownBy(() -> p.findZone(NAME)).isInstanceOf(DnsProviderException.class)
                .hasMessageContaining("wrong API key or secret (check for stray spaces)");
    }

    @Test
    void strayWhitespaceAroundKeyAndSecretIsTrimmed() {
        DnsMadeEasyProvider p = DnsMadeEasyProvider.builder(KEY + " ", "\u00a0" + SECRET + "\r\n")
                .baseUrl(dme.baseUrl()).build();
        p.addTxt(p.findZone(NAME), NAME, "v1", Duration.ofSeconds(60));
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("v1");
        assertThat(dme.hmacRejections.get()).isZero();
    }

    @Test
    void whitespaceInsideACredentialIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> DnsMadeEasyProvider.builder("1c1a3c91 4770", SECRET))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("API key")
                .hasMessageNotContaining("1c1a3c91");
        assertThatThrownBy(() -> DnsMadeEasyProvider.builder(KEY, "  "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("secret key is empty");
    }

    @Test
    void localClock90SecondsBehindIsCorrectedByOneReSign() {
        DnsMadeEasyProvider p = builder().clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-90))).build();

        String zone = p.findZone(NAME);
        p.addTxt(zone, NAME, "skewed", Duration.ofSeconds(60));
        p.removeTxt(zone, NAME, "skewed");
        p.addTxt(zone, NAME, "skewed-2", Duration.ofSeconds(60));

        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("skewed-2");
        // the very first request was refused, re-signed with the Date-corrected time, accepted;
        // every later request was dated right from the start
        assertThat(dme.dateRejections.get()).isEqualTo(1);
        assertThat(dme.log.get(0)).endsWith("-> 400");
        assertThat(dme.log.get(1)).isEqualTo(dme.log.get(0).replace("-> 400", "-> 404"));
        assertThat(dme.log.subList(1, dme.log.size())).noneMatch(l -> l.endsWith("-> 400") || l.endsWith("-> 403"));
        assertThat(p.clockOffset().toSeconds()).isBetween(89L, 91L);
    }

    @Test
    void localClock90SecondsAheadIsCorrectedToo() {
        DnsMadeEasyProvider p = builder().clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(90))).build();
        p.addTxt(p.findZone(NAME), NAME, "ahead", Duration.ofSeconds(60));
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("ahead");
        assertThat(dme.dateRejections.get()).isEqualTo(1);
        assertThat(p.clockOffset().toSeconds()).isBetween(-91L, -89L);
    }

    @Test
    void offsetIsLearnedFromEveryResponseNotOnlyFromRejections() {
        Instant realNow = Instant.now();
        MutableTestClock local = new MutableTestClock(realNow.minusSeconds(20)); // 20 s behind: accepted
        DnsMadeEasyProvider p = builder().clock(local).build();
        String zone = p.findZone(NAME);
        assertThat(p.clockOffset().toSeconds()).isBetween(19L, 21L);

        // the local clock slips another 25 s: 45 s behind, but the learned offset keeps requests within 30 s
        local.advance(Duration.ofSeconds(-25));
        p.addTxt(zone, NAME, "learned", Duration.ofSeconds(60));
        assertThat(dme.dateRejections.get()).isZero();
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("learned");
    }

    @Test
    void skewReportedAs403UnableToVerifyHmacIsAlsoReSignedOnce() {
        dme.skewAsHmacFailure = true; // what the field report saw
        DnsMadeEasyProvider p = builder().clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-90))).build();
        p.addTxt(p.findZone(NAME), NAME, "v", Duration.ofSeconds(60));
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("v");
        assertThat(dme.hmacRejections.get()).isEqualTo(1);
    }

    @Test
    void persistentSkewIsReportedWithTheDifferenceAfterOneReSign() {
        DnsMadeEasyProvider p = builder().build();
        String zone = p.findZone(NAME); // clocks agree: accepted
        dme.dateHeaderError = Duration.ofSeconds(200); // a proxy now rewrites Date: correcting from it cannot help
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt(zone, NAME, "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).containsPattern("clock skew: local clock differs from DNS Made Easy by (199|200|201) s")
                .contains("too far out of sync").contains("re-signed once");
        assertThat(dme.dateRejections.get()).isEqualTo(2); // the request and exactly one re-sign
        assertThat(dme.posted).isEmpty();
    }

    @Test
    void skewWithoutADateHeaderCannotBeCorrectedAndSaysSo() {
        dme.sendDateHeader = false;
        DnsMadeEasyProvider p = builder().clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-90))).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("clock skew").contains("no Date header").contains("NTP");
        assertThat(dme.requestCount()).isEqualTo(1);
    }

    @Test
    void fewRequestsLeftSpacesRequestsOut() {
        MutableTestClock clock = new MutableTestClock(Instant.parse("2026-11-24T10:00:00Z"));
        dme.clock = clock;
        DnsMadeEasyProvider p = builder().clock(clock).sleeper(d -> {
            sleeps.add(d);
            clock.advance(d);
        }).build();
        dme.consume(144); // 6 left

        String zone = p.findZone(NAME); // 2 requests: _acme-challenge.example.com (404), example.com
        p.addTxt(zone, NAME, "v", Duration.ofSeconds(60)); // 2 requests: list, create
        // 150 per 5 min is one per 2 s; below 10 remaining the spacing is 2 s x (10 - remaining)
        assertThat(sleeps).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(12), Duration.ofSeconds(14));
        assertThat(p.requestsRemaining()).isEqualTo(2);

        // time that has already passed since the last request counts: the list goes at once
        clock.advance(Duration.ofSeconds(30));
        p.removeTxt(zone, NAME, "v"); // list (2 left: 16 s < 30 s passed), delete (1 left: 18 s)
        assertThat(sleeps).hasSize(4).last().isEqualTo(Duration.ofSeconds(18));
        assertThat(dme.values("example.com", "_acme-challenge")).isEmpty();
        assertThat(dme.rateLimited.get()).isZero();
    }

    @Test
    void exhaustedRateLimitIsRetryableWithAHintAndNeverAHotLoop() {
        MutableTestClock clock = new MutableTestClock(Instant.parse("2026-11-24T10:00:00Z"));
        dme.clock = clock;
        DnsMadeEasyProvider p = builder().clock(clock).sleeper(d -> {
            sleeps.add(d);
            clock.advance(d);
        }).build();
        dme.consume(150);

        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isTrue();
        assertThat(e.retryAfter()).contains(Instant.parse("2026-11-24T10:00:30Z"));
        assertThat(e.getMessage()).contains("rate limit exhausted").contains("150 requests per rolling 5 minutes");
        assertThat(dme.requestCount()).isEqualTo(1);

        // an immediate second try waits (capped at 20 s) before asking again, then fails the same way
        assertThatThrownBy(() -> p.findZone(NAME)).isInstanceOf(DnsProviderException.class);
        assertThat(sleeps).containsExactly(Duration.ofSeconds(20));
        assertThat(dme.requestCount()).isEqualTo(2);

        clock.advance(Duration.ofMinutes(5)); // the window rolls on
        assertThat(p.findZone(NAME)).isEqualTo("example.com");
    }

    @Test
    void serverErrorsAreRetryable() {
        DnsMadeEasyProvider p = builder().build();
        dme.failNext(500);
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("HTTP 500");
        String zone = p.findZone(NAME);

        dme.failNext(503);
        DnsProviderException e2 = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt(zone, NAME, "v", Duration.ofSeconds(60)));
        assertThat(e2.retryable()).isTrue();
        p.addTxt(zone, NAME, "v", Duration.ofSeconds(60));
        assertThat(dme.values("example.com", "_acme-challenge")).containsExactly("v");
    }

    @Test
    void transportFailureIsRetryable() {
        DnsMadeEasyProvider p = DnsMadeEasyProvider.builder(KEY, SECRET).baseUrl(dme.baseUrl()).build();
        dme.close();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("failed");
    }

    @Test
    void credentialsNeverAppearInToStringOrAnyErrorMessage() {
        dme.echoKeyInErrors = true; // even when the server echoes the key back
        List<Throwable> errors = new ArrayList<>();
        DnsMadeEasyProvider wrong = DnsMadeEasyProvider.builder(KEY, "wrong-secret-123456").baseUrl(dme.baseUrl()).build();
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> wrong.findZone(NAME)));

        DnsMadeEasyProvider p = builder().build();
        String zone = p.findZone(NAME);
        dme.failNext(502);
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.addTxt(zone, NAME, "v", null)));
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.findZone("x.nothere.org")));
        dme.dateHeaderError = Duration.ofSeconds(120);
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.addTxt(zone, NAME, "v", null)));
        dme.dateHeaderError = Duration.ZERO;
        p.addTxt(zone, NAME, "ok", null); // re-learns the offset
        dme.consume(1000);
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.removeTxt(zone, NAME, "ok")));

        assertThat(errors).doesNotContainNull().hasSize(5);
        assertThat(errors.get(0).getMessage()).contains("[redacted]");
        for (Throwable t : errors) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                assertThat(String.valueOf(c.getMessage()) + c).doesNotContain(KEY).doesNotContain(SECRET)
                        .doesNotContain("wrong-secret-123456");
            }
        }
        assertThat(p.toString()).doesNotContain(KEY).doesNotContain(SECRET).contains(dme.baseUrl());
        assertThat(builder().toString()).doesNotContain(KEY).doesNotContain(SECRET);
    }
}
