package dev.anvil.acme.http01.tlsalpn;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** tls-alpn-01 through a {@link TlsAlpnResponder} (get it from {@link TlsAlpnResponder#solver()}). */
public final class TlsAlpnSolver implements ChallengeSolver {

    private final TlsAlpnResponder responder;

    TlsAlpnSolver(TlsAlpnResponder responder) {
        this.responder = responder;
    }

    @Override
    public List<String> types() {
        return List.of(Challenge.TLS_ALPN_01);
    }

    @Override
    public boolean supports(Identifier identifier, String type) {
        return Challenge.TLS_ALPN_01.equals(type)
                && (Identifier.DNS.equals(identifier.type()) || Identifier.IP.equals(identifier.type()));
    }

    @Override
    public void present(ChallengeContext challenge) {
        responder.register(challenge.identifier(), challenge.keyAuthorization());
    }

    @Override
    public void cleanUp(ChallengeContext challenge) {
        responder.unregister(challenge.identifier(), challenge.keyAuthorization());
    }

    /** Says which SNI and digest the CA looked for, and whether a validation handshake for that name arrived. */
    @Override
    public String diagnose(ChallengeContext challenge, Problem problem) {
        String name = TlsAlpn.serverName(challenge.identifier());
        StringBuilder b = new StringBuilder("tls-alpn-01 for ").append(challenge.identifier().value())
                .append(": the CA expected, for SNI ").append(name).append(" and ALPN ").append(TlsAlpn.ACME_TLS_1)
                .append(", a certificate whose acmeIdentifier is SHA-256(").append(challenge.keyAuthorization())
                .append(") = ").append(HexFormat.of().formatHex(TlsAlpn.keyAuthorizationDigest(challenge.keyAuthorization())))
                .append(" (account thumbprint ").append(challenge.accountThumbprint()).append(")");
        Optional<TlsAlpnResponder.Handshake> h = responder.lastHandshake(name);
        if (h.isPresent()) {
            b.append("; the responder presented it ").append(h.get().count()).append(" time(s), last to ")
                    .append(h.get().remote()).append(" at ").append(h.get().at());
        } else {
            b.append("; the responder saw no acme-tls/1 handshake for that name: check that ")
                    .append(challenge.identifier().value()).append(" resolves to this server and port 443 reaches it");
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "TlsAlpnSolver[" + responder + "]";
    }
}
