package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Http01ServerTest {

    private static final String P = Http01Responder.PATH_PREFIX;
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void servesRegisteredTokensOverHttp() {
        Http01Responder responder = Http01Responder.stateful();
        String token = Challenges.token();
        String ka = token + "." + Challenges.thumbprint();
        responder.register(token, ka);
        try (Http01Server server = Http01Server.start(responder, LOOPBACK)) {
            assertThat(server.port()).isPositive();
            assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
            RawHttp.Response get = RawHttp.get(server.port(), P + token);
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.body()).isEqualTo(ka);
            assertThat(get.headers()).containsEntry("content-type", "text/plain")
                    .containsEntry("content-length", Integer.toString(ka.length()))
                    .containsEntry("cache-control", "no-store");

            RawHttp.Response head = RawHttp.send(server.port(),
                    "HEAD " + P + token + " HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(head.headers()).containsEntry("content-type", "text/plain")
                    .containsEntry("content-length", Integer.toString(ka.length()));

            assertThat(RawHttp.get(server.port(), P + Challenges.token()).status()).isEqualTo(404);
            assertThat(RawHttp.get(server.port(), "/").status()).isEqualTo(404);
            assertThat(RawHttp.get(server.port(), P + token + "?cache=bust").body()).isEqualTo(ka);

            RawHttp.Response post = RawHttp.send(server.port(), "POST " + P + token
                    + " HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
            assertThat(post.status()).isEqualTo(405);
            assertThat(post.headers()).containsEntry("allow", "GET, HEAD");
            assertThat(post.body()).doesNotContain(ka);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../etc/passwd", "..", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "a%5cb", "a%00b",
            "abc/def", "x%2F..%2Fy", ""})
    void hostileRequestTargetsAre400(String hostile) {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        try (Http01Server server = Http01Server.start(responder, LOOPBACK)) {
            RawHttp.Response r = RawHttp.get(server.port(), P + hostile);
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.body()).startsWith("invalid ACME challenge token");
            // and the server still answers well-formed requests
            assertThat(RawHttp.get(server.port(), P + "ok").status()).isEqualTo(200);
        }
    }

    @Test
    void requestTargetsTheJdkCannotParseNeverReachTheResponder() {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        try (Http01Server server = Http01Server.start(responder, LOOPBACK)) {
            for (String target : List.of(P + "a\\b", P + "..\\..\\x", P + "a\"b", P + "a<b>",
                    P + "a|b")) {
                RawHttp.Response r = sendOrClosed(server.port(), "GET " + target
                        + " HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
                if (r != null) {
                    assertThat(r.status()).as(target).isBetween(400, 499);
                    assertThat(r.body()).doesNotContain(".");
                }
            }
            assertThat(RawHttp.get(server.port(), P + "ok").status()).isEqualTo(200);
        }
    }

    @Test
    void aSlowClientCannotHoldTheOnlyWorker() throws Exception {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        try (Http01Server server = Http01Server.builder(responder).address(LOOPBACK).threads(1)
                .requestTimeout(Duration.ofMillis(500)).start();
             Socket slow = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            slow.getOutputStream().write("GET /.well-known/acme-ch".getBytes(StandardCharsets.US_ASCII));
            slow.getOutputStream().flush();
            long start = System.nanoTime();
            slow.setSoTimeout(10_000);
            InputStream in = slow.getInputStream();
            int read;
            try {
                read = in.read();
            } catch (SocketException reset) {
                read = -1;
            }
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(read).as("the stalled connection is closed").isEqualTo(-1);
            assertThat(waitedMs).isBetween(300L, 5_000L);
            assertThat(RawHttp.get(server.port(), P + "ok").status()).isEqualTo(200);
        }
    }

    @Test
    void connectionsBeyondTheQueueAreDroppedAndTheServerRecovers() throws Exception {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        List<Socket> stalled = new ArrayList<>();
        try (Http01Server server = Http01Server.builder(responder).address(LOOPBACK).threads(1).queue(1)
                .requestTimeout(Duration.ofMillis(700)).start()) {
            for (int i = 0; i < 6; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
                s.getOutputStream().write("GET /".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                stalled.add(s);
            }
            for (Socket s : stalled) {
                s.setSoTimeout(10_000);
                try {
                    assertThat(s.getInputStream().read()).isEqualTo(-1);
                } catch (SocketException reset) {
                    // closed by the server: as intended
                }
            }
            assertThat(RawHttp.get(server.port(), P + "ok").status()).isEqualTo(200);
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void theHandlerMountsOnAnApplicationsOwnHttpServer() throws Exception {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        HttpServer app = HttpServer.create(LOOPBACK, 0);
        app.createContext("/", exchange -> {
            byte[] body = "the application".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        app.createContext(Http01Responder.PATH_PREFIX, new Http01Handler(responder));
        app.start();
        try {
            int port = app.getAddress().getPort();
            String token = Challenges.token();
            assertThat(RawHttp.get(port, P + token).body()).isEqualTo(token + "." + responder.thumbprints().get(0));
            assertThat(RawHttp.get(port, P + "..").status()).isEqualTo(400);
            assertThat(RawHttp.get(port, "/index.html").body()).isEqualTo("the application");
        } finally {
            app.stop(0);
        }
    }

    @Test
    void bindFailureIsATypedError() {
        try (Http01Server first = Http01Server.start(Http01Responder.stateful(), LOOPBACK)) {
            InetSocketAddress taken = new InetSocketAddress(InetAddress.getLoopbackAddress(), first.port());
            assertThatThrownBy(() -> Http01Server.start(Http01Responder.stateful(), taken))
                    .isInstanceOf(ResponderException.class).hasMessageContaining("cannot listen for http-01 on");
        }
        assertThatThrownBy(() -> Http01Server.builder(Http01Responder.stateful()).threads(0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Http01Server.builder(Http01Responder.stateful()).requestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static RawHttp.Response sendOrClosed(int port, String request) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            byte[] raw = RawHttp.readAll(s.getInputStream());
            return raw.length == 0 ? null : RawHttp.parse(raw);
        } catch (IOException e) {
            return null; // the JDK server dropped the connection: nothing was served
        }
    }
}
