package dev.anvil.acme.dns;

import dev.anvil.acme.AcmeException;
import java.time.Instant;
import java.util.Optional;

/**
 * A {@link DnsProvider} call failed. {@link #retryable()} says whether trying again can help
 * (5xx, 429, timeouts, SERVFAIL) or not (bad credentials, refused, unknown zone);
 * {@link #retryAfter()} carries the server's Retry-After when it sent one. Messages must
 * never contain credentials.
 */
public class DnsProviderException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final boolean retryable;
    private final Instant retryAfter;

    public DnsProviderException(String message, boolean retryable, Instant retryAfter, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /** A failure that trying again will not fix. */
    public DnsProviderException(String message) {
        this(message, false, null, null);
    }

    /** Whether the same call may succeed later (transient server or network failure). */
    public boolean retryable() {
        return retryable;
    }

    @Override
    public Optional<Instant> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
