package dev.anvil.acme;

/**
 * A challenge solver could not publish or confirm its response (a DNS provider outage, a
 * propagation timeout, a responder that failed to start). Another CA would meet the same
 * solver, so the engine does not fail over on it; the cause says what went wrong.
 */
public class AcmeSolverException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public AcmeSolverException(String message, Throwable cause) {
        super(message, cause);
    }
}
