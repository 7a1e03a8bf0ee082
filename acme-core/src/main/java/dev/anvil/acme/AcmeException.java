package dev.anvil.acme;

import java.time.Instant;
import java.util.Optional;

/**
 * Root of every error Anvil raises. Unchecked, so solver callbacks and lambdas stay simple;
 * subclasses say what failed and whether waiting helps ({@link #retryAfter()}).
 */
public class AcmeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AcmeException(String message) {
        super(message);
    }

    public AcmeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** When the server said the request may be tried again, if it said so. */
    public Optional<Instant> retryAfter() {
        return Optional.empty();
    }
}
