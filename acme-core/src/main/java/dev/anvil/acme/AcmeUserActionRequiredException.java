package dev.anvil.acme;

import java.time.Instant;
import java.util.Optional;

/** A human must act, usually agree to new terms of service (RFC 8555 section 7.3.3). */
public class AcmeUserActionRequiredException extends AcmeServerException {

    private static final long serialVersionUID = 1L;

    private final String termsOfService;

    public AcmeUserActionRequiredException(String url, int status, Problem problem, Instant retryAfter,
                                           String termsOfService) {
        super(url, status, problem, retryAfter);
        this.termsOfService = termsOfService;
    }

    /** The terms-of-service link the server sent, if any. */
    public Optional<String> termsOfService() {
        return Optional.ofNullable(termsOfService);
    }
}
