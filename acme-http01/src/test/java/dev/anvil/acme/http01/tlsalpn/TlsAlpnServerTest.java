package dev.anvil.acme.http01.tlsalpn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.http01.Challenges;
import dev.anvil.acme.http01.ResponderException;
import dev.anvil.acme.solver.ChallengeContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

/** The standalone responder against the JDK's TLS client, as a CA's validation authority would connect. */
class TlsAlpnServerTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** What a validation handshake saw. */
    record Seen(String protocol, X509Certificate certificate, int afterHandshake) {
    }

    static Seen handshake(int port, String sni, List<String> alpn, String tlsVersion) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        // A validation client checks the extension, not the (self-signed) chain.
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            if (sni != null) {
                p.setServerNames(List.of(new SNIHostName(sni)));
            }
            if (alpn != null) {
                p.setApplicationProtocols(alpn.toArray(String[]::new));
            }
            if (tlsVersion != null) {
                p.setProtocols(new String[] {tlsVersion});
            }
            s.setSSLParameters(p);
            s.startHandshake();
            X509Certificate cert = (X509Certificate) s.getSession().getPeerCertificates()[0];
            int next;
            try {
                next = s.getInputStream().read();
            } catch (SocketException e) {
                next = -1;
            }
            return new Seen(s.getApplicationProtocol(), cert, next);
        }
    }

    @Test
    void presentsTheCertificateChosenBySniOnlyForAcmeTls1() throws Exception {
        TlsAlpnResponder responder = TlsAlpnResponder.create();
        String kaA = Challenges.token() + "." + Challenges.thumbprint();
        String kaB = Challenges.token() + "." + Challenges.thumbprint();
        ValidationCertificate a = responder.register(Identifier.dns("a.alpn.test"), kaA);
        ValidationCertificate b = responder.register(Identifier.dns("b.alpn.test"), kaB);
        try (TlsAlpnServer server = TlsAlpnServer.start(responder, LOOPBACK)) {
            Seen seenA = handshake(server.port(), "a.alpn.test", List.of("acme-tls/1"), null);
            assertThat(seenA.protocol()).isEqualTo("acme-tls/1");
            assertThat(seenA.certificate()).isEqualTo(a.certificate());
            assertThat(seenA.afterHandshake()).as("closed right after the handshake").isEqualTo(-1);

            Seen seenB = handshake(server.port(), "B.ALPN.TEST", List.of("h2", "acme-tls/1"), "TLSv1.2");
            assertThat(seenB.protocol()).isEqualTo("acme-tls/1");
            assertThat(seenB.certificate()).isEqualTo(b.certificate());
            assertThatThrownBy(() -> handshake(server.port(), "b.alpn.test", List.of("h2"), "TLSv1.2"))
                    .isInstanceOf(SSLException.class);

            // Not a validation: no certificate for anyone else.
            assertThatThrownBy(() -> handshake(server.port(), "a.alpn.test", null, null)).isInstanceOf(SSLException.class);
            assertThatThrownBy(() -> handshake(server.port(), "a.alpn.test", List.of("h2", "http/1.1"), null))
                    .isInstanceOf(SSLException.class);
            assertThatThrownBy(() -> handshake(server.port(), "unknown.alpn.test", List.of("acme-tls/1"), null))
                    .isInstanceOf(SSLException.class);
            assertThatThrownBy(() -> handshake(server.port(), null, List.of("acme-tls/1"), null))
                    .isInstanceOf(SSLException.class);

            responder.unregister(Identifier.dns("a.alpn.test"), kaA);
            assertThatThrownBy(() -> handshake(server.port(), "a.alpn.test", List.of("acme-tls/1"), null))
                    .isInstanceOf(SSLException.class);
            assertThat(responder.certificate("a.alpn.test")).isEmpty();
            assertThat(handshake(server.port(), "b.alpn.test", List.of("acme-tls/1"), null).certificate())
                    .isEqualTo(b.certificate());
        }
    }

    @Test
    void theLatestRegistrationForANameIsServedAndCountsAreKept() throws Exception {
        TlsAlpnResponder responder = TlsAlpnResponder.create();
        Identifier id = Identifier.dns("same.alpn.test");
        String first = Challenges.token() + "." + Challenges.thumbprint();
        String second = Challenges.token() + "." + Challenges.thumbprint();
        ValidationCertificate one = responder.register(id, first);
        assertThat(responder.register(id, first)).isSameAs(one); // the same challenge presented by two orders
        ValidationCertificate two = responder.register(id, second);
        assertThat(responder.certificate("same.alpn.test")).contains(two);
        responder.unregister(id, second);
        assertThat(responder.certificate("same.alpn.test")).contains(one);
        responder.unregister(id, first);
        assertThat(responder.certificate("same.alpn.test")).contains(one);
        responder.unregister(id, first);
        assertThat(responder.certificate("same.alpn.test")).isEmpty();
    }

    @Test
    void garbageAndStalledClientsAreDroppedAndTheServerRecovers() throws Exception {
        TlsAlpnResponder responder = TlsAlpnResponder.create();
        String ka = Challenges.token() + "." + Challenges.thumbprint();
        responder.register(Identifier.dns("ok.alpn.test"), ka);
        try (TlsAlpnServer server = TlsAlpnServer.builder(responder).address(LOOPBACK).threads(1)
                .handshakeTimeout(Duration.ofMillis(500)).start()) {
            try (Socket garbage = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                garbage.setSoTimeout(10_000);
                garbage.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(drain(garbage.getInputStream())).isLessThan(100); // at most an alert, then closed
            }
            try (Socket stalled = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                stalled.setSoTimeout(10_000);
                long start = System.nanoTime();
                stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01}); // a record header, then nothing
                drain(stalled.getInputStream());
                assertThat((System.nanoTime() - start) / 1_000_000).isBetween(300L, 5_000L);
            }
            assertThat(handshake(server.port(), "ok.alpn.test", List.of("acme-tls/1"), null).protocol())
                    .isEqualTo("acme-tls/1");
        }
    }

    @Test
    void solverRegistersForTheLifeOfTheChallengeAndDiagnoses() throws Exception {
        TlsAlpnResponder responder = TlsAlpnResponder.create();
        TlsAlpnSolver solver = responder.solver();
        assertThat(solver.types()).containsExactly("tls-alpn-01");
        assertThat(solver.supports(Identifier.dns("x.test"), "tls-alpn-01")).isTrue();
        assertThat(solver.supports(Identifier.dns("x.test"), "http-01")).isFalse();
        ChallengeContext c = Challenges.context("tls-alpn-01", "solver.alpn.test", Challenges.token(),
                Challenges.thumbprint());
        Problem p = new Problem("urn:ietf:params:acme:error:unauthorized", null, "bad", 403, null, null, null);
        solver.present(c);
        assertThat(responder.certificate("solver.alpn.test")).isPresent();
        assertThat(solver.diagnose(c, p)).contains("SNI solver.alpn.test").contains("acme-tls/1")
                .contains(c.keyAuthorization()).contains("saw no acme-tls/1 handshake");
        try (TlsAlpnServer server = TlsAlpnServer.start(responder, LOOPBACK)) {
            handshake(server.port(), "solver.alpn.test", List.of("acme-tls/1"), null);
        }
        assertThat(solver.diagnose(c, p)).contains("presented it 1 time(s), last to 127.0.0.1");
        solver.cleanUp(c);
        assertThat(responder.certificate("solver.alpn.test")).isEmpty();
    }

    @Test
    void bindFailureIsATypedError() {
        try (TlsAlpnServer first = TlsAlpnServer.start(TlsAlpnResponder.create(), LOOPBACK)) {
            InetSocketAddress taken = new InetSocketAddress(InetAddress.getLoopbackAddress(), first.port());
            assertThatThrownBy(() -> TlsAlpnServer.start(TlsAlpnResponder.create(), taken))
                    .isInstanceOf(ResponderException.class).hasMessageContaining("cannot listen for tls-alpn-01");
        }
    }

    private static int drain(InputStream in) {
        int n = 0;
        try {
            while (in.read() >= 0) {
                n++;
            }
        } catch (IOException closed) {
            // reset by the server: closed as intended
        }
        return n;
    }
}
