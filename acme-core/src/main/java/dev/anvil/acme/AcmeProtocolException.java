package dev.anvil.acme;

/**
 * The server's answer broke the protocol: malformed or oversized body, unexpected content type,
 * a missing header, or a non-HTTPS URL. Not a user error and rarely fixed by retrying at once.
 */
public class AcmeProtocolException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public AcmeProtocolException(String message) {
        super(message);
    }

    public AcmeProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
