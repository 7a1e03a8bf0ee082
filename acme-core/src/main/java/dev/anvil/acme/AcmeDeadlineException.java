package dev.anvil.acme;

import java.time.Instant;
import java.util.Optional;

/**
 * A step would have to wait past its deadline. Nothing is lost: the issuance's checkpoint is
 * kept, and calling the engine again with the same issuance id after {@link #retryAfter()}
 * resumes the same order.
 */
public class AcmeDeadlineException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final Instant retryAt;
    private final String issuanceId;
    private final String step;

    public AcmeDeadlineException(String issuanceId, String step, Instant retryAt, Instant deadline, Throwable cause) {
        super("issuance '" + issuanceId + "': " + step + " would wait until " + retryAt + ", past its deadline "
                + deadline + "; resume by issuing '" + issuanceId + "' again after " + retryAt
                + (cause == null ? "" : " (last: " + cause.getMessage() + ")"), cause);
        this.retryAt = retryAt;
        this.issuanceId = issuanceId;
        this.step = step;
    }

    /** When trying again makes sense. */
    @Override
    public Optional<Instant> retryAfter() {
        return Optional.of(retryAt);
    }

    /** The issuance to resume (its checkpoint is in the store). */
    public String issuanceId() {
        return issuanceId;
    }

    public String step() {
        return step;
    }
}
