package dev.anvil.acme;

import java.time.Instant;

/** A rate limit was hit; {@link #retryAfter()} says when to try again. */
public class AcmeRateLimitedException extends AcmeServerException {

    private static final long serialVersionUID = 1L;

    public AcmeRateLimitedException(String url, int status, Problem problem, Instant retryAfter) {
        super(url, status, problem, retryAfter);
    }
}
