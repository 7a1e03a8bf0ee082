package dev.anvil.acme.solver;

import dev.anvil.acme.Identifier;
import java.time.Instant;
import java.util.List;

/**
 * Makes a challenge visible to the CA and removes it afterwards. The issuance engine calls
 * {@link #present}, then {@link #awaitReady}, tells the CA to validate, and always calls
 * {@link #cleanUp}: on success, failure and interruption alike. Core ships no implementation;
 * acme-http01 and acme-dns do.
 */
public interface ChallengeSolver {

    /** The challenge types this solver can answer, most preferred first ("http-01", "dns-01", "tls-alpn-01"). */
    List<String> types();

    /** Whether this solver should answer for this identifier with this type; default: every identifier. */
    default boolean supports(Identifier identifier, String type) {
        return true;
    }

    /** Publishes the challenge response (a token file, a TXT record, a certificate). */
    void present(ChallengeContext challenge) throws Exception;

    /**
     * Blocks until the CA can see what {@link #present} published (DNS propagation), or the
     * deadline passes. Default: ready at once.
     */
    default void awaitReady(ChallengeContext challenge, Instant deadline) throws Exception {
    }

    /** Removes what {@link #present} published. Called exactly once per present, whatever happened. */
    void cleanUp(ChallengeContext challenge) throws Exception;

    /**
     * Explains a failed validation from the solver's side, e.g. which thumbprint a stateless
     * responder served versus the one the CA expected. Appended to the engine's
     * {@link dev.anvil.acme.AcmeValidationException}. Default: nothing to add.
     */
    default String diagnose(ChallengeContext challenge, dev.anvil.acme.Problem problem) {
        return null;
    }

    /** Whether several challenges may be presented concurrently by this solver. Default true. */
    default boolean parallel() {
        return true;
    }
}
