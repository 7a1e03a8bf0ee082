package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.MemoryStore;
import dev.anvil.acme.testing.Pebble;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Stateful http-01 end to end: Pebble's VA fetches every token from our JDK HttpServer responder. */
class Http01StatefulIntegrationTest {

    @Test
    void issuesManyConcurrentOrdersThroughTheStandaloneResponder() throws Exception {
        Http01Responder responder = Http01Responder.stateful();
        RecordingSolver solver = new RecordingSolver(responder.solver());
        try (Pebble pebble = Pebble.builder().authzReusePercent(0).start();
             Http01Server server = Http01Server.start(responder,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), pebble.httpPort()))) {
            IssuanceEngine engine = Engines.against(new MemoryStore(), pebble);
            CertificateAuthority ca = CertificateAuthority.of("pebble", pebble.directoryUrl());
            // One issuance first: the engine registers the account. (Concurrent first issuances at one CA
            // each register their own account and overwrite each other's stored key: a core race, reported.)
            IssuedCertificate first = engine.issue(IssuanceRequest.of("first.stateful.test").withCa(ca).withSolver(solver));
            assertThat(Engines.names(first)).containsExactly("first.stateful.test");
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<IssuedCertificate>> results = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String name = "site" + i + ".stateful.test";
                    results.add(pool.submit(() -> engine.issue(IssuanceRequest.of(name, "www." + name, "api." + name)
                            .withCa(ca).withSolver(solver))));
                }
                for (int i = 0; i < 4; i++) {
                    IssuedCertificate issued = results.get(i).get();
                    String name = "site" + i + ".stateful.test";
                    assertThat(Engines.names(issued)).containsExactlyInAnyOrder(name, "www." + name, "api." + name);
                    assertThat(issued.leaf().getPublicKey()).isEqualTo(issued.keyPair().getPublic());
                }
            } finally {
                pool.shutdownNow();
            }
            // Every challenge was validated over the network against our responder and then removed.
            assertThat(solver.presented).hasSize(13);
            assertThat(solver.cleaned).hasSameElementsAs(solver.presented);
            assertThat(solver.presented).allSatisfy(c -> {
                assertThat(responder.isTracked(c.token())).isFalse();
                assertThat(RawHttp.get(server.port(), Http01Responder.PATH_PREFIX + c.token()).status()).isEqualTo(404);
            });
            assertThat(solver.thumbprintsUsed()).hasSize(1);
        }
    }
}
