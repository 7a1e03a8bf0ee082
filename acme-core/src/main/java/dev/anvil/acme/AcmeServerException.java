package dev.anvil.acme;

import java.time.Instant;
import java.util.Optional;

/**
 * The server answered with an error status. Carries the HTTP status, the RFC 7807 problem
 * when the server sent one (type, detail, subproblems with identifiers) and Retry-After.
 * Subclasses exist for the problem types a caller handles differently.
 */
public class AcmeServerException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient Problem problem;
    private final Instant retryAfter;
    private final String url;

    public AcmeServerException(String url, int status, Problem problem, Instant retryAfter) {
        super(message(url, status, problem));
        this.url = url;
        this.status = status;
        this.problem = problem;
        this.retryAfter = retryAfter;
    }

    /** The right exception class for this problem type. */
    public static AcmeServerException of(String url, int status, Problem problem, Instant retryAfter) {
        String type = problem == null ? null : problem.acmeType();
        if (type == null) {
            return new AcmeServerException(url, status, problem, retryAfter);
        }
        return switch (type) {
            case "badNonce" -> new AcmeBadNonceException(url, status, problem, retryAfter);
            case "rateLimited" -> new AcmeRateLimitedException(url, status, problem, retryAfter);
            case "userActionRequired" -> new AcmeUserActionRequiredException(url, status, problem, retryAfter, null);
            default -> new AcmeServerException(url, status, problem, retryAfter);
        };
    }

    public int status() {
        return status;
    }

    /** The problem document, when the server sent one. */
    public Optional<Problem> problem() {
        return Optional.ofNullable(problem);
    }

    /** The ACME error name ("unauthorized", "caa", ...) or null when not an ACME problem. */
    public String acmeType() {
        return problem == null ? null : problem.acmeType();
    }

    public boolean is(String acmeType) {
        return problem != null && problem.is(acmeType);
    }

    public String url() {
        return url;
    }

    @Override
    public Optional<Instant> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    private static String message(String url, int status, Problem problem) {
        return "HTTP " + status + " from " + url + (problem == null ? "" : ": " + problem.describe());
    }
}
