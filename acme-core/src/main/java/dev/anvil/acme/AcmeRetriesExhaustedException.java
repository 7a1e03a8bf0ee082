package dev.anvil.acme;

import java.time.Instant;
import java.util.Optional;

/** A step kept failing with retryable errors (transport, 5xx, 429) until the backoff gave up. */
public class AcmeRetriesExhaustedException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final int attempts;
    private final String step;

    public AcmeRetriesExhaustedException(String step, int attempts, AcmeException last) {
        super(step + " failed " + attempts + " times; giving up: " + last.getMessage(), last);
        this.attempts = attempts;
        this.step = step;
    }

    public int attempts() {
        return attempts;
    }

    public String step() {
        return step;
    }

    @Override
    public Optional<Instant> retryAfter() {
        return ((AcmeException) getCause()).retryAfter();
    }
}
