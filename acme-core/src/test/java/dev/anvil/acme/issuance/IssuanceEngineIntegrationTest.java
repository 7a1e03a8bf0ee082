package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine end to end against a real Pebble (5% nonce rejection on). */
class IssuanceEngineIntegrationTest {

    @TempDir
    Path dir;

    @Test
    void issuesStoresAndReportsEveryTransition() throws Exception {
        try (Pebble pebble = Pebble.start(); Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            List<IssuanceEvent> events = new CopyOnWriteArrayList<>();
            FileStore store = new FileStore(dir);
            IssuanceEngine engine = IssuanceEngine.builder(store).httpClient(pebble.httpClient())
                    .listener(events::add).build();
            TestSolvers.Http01 solver = new TestSolvers.Http01(responder);
            IssuanceRequest request = IssuanceRequest.of("engine.anvil.test", "www.engine.anvil.test")
                    .withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()))
                    .withSolver(solver);

            IssuedCertificate issued = engine.issue(request);

            assertThat(issued.leaf().getPublicKey()).isEqualTo(issued.keyPair().getPublic());
            assertThat(events).filteredOn(e -> e instanceof IssuanceEvent.StateChanged)
                    .extracting(e -> ((IssuanceEvent.StateChanged) e).to())
                    .containsSubsequence(IssuanceState.ORDERED, IssuanceState.AUTHORIZING, IssuanceState.READY,
                            IssuanceState.FINALIZING, IssuanceState.PROCESSING, IssuanceState.VALID, IssuanceState.STORED);
            assertThat(solver.cleaned).isEqualTo(solver.presented).hasSize(2);

            Path pem = store.path(IssuanceEngine.certificateKey(request.id()));
            String stored = Files.readString(pem, StandardCharsets.US_ASCII);
            assertThat(stored).contains("BEGIN CERTIFICATE").contains("PRIVATE KEY");
            assertThat(Pem.readKeyPair(stored.substring(stored.indexOf("-----BEGIN PRIVATE KEY"))).getPublic())
                    .isEqualTo(issued.keyPair().getPublic());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pem))).isEqualTo("rw-------");
            assertThat(engine.checkpoint(request.id())).isEmpty();

            // A second issuance reuses the stored account: no newAccount request.
            int before = pebble.requestLog().size();
            engine.issue(request.withId("again"));
            assertThat(pebble.requestLog().subList(before, pebble.requestLog().size()))
                    .noneMatch(r -> r.contains("sign-me-up")).noneMatch(r -> r.startsWith("GET /dir"));
        }
    }
}
