package dev.anvil.acme.renewal;

import java.time.Duration;
import java.time.Instant;

/** What a {@link RenewalListener} hears about each managed certificate. */
public sealed interface RenewalEvent {

    String id();

    /** The next renewal is planned for {@code at}; {@code reason} says how it was chosen (ARI window, 2/3 of lifetime). */
    record Scheduled(String id, Instant at, String reason) implements RenewalEvent {
    }

    /** A renewal (or first issuance) starts now. */
    record Started(String id, String reason) implements RenewalEvent {
    }

    /** A new certificate was issued and handed to the application. */
    record Succeeded(String id, String serial, Instant notAfter, String ca) implements RenewalEvent {
    }

    /** A renewal failed; the next attempt is at {@code nextAttempt}. */
    record Failed(String id, String error, int consecutiveFailures, Instant nextAttempt) implements RenewalEvent {
    }

    /**
     * The current certificate expires within {@code threshold} and its renewal has failed, with no
     * success since: a human should look. Raised once per threshold and certificate; a healthy
     * short-lived certificate raises none.
     */
    record ExpiringSoon(String id, Instant notAfter, Duration threshold, String lastError) implements RenewalEvent {
    }
}
