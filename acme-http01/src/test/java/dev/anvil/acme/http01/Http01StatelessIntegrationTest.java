package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.AcmeValidationException;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.MemoryStore;
import dev.anvil.acme.testing.Pebble;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stateless http-01 across a CA switch (field notes 1.1): two real Pebbles whose validation
 * authorities both fetch from the same port, two accounts, one responder.
 */
class Http01StatelessIntegrationTest {

    private static Pebble oldCa;
    private static Pebble newCa;

    @BeforeAll
    static void startTwoCas() {
        oldCa = Pebble.builder().authzReusePercent(0).start();
        newCa = Pebble.builder().authzReusePercent(0).httpPort(oldCa.httpPort()).start();
    }

    @AfterAll
    static void stop() {
        if (newCa != null) {
            newCa.close();
        }
        if (oldCa != null) {
            oldCa.close();
        }
    }

    private static Http01Server serve(Http01Responder responder) {
        return Http01Server.start(responder, new InetSocketAddress(InetAddress.getLoopbackAddress(), oldCa.httpPort()));
    }

    @Test
    void thumbprintsDerivedFromTheEnginesAccountsKeepWorkingAcrossACaSwitch() {
        MemoryStore store = new MemoryStore();
        IssuanceEngine engine = Engines.against(store, oldCa, newCa);
        CertificateAuthority before = CertificateAuthority.of("old-ca", oldCa.directoryUrl());
        CertificateAuthority after = CertificateAuthority.of("new-ca", newCa.directoryUrl());
        ThumbprintSource accounts = ThumbprintSource.fromStore(store, List.of(before, after));
        Http01Responder responder = Http01Responder.stateless(accounts);
        RecordingSolver solver = new RecordingSolver(responder.solver());
        try (Http01Server server = serve(responder)) {
            IssuedCertificate one = engine.issue(IssuanceRequest.of("switch.stateless.test").withCa(before).withSolver(solver));
            // The application switches CA: a new account with a new key, no reconfiguration of the responder.
            IssuedCertificate two = engine.issue(IssuanceRequest.of("switch.stateless.test").withId("after-switch")
                    .withCa(after).withSolver(solver));

            assertThat(one.ca()).isEqualTo("old-ca");
            assertThat(two.ca()).isEqualTo("new-ca");
            assertThat(Engines.names(two)).containsExactly("switch.stateless.test");
            List<String> used = solver.thumbprintsUsed();
            assertThat(used).hasSize(2);
            // What the responder derived from the store is exactly what the two CAs expected.
            assertThat(accounts.thumbprints()).containsExactlyElementsOf(used);
            assertThat(solver.diagnoses).isEmpty();
            // Stateless: any other token is answered with the primary (first CA's) account.
            String token = Challenges.token();
            assertThat(RawHttp.get(server.port(), Http01Responder.PATH_PREFIX + token).body())
                    .isEqualTo(token + "." + used.get(0));
        }
    }

    @Test
    void aFleetNodeThatNeverSeesARegistrationAnswersBothCasWhenTheyShareTheAccountKey() {
        KeyPair shared = KeyPairs.generate();
        String thumbprint = Thumbprints.of(shared.getPublic());
        // The node the CAs reach: purely stateless, no solver ever registers anything here.
        Http01Responder node = Http01Responder.stateless(thumbprint);
        // The engine's process: its own responder (not the one the CAs reach).
        Http01Responder engineSide = Http01Responder.stateless(thumbprint);
        RecordingSolver solver = new RecordingSolver(engineSide.solver());
        IssuanceEngine engine = Engines.against(new MemoryStore(), oldCa, newCa);
        try (Http01Server server = serve(node)) {
            assertThat(server.port()).isEqualTo(newCa.httpPort());
            for (Pebble ca : List.of(oldCa, newCa)) {
                String name = ca == oldCa ? "old.fleet.test" : "new.fleet.test";
                IssuedCertificate issued = engine.issue(IssuanceRequest.of(name)
                        .withCa(CertificateAuthority.of(ca == oldCa ? "old" : "new", ca.directoryUrl()).withAccountKey(shared))
                        .withSolver(solver));
                assertThat(Engines.names(issued)).containsExactly(name);
            }
            assertThat(solver.thumbprintsUsed()).containsExactly(thumbprint);
            assertThat(node.isTracked(solver.presented.get(0).token())).isFalse();
        }
    }

    @Test
    void aResponderThatKnowsOnlyTheOldAccountFailsAtTheNewCaSayingWhatWasExpectedAndServed() {
        KeyPair oldKey = KeyPairs.generate();
        KeyPair newKey = KeyPairs.generate();
        String oldThumbprint = Thumbprints.of(oldKey.getPublic());
        String newThumbprint = Thumbprints.of(newKey.getPublic());
        Http01Responder responder = Http01Responder.stateless(oldThumbprint);
        RecordingSolver solver = new RecordingSolver(responder.solver());
        IssuanceEngine engine = Engines.against(new MemoryStore(), oldCa, newCa);
        try (Http01Server server = serve(responder)) {
            assertThat(server.port()).isEqualTo(newCa.httpPort());
            engine.issue(IssuanceRequest.of("before.switch.test")
                    .withCa(CertificateAuthority.of("old", oldCa.directoryUrl()).withAccountKey(oldKey)).withSolver(solver));

            IssuanceRequest atNewCa = IssuanceRequest.of("after.switch.test")
                    .withCa(CertificateAuthority.of("new", newCa.directoryUrl()).withAccountKey(newKey)).withSolver(solver);
            assertThatThrownBy(() -> engine.issue(atNewCa))
                    .isInstanceOf(AcmeValidationException.class)
                    .hasMessageContaining("at CA new is invalid")
                    .hasMessageContaining("the CA expected key authorization")
                    .hasMessageContaining("(account thumbprint " + newThumbprint + ")")
                    .hasMessageContaining("the responder served ")
                    .hasMessageContaining("(thumbprint " + oldThumbprint + ")")
                    .hasMessageContaining("thumbprint " + newThumbprint + " is not configured on the stateless responder")
                    .satisfies(e -> assertThat(((AcmeValidationException) e).problems()).isNotEmpty());
            assertThat(solver.cleaned).hasSameSizeAs(solver.presented);
        }
    }
}
