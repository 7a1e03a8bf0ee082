package dev.anvil.acme.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The default {@link Backoff}:
 * <ul>
 *   <li>errors (transport, 5xx, malformed): exponential from {@code errorInitial}, doubling, capped
 *       at {@code errorMax}, minus up to {@code jitter} of itself; give up after {@code maxErrorRetries};</li>
 *   <li>429 and 503: the server's Retry-After, clamped to {@code retryAfterMin..retryAfterMax}, or the
 *       error schedule when it sent none; give up after {@code maxRateLimitRetries};</li>
 *   <li>polling (pending, processing): from {@code pollInitial}, growing by half each time, capped at
 *       {@code pollMax}; a Retry-After is honoured but clamped to {@code pollInitial..pollRetryAfterMax}
 *       (a CA has sent 86400 s on an authorization that was done in minutes). Polling never gives
 *       up by count: the engine's deadlines end it.</li>
 * </ul>
 * Immutable; build with {@link #builder()}.
 */
public final class DefaultBackoff implements Backoff {

    private final Duration errorInitial;
    private final Duration errorMax;
    private final int maxErrorRetries;
    private final int maxRateLimitRetries;
    private final Duration retryAfterMin;
    private final Duration retryAfterMax;
    private final Duration pollInitial;
    private final Duration pollMax;
    private final Duration pollRetryAfterMax;
    private final double jitter;
    private final DoubleSupplier random;

    private DefaultBackoff(Builder b) {
        this.errorInitial = b.errorInitial;
        this.errorMax = b.errorMax;
        this.maxErrorRetries = b.maxErrorRetries;
        this.maxRateLimitRetries = b.maxRateLimitRetries;
        this.retryAfterMin = b.retryAfterMin;
        this.retryAfterMax = b.retryAfterMax;
        this.pollInitial = b.pollInitial;
        this.pollMax = b.pollMax;
        this.pollRetryAfterMax = b.pollRetryAfterMax;
        this.jitter = b.jitter;
        this.random = b.random;
    }

    public static DefaultBackoff defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Optional<Duration> next(Attempt attempt) {
        Duration retryAfter = attempt.retryAfterDelay();
        switch (attempt.cause()) {
            case PENDING, PROCESSING -> {
                if (retryAfter != null) {
                    return Optional.of(clamp(retryAfter, pollInitial, pollRetryAfterMax));
                }
                double grown = pollInitial.toMillis() * Math.pow(1.5, Math.min(attempt.number() - 1, 40));
                return Optional.of(Duration.ofMillis((long) Math.min(grown, pollMax.toMillis())));
            }
            case RATE_LIMITED, UNAVAILABLE -> {
                if (attempt.number() > maxRateLimitRetries) {
                    return Optional.empty();
                }
                return Optional.of(retryAfter != null ? clamp(retryAfter, retryAfterMin, retryAfterMax)
                        : exponential(attempt.number()));
            }
            default -> {
                if (attempt.number() > maxErrorRetries) {
                    return Optional.empty();
                }
                Duration d = exponential(attempt.number());
                return Optional.of(retryAfter != null ? max(d, clamp(retryAfter, retryAfterMin, retryAfterMax)) : d);
            }
        }
    }

    private Duration exponential(int number) {
        double base = errorInitial.toMillis() * Math.pow(2, Math.min(number - 1, 30));
        double capped = Math.min(base, errorMax.toMillis());
        return Duration.ofMillis((long) (capped * (1 - jitter * random.getAsDouble())));
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @Override
    public String toString() {
        return "DefaultBackoff[errors " + errorInitial + ".." + errorMax + " x" + maxErrorRetries
                + ", rate limits x" + maxRateLimitRetries + " Retry-After " + retryAfterMin + ".." + retryAfterMax
                + ", polls " + pollInitial + ".." + pollMax + " Retry-After<=" + pollRetryAfterMax + "]";
    }

    /** Settings of a {@link DefaultBackoff}. */
    public static final class Builder {
        private Duration errorInitial = Duration.ofSeconds(1);
        private Duration errorMax = Duration.ofSeconds(30);
        private int maxErrorRetries = 6;
        private int maxRateLimitRetries = 10;
        private Duration retryAfterMin = Duration.ofSeconds(1);
        private Duration retryAfterMax = Duration.ofMinutes(10);
        private Duration pollInitial = Duration.ofMillis(250);
        private Duration pollMax = Duration.ofSeconds(10);
        private Duration pollRetryAfterMax = Duration.ofSeconds(60);
        private double jitter = 0.2;
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

        private Builder() {
        }

        /** First and largest delay after an error. Default 1 s and 30 s. */
        public Builder errorDelays(Duration initial, Duration max) {
            ordered(positive(initial), positive(max), "error delays");
            this.errorInitial = initial;
            this.errorMax = max;
            return this;
        }

        /** Retries of one step after transport errors, 5xx or malformed responses. Default 6. */
        public Builder maxErrorRetries(int retries) {
            this.maxErrorRetries = nonNegative(retries);
            return this;
        }

        /** Retries of one step after 429 or 503. Default 10. */
        public Builder maxRateLimitRetries(int retries) {
            this.maxRateLimitRetries = nonNegative(retries);
            return this;
        }

        /** The range a Retry-After on an error is clamped to. Default 1 s to 10 min. */
        public Builder retryAfterRange(Duration min, Duration max) {
            if (Objects.requireNonNull(min).isNegative()) {
                throw new IllegalArgumentException("Retry-After minimum must not be negative: " + min);
            }
            ordered(min, positive(max), "Retry-After range");
            this.retryAfterMin = min;
            this.retryAfterMax = max;
            return this;
        }

        /** First and largest polling interval, and the largest Retry-After honoured while polling. */
        public Builder polling(Duration initial, Duration max, Duration retryAfterMax) {
            ordered(positive(initial), positive(max), "polling intervals");
            ordered(initial, positive(retryAfterMax), "polling Retry-After maximum");
            this.pollInitial = initial;
            this.pollMax = max;
            this.pollRetryAfterMax = retryAfterMax;
            return this;
        }

        /** Fraction (0 to 1) of an error delay removed at random, so clients do not retry in step. Default 0.2. */
        public Builder jitter(double fraction, DoubleSupplier random) {
            if (fraction < 0 || fraction > 1) {
                throw new IllegalArgumentException("jitter must be between 0 and 1");
            }
            this.jitter = fraction;
            this.random = Objects.requireNonNull(random);
            return this;
        }

        public DefaultBackoff build() {
            return new DefaultBackoff(this);
        }

        private static Duration positive(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("duration must be positive: " + d);
            }
            return d;
        }

        private static void ordered(Duration low, Duration high, String what) {
            if (low.compareTo(high) > 0) {
                throw new IllegalArgumentException(what + ": " + low + " exceeds " + high);
            }
        }

        private static int nonNegative(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("must not be negative: " + n);
            }
            return n;
        }
    }
}
