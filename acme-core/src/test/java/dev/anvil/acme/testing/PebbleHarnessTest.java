package dev.anvil.acme.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Proves the Pebble harness works against the real Debian pebble 2.4 binaries. */
class PebbleHarnessTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static Pebble pebble;

    @BeforeAll
    static void startPebble() {
        pebble = Pebble.start();
    }

    @AfterAll
    static void stopPebble() {
        if (pebble != null) {
            pebble.close();
        }
    }

    private static JsonNode getDirectory(OkHttpClient client) throws Exception {
        Request req = new Request.Builder().url(pebble.directoryUrl()).get().build();
        try (Response r = client.newCall(req).execute()) {
            assertThat(r.code()).isEqualTo(200);
            return MAPPER.readTree(r.body().string());
        }
    }

    @Test
    void directoryIsServedOverTlsTrustedByTheHarnessClient() throws Exception {
        assertThat(pebble.directoryUrl()).matches("https://127\\.0\\.0\\.1:\\d+/dir");
        JsonNode dir = getDirectory(pebble.httpClient());
        assertThat(dir.path("newNonce").asText()).startsWith("https://127.0.0.1:");
        assertThat(dir.path("newAccount").asText()).isNotEmpty();
        assertThat(dir.path("newOrder").asText()).isNotEmpty();
        assertThat(dir.path("revokeCert").asText()).isNotEmpty();
        assertThat(dir.path("keyChange").asText()).isNotEmpty();
        assertThat(dir.path("meta").path("externalAccountRequired").asBoolean(true)).isFalse();
        assertThat(pebble.httpPort()).isPositive().isNotEqualTo(pebble.tlsPort());
        assertThat(pebble.isAlive()).isTrue();
    }

    @Test
    void listenerCertificateIsNotTrustedByDefault() {
        OkHttpClient plain = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).build();
        Request req = new Request.Builder().url(pebble.directoryUrl()).get().build();
        assertThatThrownBy(() -> plain.newCall(req).execute().close()).isInstanceOf(SSLException.class);
    }

    @Test
    void trustManagerAndSocketFactoryWorkWithAFreshClient() throws Exception {
        OkHttpClient own = new OkHttpClient.Builder()
                .sslSocketFactory(pebble.sslSocketFactory(), pebble.trustManager())
                .build();
        assertThat(getDirectory(own).has("newNonce")).isTrue();
    }

    @Test
    void requestCountGrowsByExactlyOnePerAcmeRequest() throws Exception {
        OkHttpClient client = pebble.httpClient();
        JsonNode dir = getDirectory(client);
        String newNonce = dir.path("newNonce").asText();
        String noncePath = java.net.URI.create(newNonce).getPath();

        int before = pebble.requestCount();
        String dirAgain;
        try (Response r = client.newCall(new Request.Builder().url(pebble.directoryUrl()).get().build()).execute()) {
            assertThat(r.code()).isEqualTo(200);
            dirAgain = r.body().string();
        }
        assertThat(dirAgain).contains("newNonce");
        try (Response r = client.newCall(new Request.Builder().url(newNonce).head().build()).execute()) {
            assertThat(r.code()).isEqualTo(200);
            assertThat(r.header("Replay-Nonce")).isNotBlank();
        }
        assertThat(pebble.requestCount()).isEqualTo(before + 2);
        List<String> log = pebble.requestLog();
        assertThat(log.subList(log.size() - 2, log.size())).containsExactly("GET /dir", "HEAD " + noncePath);

        // Management API calls are not counted.
        pebble.rootPem(0);
        pebble.intermediatePem(0);
        assertThat(pebble.requestCount()).isEqualTo(before + 2);
    }

    @Test
    void managementServesRootAndIntermediatePem() throws Exception {
        String rootPem = pebble.rootPem(0);
        assertThat(rootPem).startsWith("-----BEGIN CERTIFICATE-----");
        X509Certificate root = pebble.rootCertificate(0);
        X509Certificate intermediate = pebble.intermediateCertificate(0);
        assertThat(root.getSubjectX500Principal().getName()).contains("Pebble Root CA");
        assertThat(intermediate.getSubjectX500Principal().getName()).contains("Pebble Intermediate CA");
        intermediate.verify(root.getPublicKey()); // the intermediate is issued by the root
        assertThat(pebble.intermediatePem(0)).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(pebble.rootKeyPem(0)).contains("PRIVATE KEY");

        // No alternate roots by default.
        assertThatThrownBy(() -> pebble.rootPem(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("404");
        // Unknown serial: null.
        assertThat(pebble.certStatusBySerial(new BigInteger("123456789abcdef", 16))).isNull();
    }

    @Test
    void challTestSrvServesMockDnsOverRealUdpQueries() {
        ChallTestSrv dns = pebble.challTestSrv();
        assertThat(dns).isNotNull();
        assertThat(pebble.dnsServer()).isEqualTo(dns.dnsAddress()).isEqualTo("127.0.0.1:" + dns.dnsPort());

        // Any name resolves to 127.0.0.1 by default; no AAAA (defaultIPv6 "").
        assertThat(dns.lookupA("anything.example.test")).containsExactly("127.0.0.1");

        String host = "_acme-challenge.harness.example.com"; // trailing dot added by ChallTestSrv
        assertThat(dns.lookupTxt(host)).isEmpty();
        dns.setTxt(host, "value-1");
        assertThat(dns.lookupTxt(host)).containsExactly("value-1");
        dns.setTxt(host + ".", "value-2"); // values accumulate
        assertThat(dns.lookupTxt(host)).containsExactlyInAnyOrder("value-1", "value-2");
        dns.clearTxt(host);
        assertThat(dns.lookupTxt(host)).isEmpty();

        dns.addA("pinned.example.test", "10.1.2.3", "10.1.2.4");
        assertThat(dns.lookupA("pinned.example.test.")).containsExactlyInAnyOrder("10.1.2.3", "10.1.2.4");
        dns.clearA("pinned.example.test");
        assertThat(dns.lookupA("pinned.example.test")).containsExactly("127.0.0.1");
    }

    @Test
    void http01ResponderServesRegisteredTokens() throws Exception {
        try (Http01TestResponder responder = Http01TestResponder.start(0)) {
            responder.put("tok-1", "tok-1.thumbprint");
            OkHttpClient client = pebble.httpClient();
            String url = "http://127.0.0.1:" + responder.port() + Http01TestResponder.PREFIX + "tok-1";
            try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) {
                assertThat(r.code()).isEqualTo(200);
                assertThat(r.body().string()).isEqualTo("tok-1.thumbprint");
                assertThat(r.header("Content-Type")).isEqualTo("text/plain");
            }
            responder.remove("tok-1");
            try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) {
                assertThat(r.code()).isEqualTo(404);
            }
            assertThat(responder.hits("tok-1")).isEqualTo(2);
        }
        // It can bind Pebble's http-01 port, which is where the VA connects.
        try (Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            assertThat(responder.port()).isEqualTo(pebble.httpPort());
        }
    }

    @Test
    void builderOptionsReachPebble() throws Exception {
        Pebble.Builder base = Pebble.builder().nonceRejectPercent(0);
        Pebble.Builder custom = base
                .eabRequired(Map.of("kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"))
                .alternateRoots(1)
                .chainLength(2)
                .authzReusePercent(100)
                .certificateValidityPeriod(3600)
                .domainBlocklist("blocked.example");
        try (Pebble other = custom.start()) {
            assertThat(other.directoryUrl()).isNotEqualTo(pebble.directoryUrl());
            Request req = new Request.Builder().url(other.directoryUrl()).get().build();
            try (Response r = other.httpClient().newCall(req).execute()) {
                JsonNode dir = MAPPER.readTree(r.body().string());
                assertThat(dir.path("meta").path("externalAccountRequired").asBoolean()).isTrue();
            }
            assertThat(other.rootPem(1)).startsWith("-----BEGIN CERTIFICATE-----");
            assertThat(other.rootCertificate(1)).isNotEqualTo(other.rootCertificate(0));
            assertThat(other.env()).containsEntry("PEBBLE_VA_NOSLEEP", "1")
                    .containsEntry("PEBBLE_WFE_NONCEREJECT", "0");
            String log = other.log();
            assertThat(log).contains("Using certificate validity period of 3600 seconds")
                    .contains("Disabling random VA sleeps")
                    .contains("reject 0% of good nonces")
                    .contains("authz reuse for each identifier 100%");
            assertThat(other.requestCount()).isEqualTo(1);
            // A different instance has a different listener CA: our default client must not trust it.
            assertThatThrownBy(() -> pebble.httpClient().newCall(req).execute().close())
                    .isInstanceOf(SSLException.class);
        }
        // Builders are immutable: the base still has no EAB.
        try (Pebble plain = base.dnsServer(pebble.dnsServer()).start()) {
            assertThat(plain.eabRequired()).isFalse();
            assertThat(plain.challTestSrv()).isNull();
            assertThat(plain.dnsServer()).isEqualTo(pebble.dnsServer());
        }
    }

    @Test
    void defaultNonceRejectionIsLeftAlone() {
        assertThat(pebble.env()).containsOnlyKeys("PEBBLE_VA_NOSLEEP");
        assertThat(pebble.log()).contains("Configured to reject 5% of good nonces");
    }

    @Test
    void closeKillsProcessesAndDeletesFiles() {
        Pebble p = Pebble.builder().start();
        Path dir = p.directory();
        ChallTestSrv cts = p.challTestSrv();
        assertThat(Files.exists(p.configFile())).isTrue();
        p.close();
        p.close(); // idempotent
        assertThat(p.isAlive()).isFalse();
        assertThat(cts.isAlive()).isFalse();
        if (!Boolean.getBoolean("anvil.pebble.keepFiles")) {
            assertThat(Files.exists(dir)).isFalse();
        }
        assertThat(p.requestLog()).isEmpty();
        assertThatThrownBy(() -> p.rootPem(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void challTestSrvPortClashIsDetectedQuickly() throws Exception {
        int port = Pebble.freeTcpAndUdpPort();
        try (java.net.DatagramSocket taken = new java.net.DatagramSocket(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port))) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> ChallTestSrv.startOnce(Pebble.requireInstalled("pebble-challtestsrv"),
                    taken.getLocalPort(), Pebble.freeTcpPort()))
                    .isInstanceOf(ChallTestSrv.PortClashException.class)
                    .hasMessageContaining("address already in use");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void missingBinaryGivesInstallInstructions() {
        assertThat(Pebble.locate("pebble", "/nonexistent-dir")).isEmpty();
        assertThat(Pebble.locate("pebble", System.getenv("PATH"))).isPresent();
        assertThatThrownBy(() -> Pebble.requireInstalled("pebble-surely-not-installed-xyz"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("pebble is not installed: run `apt-get update && apt-get install -y pebble`"
                        + " (Debian package pebble provides pebble and pebble-challtestsrv)");
    }
}
