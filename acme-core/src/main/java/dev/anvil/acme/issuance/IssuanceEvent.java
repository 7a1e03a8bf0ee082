package dev.anvil.acme.issuance;

import dev.anvil.acme.Status;
import dev.anvil.acme.retry.Cause;
import java.time.Duration;

/** What an {@link IssuanceListener} hears: transitions, retries, polls, failovers, resumes. */
public sealed interface IssuanceEvent {

    /** The issuance id. */
    String issuanceId();

    /** The CA in use (its name). */
    String ca();

    /** A state transition. */
    record StateChanged(String issuanceId, String ca, IssuanceState from, IssuanceState to) implements IssuanceEvent {
    }

    /** A step failed and will be tried again after {@code delay}. */
    record Retrying(String issuanceId, String ca, String step, Cause cause, int attempt, Duration delay, String error)
            implements IssuanceEvent {
    }

    /** A resource was polled; the next poll comes after {@code nextDelay}. */
    record Polled(String issuanceId, String ca, String resource, Status status, int poll, Duration nextDelay)
            implements IssuanceEvent {
    }

    /** The CA kept failing; the issuance moves to the next one. */
    record FailedOver(String issuanceId, String ca, String nextCa, String reason) implements IssuanceEvent {
    }

    /** A directory URL of the CA kept failing; the next URL of the same CA is tried. */
    record DirectoryFailedOver(String issuanceId, String ca, String fromUrl, String toUrl, String reason)
            implements IssuanceEvent {
    }

    /** A checkpoint was found: the issuance continues where it stopped. */
    record Resumed(String issuanceId, String ca, IssuanceState state, String orderUrl) implements IssuanceEvent {
    }
}
