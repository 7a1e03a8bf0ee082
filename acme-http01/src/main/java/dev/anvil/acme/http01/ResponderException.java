package dev.anvil.acme.http01;

import dev.anvil.acme.AcmeException;

/**
 * A challenge responder could not do its job: a listener could not be bound, a challenge file
 * could not be written. Retrying the same configuration rarely helps; the message says what to fix.
 */
public class ResponderException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public ResponderException(String message) {
        super(message);
    }

    public ResponderException(String message, Throwable cause) {
        super(message, cause);
    }
}
