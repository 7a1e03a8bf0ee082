package dev.anvil.acme.retry;

import java.time.Duration;
import java.util.Optional;

/**
 * Decides how long to wait before the next try of a step, or to give up. The engine still
 * stops at its deadlines, whatever the backoff says. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Backoff {

    /** The delay before the next try, or empty to give up on this step. */
    Optional<Duration> next(Attempt attempt);
}
