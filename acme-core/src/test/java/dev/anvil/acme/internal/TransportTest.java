package dev.anvil.acme.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pure parts of the transport layer: Retry-After parsing and the nonce pool. */
class TransportTest {

    private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    // ---- Retry-After --------------------------------------------------------------------------

    @Test
    void retryAfterDeltaSecondsIsRelativeToTheClock() {
        assertThat(Transport.parseRetryAfter("120", CLOCK)).isEqualTo(NOW.plusSeconds(120));
        assertThat(Transport.parseRetryAfter("0", CLOCK)).isEqualTo(NOW);
        assertThat(Transport.parseRetryAfter(" 30 ", CLOCK)).isEqualTo(NOW.plusSeconds(30));
        Clock later = Clock.offset(CLOCK, java.time.Duration.ofHours(1));
        assertThat(Transport.parseRetryAfter("120", later)).isEqualTo(NOW.plusSeconds(3600 + 120));
    }

    @Test
    void retryAfterHttpDate() {
        assertThat(Transport.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", CLOCK))
                .isEqualTo(Instant.parse("2015-10-21T07:28:00Z"));
        assertThat(Transport.parseRetryAfter("Thu, 02 May 2024 00:00:00 GMT", CLOCK))
                .isEqualTo(Instant.parse("2024-05-02T00:00:00Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t", "garbage", "soon", "-5", "+5", "1.5", "1e3", "12 s",
            "Wed, 21 Oct 2015 07:28:00", "2015-10-21T07:28:00Z", "Wed, 32 Oct 2015 07:28:00 GMT"})
    void unreadableRetryAfterIsNull(String value) {
        assertThat(Transport.parseRetryAfter(value, CLOCK)).isNull();
    }

    @Test
    void absentRetryAfterIsNull() {
        assertThat(Transport.parseRetryAfter(null, CLOCK)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999999999", "9223372036854775807", "31556889864403199",
            "31556889864403200", "9999999999999999"})
    void hugeRetryAfterDoesNotThrow(String value) {
        assertThatCode(() -> Transport.parseRetryAfter(value, CLOCK)).doesNotThrowAnyException();
        Instant parsed = Transport.parseRetryAfter(value, CLOCK);
        if (parsed != null) {
            assertThat(parsed).isAfter(NOW);
        }
    }

    @Test
    void largeButRepresentableRetryAfterIsKept() {
        assertThat(Transport.parseRetryAfter("86400000", CLOCK)).isEqualTo(NOW.plusSeconds(86_400_000L));
    }

    // ---- NoncePool ----------------------------------------------------------------------------

    @Test
    void emptyPoolGivesNull() {
        NoncePool pool = new NoncePool();
        assertThat(pool.poll()).isNull();
        assertThat(pool.size()).isZero();
    }

    @Test
    void newestNonceIsUsedFirst() {
        NoncePool pool = new NoncePool();
        pool.offer("a");
        pool.offer("b");
        pool.offer("c");
        assertThat(pool.size()).isEqualTo(3);
        assertThat(pool.poll()).isEqualTo("c");
        pool.offer("d");
        assertThat(pool.poll()).isEqualTo("d");
        assertThat(pool.poll()).isEqualTo("b");
        assertThat(pool.poll()).isEqualTo("a");
        assertThat(pool.poll()).isNull();
    }

    @Test
    void poolIsBoundedAndDropsTheOldest() {
        NoncePool pool = new NoncePool();
        for (int i = 0; i < 40; i++) {
            pool.offer("n" + i);
        }
        assertThat(pool.size()).isEqualTo(32);
        List<String> out = new ArrayList<>();
        for (String n; (n = pool.poll()) != null; ) {
            out.add(n);
        }
        assertThat(out).hasSize(32).startsWith("n39", "n38").endsWith("n9", "n8").doesNotContain("n7", "n0");
    }

    @Test
    void invalidNoncesAreIgnored() {
        NoncePool pool = new NoncePool();
        pool.offer(null);
        pool.offer("");
        pool.offer("has space");
        pool.offer("padded==");
        pool.offer("plus+sign");
        pool.offer("slash/");
        pool.offer("dot.");
        pool.offer("ünïcode");
        pool.offer("line\nbreak");
        pool.offer("x".repeat(513));
        assertThat(pool.size()).isZero();
        assertThat(pool.poll()).isNull();

        String longest = "A".repeat(512);
        pool.offer(longest);
        pool.offer("oFvnlFP1wIhRlYS2jTaXbA-_09AZ");
        assertThat(pool.poll()).isEqualTo("oFvnlFP1wIhRlYS2jTaXbA-_09AZ");
        assertThat(pool.poll()).isEqualTo(longest);
    }

    @Test
    void concurrentOffersAndPollsNeverHandOutANonceTwice() throws Exception {
        NoncePool pool = new NoncePool();
        int threads = 16;
        int perThread = 2_000;
        ConcurrentLinkedQueue<String> handedOut = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(executor.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        pool.offer("t" + id + "_" + i);
                        if (i % 2 == 0) {
                            String n = pool.poll();
                            if (n != null) {
                                handedOut.add(n);
                            }
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            executor.shutdownNow();
        }
        assertThat(pool.size()).isLessThanOrEqualTo(32);
        for (String n; (n = pool.poll()) != null; ) {
            handedOut.add(n);
        }
        List<String> all = new ArrayList<>(handedOut);
        Set<String> unique = new HashSet<>(all);
        assertThat(unique).hasSameSizeAs(all);
        assertThat(all).allMatch(n -> n.matches("t\\d+_\\d+"));
        assertThat(all.size()).isPositive().isLessThanOrEqualTo(threads * perThread);
    }
}
