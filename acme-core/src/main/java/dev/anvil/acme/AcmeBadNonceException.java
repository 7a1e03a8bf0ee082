package dev.anvil.acme;

import java.time.Instant;

/** The server rejected the nonce; retried automatically, raised only when retries ran out. */
public class AcmeBadNonceException extends AcmeServerException {

    private static final long serialVersionUID = 1L;

    public AcmeBadNonceException(String url, int status, Problem problem, Instant retryAfter) {
        super(url, status, problem, retryAfter);
    }
}
