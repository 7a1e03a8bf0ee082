package dev.anvil.acme.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DefaultBackoffTest {

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static Attempt attempt(int number, Cause cause, Duration retryAfter) {
        return new Attempt(number, Duration.ofSeconds(number), cause, retryAfter == null ? null : NOW.plus(retryAfter),
                NOW, cause.isPolling() ? null : new IOException("test"));
    }

    private static Duration delay(Backoff backoff, int number, Cause cause, Duration retryAfter) {
        Optional<Duration> d = backoff.next(attempt(number, cause, retryAfter));
        assertThat(d).as("attempt %d of %s", number, cause).isPresent();
        return d.get();
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private static Duration s(long seconds) {
        return Duration.ofSeconds(seconds);
    }

    // ---- errors ----

    @Test
    void errorDelaysDoubleFromInitialWithoutJitter() {
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(s(1), s(30)).jitter(0, () -> 0.5).build();
        List<Duration> delays = new ArrayList<>();
        for (int n = 1; n <= 6; n++) {
            delays.add(delay(b, n, Cause.SERVER_ERROR, null));
        }
        assertThat(delays).containsExactly(s(1), s(2), s(4), s(8), s(16), s(30));
    }

    @Test
    void jitterRemovesAFractionTakenFromTheSupplier() {
        // jitter 0.5 and a supplier returning 0.5: a quarter of the delay is removed.
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(s(1), s(30)).jitter(0.5, () -> 0.5).build();
        assertThat(delay(b, 1, Cause.TRANSPORT, null)).isEqualTo(ms(750));
        assertThat(delay(b, 3, Cause.TRANSPORT, null)).isEqualTo(ms(3000));

        // supplier 0: nothing removed; supplier close to 1: up to the whole fraction removed.
        DefaultBackoff none = DefaultBackoff.builder().errorDelays(s(1), s(30)).jitter(0.2, () -> 0.0).build();
        assertThat(delay(none, 2, Cause.MALFORMED, null)).isEqualTo(s(2));
        DefaultBackoff most = DefaultBackoff.builder().errorDelays(s(1), s(30)).jitter(0.2, () -> 0.999).build();
        assertThat(delay(most, 2, Cause.MALFORMED, null)).isBetween(ms(1600), ms(1601));
    }

    @Test
    void jitterIsAppliedAfterTheCap() {
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(s(1), s(10)).maxErrorRetries(100)
                .jitter(0.5, () -> 1.0).build();
        assertThat(delay(b, 20, Cause.SERVER_ERROR, null)).isEqualTo(s(5));
    }

    @Test
    void errorDelaysAreCappedEvenForHugeAttemptNumbers() {
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(ms(100), s(3)).maxErrorRetries(1000)
                .jitter(0, () -> 0).build();
        assertThat(delay(b, 5, Cause.SERVER_ERROR, null)).isEqualTo(ms(1600));
        assertThat(delay(b, 6, Cause.SERVER_ERROR, null)).isEqualTo(s(3));
        assertThat(delay(b, 999, Cause.SERVER_ERROR, null)).isEqualTo(s(3));
    }

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"TRANSPORT", "SERVER_ERROR", "MALFORMED"})
    void errorsGiveUpAfterMaxErrorRetries(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().maxErrorRetries(3).jitter(0, () -> 0).build();
        assertThat(b.next(attempt(1, cause, null))).isPresent();
        assertThat(b.next(attempt(3, cause, null))).isPresent();
        assertThat(b.next(attempt(4, cause, null))).isEmpty();
        assertThat(b.next(attempt(100, cause, null))).isEmpty();
    }

    @Test
    void zeroErrorRetriesGivesUpAtOnce() {
        DefaultBackoff b = DefaultBackoff.builder().maxErrorRetries(0).build();
        assertThat(b.next(attempt(1, Cause.TRANSPORT, null))).isEmpty();
    }

    @Test
    void retryAfterOnAServerErrorIsHonouredWhenLongerThanTheSchedule() {
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(s(1), s(30)).retryAfterRange(s(1), s(60))
                .jitter(0, () -> 0).build();
        assertThat(delay(b, 1, Cause.SERVER_ERROR, s(20))).isEqualTo(s(20));
        // shorter than the schedule: the schedule wins
        assertThat(delay(b, 4, Cause.SERVER_ERROR, s(2))).isEqualTo(s(8));
        // longer than the range: clamped
        assertThat(delay(b, 1, Cause.SERVER_ERROR, s(86400))).isEqualTo(s(60));
    }

    @Test
    void defaultsAreSane() {
        DefaultBackoff b = DefaultBackoff.defaults();
        assertThat(delay(b, 1, Cause.TRANSPORT, null)).isBetween(ms(800), s(1));
        assertThat(b.next(attempt(7, Cause.TRANSPORT, null))).isEmpty();
        assertThat(delay(b, 1, Cause.PROCESSING, null)).isLessThan(s(1));
        assertThat(delay(b, 1000, Cause.PROCESSING, null)).isEqualTo(s(10));
        assertThat(delay(b, 1, Cause.PENDING, s(86400))).isEqualTo(s(60));
        assertThat(delay(b, 1, Cause.RATE_LIMITED, s(86400))).isEqualTo(Duration.ofMinutes(10));
        assertThat(b.next(attempt(11, Cause.RATE_LIMITED, s(1)))).isEmpty();
        assertThat(b.toString()).contains("DefaultBackoff");
    }

    // ---- 429 and 503 ----

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"RATE_LIMITED", "UNAVAILABLE"})
    void rateLimitsHonourRetryAfterClampedToTheRange(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().retryAfterRange(s(2), s(120)).jitter(0, () -> 0).build();
        assertThat(delay(b, 1, cause, s(30))).isEqualTo(s(30));
        assertThat(delay(b, 1, cause, s(1))).isEqualTo(s(2));
        assertThat(delay(b, 1, cause, Duration.ZERO)).isEqualTo(s(2));
        assertThat(delay(b, 1, cause, s(86400))).isEqualTo(s(120));
        // a Retry-After in the past counts as "now", then clamped up
        Attempt past = new Attempt(1, Duration.ZERO, cause, NOW.minusSeconds(30), NOW, new IOException("x"));
        assertThat(b.next(past)).contains(s(2));
    }

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"RATE_LIMITED", "UNAVAILABLE"})
    void rateLimitsWithoutRetryAfterUseTheErrorSchedule(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(ms(500), s(4)).jitter(0, () -> 0).build();
        assertThat(delay(b, 1, cause, null)).isEqualTo(ms(500));
        assertThat(delay(b, 2, cause, null)).isEqualTo(s(1));
        assertThat(delay(b, 10, cause, null)).isEqualTo(s(4));
    }

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"RATE_LIMITED", "UNAVAILABLE"})
    void rateLimitsGiveUpAfterMaxRateLimitRetriesNotMaxErrorRetries(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().maxErrorRetries(1).maxRateLimitRetries(4).build();
        assertThat(b.next(attempt(2, cause, s(1)))).isPresent();
        assertThat(b.next(attempt(4, cause, s(1)))).isPresent();
        assertThat(b.next(attempt(5, cause, s(1)))).isEmpty();
        // and the error limit is independent
        assertThat(b.next(attempt(2, Cause.SERVER_ERROR, null))).isEmpty();
    }

    // ---- polling ----

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"PENDING", "PROCESSING"})
    void pollingStartsSubSecondGrowsAndCaps(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().polling(ms(250), s(10), s(60)).build();
        List<Duration> delays = new ArrayList<>();
        for (int n = 1; n <= 30; n++) {
            delays.add(delay(b, n, cause, null));
        }
        assertThat(delays.get(0)).isEqualTo(ms(250)).isLessThan(s(1));
        assertThat(delays.get(1)).isEqualTo(ms(375));
        assertThat(delays.get(2)).isGreaterThan(delays.get(1));
        for (int i = 1; i < delays.size(); i++) {
            assertThat(delays.get(i)).as("poll %d", i + 1).isGreaterThanOrEqualTo(delays.get(i - 1));
        }
        assertThat(delays).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(s(10)));
        assertThat(delays.get(29)).isEqualTo(s(10));
    }

    @Test
    void pollingIsNotJittered() {
        DefaultBackoff b = DefaultBackoff.builder().polling(ms(100), s(1), s(5)).jitter(1.0, () -> 1.0).build();
        assertThat(delay(b, 1, Cause.PROCESSING, null)).isEqualTo(ms(100));
    }

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"PENDING", "PROCESSING"})
    void pollingNeverGivesUpByCount(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().maxErrorRetries(0).maxRateLimitRetries(0).build();
        assertThat(b.next(attempt(1, cause, null))).isPresent();
        assertThat(b.next(attempt(10_000, cause, null))).isPresent();
        assertThat(b.next(attempt(Integer.MAX_VALUE, cause, null))).isPresent();
        assertThat(b.next(attempt(Integer.MAX_VALUE, cause, s(5)))).isPresent();
    }

    @ParameterizedTest
    @EnumSource(value = Cause.class, names = {"PENDING", "PROCESSING"})
    void retryAfterWhilePollingIsClampedToPollRetryAfterMax(Cause cause) {
        DefaultBackoff b = DefaultBackoff.builder().polling(ms(250), s(10), s(60)).build();
        assertThat(delay(b, 1, cause, s(86400))).isEqualTo(s(60));
        assertThat(delay(b, 1, cause, s(30))).isEqualTo(s(30)); // honoured: longer than pollMax, within the max
        assertThat(delay(b, 1, cause, Duration.ZERO)).isEqualTo(ms(250)); // at least pollInitial
        assertThat(delay(b, 7, cause, ms(10))).isEqualTo(ms(250));

        DefaultBackoff tight = DefaultBackoff.builder().polling(ms(10), ms(50), ms(200)).build();
        assertThat(delay(tight, 1, cause, s(86400))).isEqualTo(ms(200));
    }

    // ---- builder ----

    @Test
    void builderRejectsNonPositiveDurations() {
        DefaultBackoff.Builder b = DefaultBackoff.builder();
        assertThatThrownBy(() -> b.errorDelays(Duration.ZERO, s(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.errorDelays(s(1), s(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.errorDelays(null, s(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.polling(Duration.ZERO, s(1), s(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.polling(s(1), s(-5), s(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.polling(s(1), s(5), Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.retryAfterRange(s(1), Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.retryAfterRange(null, s(1))).isInstanceOf(NullPointerException.class);
    }

    @Test
    void builderRejectsNegativeRetryCounts() {
        assertThatThrownBy(() -> DefaultBackoff.builder().maxErrorRetries(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().maxRateLimitRetries(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void builderRejectsJitterOutsideZeroToOne() {
        assertThatThrownBy(() -> DefaultBackoff.builder().jitter(-0.1, () -> 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jitter");
        assertThatThrownBy(() -> DefaultBackoff.builder().jitter(1.1, () -> 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().jitter(0.5, null)).isInstanceOf(NullPointerException.class);
        DefaultBackoff.builder().jitter(0, () -> 0).jitter(1, () -> 0).build();
    }

    @Test
    void builderRejectsInvertedRanges() {
        assertThatThrownBy(() -> DefaultBackoff.builder().errorDelays(s(10), s(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().polling(s(10), s(1), s(60)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().polling(s(1), s(10), ms(500)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().retryAfterRange(s(60), s(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DefaultBackoff.builder().retryAfterRange(s(-1), s(1)))
                .isInstanceOf(IllegalArgumentException.class);
        // equal bounds are fine
        DefaultBackoff b = DefaultBackoff.builder().errorDelays(s(1), s(1)).polling(s(1), s(1), s(1))
                .retryAfterRange(Duration.ZERO, s(1)).jitter(0, () -> 0).build();
        assertThat(delay(b, 3, Cause.TRANSPORT, null)).isEqualTo(s(1));
    }
}
