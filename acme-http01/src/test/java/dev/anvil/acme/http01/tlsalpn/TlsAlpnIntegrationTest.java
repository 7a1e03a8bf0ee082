package dev.anvil.acme.http01.tlsalpn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.http01.Engines;
import dev.anvil.acme.http01.RecordingSolver;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.MemoryStore;
import dev.anvil.acme.testing.Pebble;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** tls-alpn-01 end to end: Pebble's VA handshakes with our SSLEngine responder on its tlsPort. */
class TlsAlpnIntegrationTest {

    @Test
    void issuesForNamesAndAnIpAddressThroughTheStandaloneResponder() {
        TlsAlpnResponder responder = TlsAlpnResponder.create();
        RecordingSolver solver = new RecordingSolver(responder.solver());
        try (Pebble pebble = Pebble.builder().authzReusePercent(0).start();
             TlsAlpnServer server = TlsAlpnServer.start(responder,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), pebble.tlsPort()))) {
            assertThat(server.port()).isEqualTo(pebble.tlsPort());
            IssuanceEngine engine = Engines.against(new MemoryStore(), pebble.httpClient());
            IssuedCertificate issued = engine.issue(IssuanceRequest.of("alpn.test", "www.alpn.test", "127.0.0.1")
                    .withCa(CertificateAuthority.of("pebble", pebble.directoryUrl())).withSolver(solver));

            assertThat(Engines.names(issued)).containsExactlyInAnyOrder("alpn.test", "www.alpn.test", "127.0.0.1");
            assertThat(solver.presented).hasSize(3).allSatisfy(c -> assertThat(c.type()).isEqualTo("tls-alpn-01"));
            assertThat(solver.cleaned).hasSameElementsAs(solver.presented);
            assertThat(responder.certificate("alpn.test")).isEmpty();
            assertThat(responder.certificate("1.0.0.127.in-addr.arpa")).isEmpty();
        }
    }
}
