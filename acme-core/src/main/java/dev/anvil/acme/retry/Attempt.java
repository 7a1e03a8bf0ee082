package dev.anvil.acme.retry;

import java.time.Duration;
import java.time.Instant;

/**
 * One failed or unfinished try of a step, handed to {@link Backoff#next}.
 *
 * @param number     1 for the first retry, counting per step
 * @param elapsed    time since the step's first try
 * @param cause      what happened
 * @param retryAfter when the server said to come back (Retry-After), or null
 * @param now        the current time, from the engine's clock
 * @param error      the error, or null when polling
 */
public record Attempt(int number, Duration elapsed, Cause cause, Instant retryAfter, Instant now, Throwable error) {

    /** The server's Retry-After as a delay from now, or null when it sent none. */
    public Duration retryAfterDelay() {
        if (retryAfter == null) {
            return null;
        }
        Duration d = Duration.between(now, retryAfter);
        return d.isNegative() ? Duration.ZERO : d;
    }
}
