package dev.anvil.acme.retry;

/** Why a step waits: an error worth retrying, or a resource the server has not finished with. */
public enum Cause {
    /** Connection refused or reset, timeout, TLS failure. */
    TRANSPORT,
    /** HTTP 5xx other than 503. */
    SERVER_ERROR,
    /** HTTP 503: overloaded or in maintenance. */
    UNAVAILABLE,
    /** HTTP 429 or a rateLimited problem. */
    RATE_LIMITED,
    /** The response was malformed (broken JSON, wrong content type, oversized). */
    MALFORMED,
    /** Polling: authorizations are still pending. */
    PENDING,
    /** Polling: the order is processing. */
    PROCESSING;

    public boolean isPolling() {
        return this == PENDING || this == PROCESSING;
    }
}
