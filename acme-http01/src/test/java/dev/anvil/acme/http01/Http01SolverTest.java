package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Http01SolverTest {

    private static final String P = Http01Responder.PATH_PREFIX;
    private static final Problem UNAUTHORIZED = new Problem("urn:ietf:params:acme:error:unauthorized", null,
            "key authorization mismatch", 403, null, null, null);

    @Test
    void statefulRegistersForTheLifeOfTheChallenge() {
        Http01Responder r = Http01Responder.stateful();
        Http01Solver solver = r.solver();
        assertThat(solver.types()).containsExactly(Challenge.HTTP_01);
        assertThat(solver.supports(Identifier.dns("a.test"), Challenge.HTTP_01)).isTrue();
        assertThat(solver.supports(Identifier.dns("a.test"), Challenge.DNS_01)).isFalse();
        ChallengeContext c = Challenges.http01("a.test", Challenges.token(), Challenges.thumbprint());
        solver.present(c);
        assertThat(r.respond("GET", P + c.token()).body()).isEqualTo(c.keyAuthorization());
        solver.cleanUp(c);
        assertThat(r.respond("GET", P + c.token()).status()).isEqualTo(404);
    }

    @Test
    void refusesHostileTokensBeforeRegisteringAnything() {
        Http01Responder r = Http01Responder.stateful();
        ChallengeContext c = Challenges.http01("a.test", "../../etc/passwd", Challenges.thumbprint());
        assertThatThrownBy(() -> r.solver().present(c)).isInstanceOf(InvalidTokenException.class);
        r.solver().cleanUp(c); // the engine always cleans up; harmless
        assertThat(r.solver().diagnose(c, UNAUTHORIZED)).isNull();
    }

    @Test
    void statelessRegistersConfiguredAccountsSoEachIsAnsweredWithItsOwnThumbprint() {
        String a = Challenges.thumbprint();
        String b = Challenges.thumbprint();
        Http01Responder r = Http01Responder.stateless(a, b);
        ChallengeContext atB = Challenges.http01("a.test", Challenges.token(), b);
        r.solver().present(atB);
        assertThat(r.respond("GET", P + atB.token()).body()).isEqualTo(atB.keyAuthorization());
        r.solver().cleanUp(atB);
        assertThat(r.respond("GET", P + atB.token()).body()).isEqualTo(atB.token() + "." + a);
    }

    @Test
    void statelessDoesNotPaperOverAnUnconfiguredAccountAndDiagnosesIt() {
        String old = Challenges.thumbprint();
        String current = Challenges.thumbprint();
        Http01Responder r = Http01Responder.stateless(old);
        ChallengeContext c = Challenges.http01("switch.test", Challenges.token(), current);
        r.solver().present(c);
        assertThat(r.respond("GET", P + c.token(), "10.0.0.9").body()).isEqualTo(c.token() + "." + old);

        String d = r.solver().diagnose(c, UNAUTHORIZED);
        assertThat(d).contains("the CA expected key authorization " + c.token() + "." + current)
                .contains("account thumbprint " + current)
                .contains("the responder served " + c.token() + "." + old + " (thumbprint " + old + ")")
                .contains("10.0.0.9")
                .contains("thumbprint " + current + " is not configured on the stateless responder (configured: [" + old + "])");
        r.solver().cleanUp(c);
        assertThat(r.isTracked(c.token())).isFalse();
        assertThat(r.solver().diagnose(c, UNAUTHORIZED)).as("also after cleanUp")
                .contains("the responder served " + c.token() + "." + old);
    }

    @Test
    void refreshesTheSourceOnceWhenTheAccountIsNew() {
        String a = Challenges.thumbprint();
        String b = Challenges.thumbprint();
        List<String> current = new ArrayList<>(List.of(a));
        int[] refreshes = {0};
        ThumbprintSource source = new ThumbprintSource() {
            @Override
            public List<String> thumbprints() {
                return List.copyOf(current);
            }

            @Override
            public void refresh() {
                refreshes[0]++;
                current.add(b); // the engine just stored a new account
            }
        };
        Http01Responder r = Http01Responder.stateless(source);
        ChallengeContext c = Challenges.http01("new.test", Challenges.token(), b);
        r.solver().present(c);
        assertThat(refreshes[0]).isEqualTo(1);
        assertThat(r.respond("GET", P + c.token()).body()).isEqualTo(c.keyAuthorization());
    }

    @Test
    void diagnosesAValidationThatNeverReachedTheResponder() {
        Http01Responder r = Http01Responder.stateful();
        ChallengeContext c = Challenges.http01("unreached.test", Challenges.token(), Challenges.thumbprint());
        r.solver().present(c);
        assertThat(r.solver().diagnose(c, UNAUTHORIZED))
                .contains("received no request for this token")
                .contains("it would serve " + c.keyAuthorization())
                .contains("unreached.test resolves to this server");
        r.respond("GET", P + c.token(), null);
        assertThat(r.solver().diagnose(c, UNAUTHORIZED)).contains("the responder served " + c.keyAuthorization())
                .contains("to a client");
    }
}
