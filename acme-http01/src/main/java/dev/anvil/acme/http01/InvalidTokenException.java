package dev.anvil.acme.http01;

/**
 * A challenge token that is not 1 to {@value ChallengeTokens#MAX_LENGTH} base64url characters:
 * a path traversal attempt, an empty or oversized token, a stray character. Nothing is written
 * or served for it. The message shows at most a short, escaped prefix of the input, so hostile
 * input cannot forge log lines.
 */
public final class InvalidTokenException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public InvalidTokenException(String message) {
        super(message);
    }
}
