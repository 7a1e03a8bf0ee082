package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.AcmeValidationException;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.store.MemoryStore;
import dev.anvil.acme.testing.Pebble;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webroot http-01 end to end: our solver writes files, a real nginx serves them, Pebble's VA fetches them. */
class WebrootNginxIntegrationTest {

    @TempDir
    Path elsewhere;

    @Test
    void issuesThroughFilesServedByNginx() throws Exception {
        try (Nginx nginx = Nginx.start(); Pebble pebble = Pebble.builder().authzReusePercent(0).httpPort(nginx.port()).start()) {
            RecordingSolver solver = new RecordingSolver(WebrootSolver.of(nginx.webroot()));
            IssuanceEngine engine = Engines.against(new MemoryStore(), pebble);
            CertificateAuthority ca = CertificateAuthority.of("pebble", pebble.directoryUrl());

            IssuedCertificate issued = engine.issue(IssuanceRequest.of("webroot.nginx.test", "www.webroot.nginx.test")
                    .withCa(ca).withSolver(solver));

            assertThat(Engines.names(issued)).containsExactlyInAnyOrder("webroot.nginx.test", "www.webroot.nginx.test");
            assertThat(solver.presented).hasSize(2);
            String access = nginx.accessLog();
            for (ChallengeContext c : solver.presented) {
                // nginx itself answered the VA with our file (200), and the file is gone afterwards
                assertThat(access).containsPattern("\"GET /\\.well-known/acme-challenge/" + c.token() + " HTTP/1\\.1\" 200 ");
            }
            try (Stream<Path> left = Files.list(nginx.webroot().resolve(".well-known/acme-challenge"))) {
                assertThat(left).isEmpty();
            }
            assertThat(RawHttp.get(nginx.port(), "/.well-known/acme-challenge/" + solver.presented.get(0).token()).status())
                    .isEqualTo(404);

            // A webroot nginx does not serve: the CA gets 404 and the error says where the file was written.
            RecordingSolver wrong = new RecordingSolver(WebrootSolver.of(elsewhere));
            assertThatThrownBy(() -> engine.issue(IssuanceRequest.of("wrong.nginx.test").withCa(ca).withSolver(wrong)))
                    .isInstanceOf(AcmeValidationException.class)
                    .hasMessageContaining("wrote ")
                    .hasMessageContaining(elsewhere.resolve(".well-known/acme-challenge").toString())
                    .hasMessageContaining("http://wrong.nginx.test/.well-known/acme-challenge/");
            assertThat(nginx.accessLog()).containsPattern("acme-challenge/" + wrong.presented.get(0).token() + " HTTP/1\\.1\" 404 ");
        }
    }
}
