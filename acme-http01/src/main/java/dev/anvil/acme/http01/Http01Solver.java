package dev.anvil.acme.http01;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * http-01 through an in-process {@link Http01Responder} (get it from {@link Http01Responder#solver()}).
 *
 * <p>Stateful responder: each challenge's key authorization is registered on present and
 * removed on cleanUp. Stateless responder: the token is registered with the account's
 * thumbprint only when that thumbprint is configured (after one refresh of the source); an
 * account that is not configured is not papered over, because the responder's stateless peers
 * would not know it either. It is logged, and when the CA then reports the challenge invalid,
 * {@link #diagnose} says which thumbprint the CA expected and what the responder served.
 */
public final class Http01Solver implements ChallengeSolver {

    private static final Logger LOG = LoggerFactory.getLogger(Http01Solver.class);

    private final Http01Responder responder;

    Http01Solver(Http01Responder responder) {
        this.responder = responder;
    }

    @Override
    public List<String> types() {
        return List.of(Challenge.HTTP_01);
    }

    @Override
    public boolean supports(Identifier identifier, String type) {
        return Challenge.HTTP_01.equals(type);
    }

    @Override
    public void present(ChallengeContext challenge) {
        String token = ChallengeTokens.requireValid(challenge.token());
        if (!responder.isStateless() || isConfigured(challenge.accountThumbprint())) {
            responder.register(token, challenge.keyAuthorization());
            LOG.debug("http-01 for {}: token {} registered", challenge.identifier().value(), token);
            return;
        }
        responder.watch(token);
        LOG.warn("http-01 for {}: the account's thumbprint {} is not among the stateless responder's thumbprints {};"
                        + " it will serve {} and the CA will refuse it. Configure the thumbprint of every CA account in use.",
                challenge.identifier().value(), challenge.accountThumbprint(), responder.thumbprints(),
                responder.keyAuthorization(token).orElse("404"));
    }

    private boolean isConfigured(String thumbprint) {
        if (responder.thumbprints().contains(thumbprint)) {
            return true;
        }
        responder.thumbprintSource().refresh(); // an account the engine created moments ago
        return responder.thumbprints().contains(thumbprint);
    }

    @Override
    public void cleanUp(ChallengeContext challenge) {
        responder.unregister(challenge.token());
    }

    /**
     * Says what the CA expected (token, thumbprint) and what this responder served for the
     * token, or that no request for it arrived; in stateless mode also whether the account's
     * thumbprint is configured.
     */
    @Override
    public String diagnose(ChallengeContext challenge, Problem problem) {
        String token = challenge.token();
        if (!ChallengeTokens.isValid(token)) {
            return null;
        }
        String expected = challenge.accountThumbprint();
        StringBuilder b = new StringBuilder("http-01 for ").append(challenge.identifier().value())
                .append(": the CA expected key authorization ").append(challenge.keyAuthorization())
                .append(" (account thumbprint ").append(expected).append(")");
        Optional<Http01Responder.Served> served = responder.lastServed(token);
        if (served.isPresent()) {
            Http01Responder.Served s = served.get();
            b.append("; the responder served ");
            if (s.status() == 200) {
                String body = s.body();
                String thumbprint = body.startsWith(token + ".") ? body.substring(token.length() + 1) : "?";
                b.append(body).append(" (thumbprint ").append(thumbprint).append(")");
            } else {
                b.append("HTTP ").append(s.status());
            }
            b.append(s.count() > 1 ? " to " + s.count() + " requests, last from " : " to ").append(s.remote() == null ? "a client" : s.remote())
                    .append(" at ").append(s.at());
        } else {
            Optional<String> would = responder.keyAuthorization(token);
            b.append("; the responder received no request for this token (it would serve ")
                    .append(would.orElse("404")).append("): check that ").append(challenge.identifier().value())
                    .append(" resolves to this server and port 80 reaches the responder");
        }
        if (responder.isStateless() && !responder.thumbprints().contains(expected)) {
            b.append("; thumbprint ").append(expected).append(" is not configured on the stateless responder (configured: ")
                    .append(responder.thumbprints())
                    .append("): configure the thumbprint of every CA account in use, or ThumbprintSource.fromStore");
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "Http01Solver[" + responder + "]";
    }
}
