package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AcmeRetriesExhaustedException;
import dev.anvil.acme.retry.Attempt;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.solver.ChallengeContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PowerDnsProvider}'s request shapes and error paths on a MockWebServer that answers like
 * PowerDNS 4.7 (JSON bodies, {"error": "..."} on failure), driven through {@link Dns01Solver}
 * so the retries go through the backoff.
 */
class PowerDnsProviderErrorsTest {

    private static final String KEY = "test-api-key-5f1c2e";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ZONES = "[{\"id\": \"example.test.\", \"name\": \"example.test.\", \"kind\": \"Native\","
            + " \"url\": \"/api/v1/servers/localhost/zones/example.test.\"}]";

    private MockWebServer server;
    private Dns01SolverTest.RecordingBackoff backoff;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start();
        backoff = new Dns01SolverTest.RecordingBackoff(5);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private PowerDnsProvider provider() {
        return PowerDnsProvider.builder(server.url("/").toString(), KEY)
                .clock(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)).build();
    }

    private Dns01Solver solver() {
        return Dns01Solver.builder(provider()).propagation(PropagationChecker.disabled()).followCnames(false)
                .backoff(backoff).build();
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
    }

    private static MockResponse rrset(String... contents) {
        StringBuilder records = new StringBuilder();
        for (String c : contents) {
            records.append(records.length() == 0 ? "" : ", ").append("{\"content\": \"")
                    .append(c.replace("\"", "\\\"")).append("\", \"disabled\": false}");
        }
        return json(200, "{\"name\": \"example.test.\", \"rrsets\": [{\"name\": \"_acme-challenge.www.example.test.\","
                + " \"type\": \"TXT\", \"ttl\": 120, \"records\": [" + records + "], \"comments\": []},"
                + " {\"name\": \"example.test.\", \"type\": \"SOA\", \"ttl\": 3600, \"records\": []}]}");
    }

    private RecordedRequest take() throws InterruptedException {
        RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(r).as("request").isNotNull();
        assertThat(r.getHeaders().get("X-API-Key")).isEqualTo(KEY);
        return r;
    }

    @Test
    void readsTheRrsetThenReplacesItWithTheValueAddedOrRemoved() throws Exception {
        ChallengeContext c = Dns01SolverTest.context("www.example.test", false, "tok");
        String value = c.dnsTxtValue();
        server.enqueue(json(200, ZONES));
        server.enqueue(rrset("\"other-value\""));
        server.enqueue(new MockResponse.Builder().code(204).build());
        server.enqueue(rrset("\"other-value\"", "\"" + value + "\""));
        server.enqueue(new MockResponse.Builder().code(204).build());
        Dns01Solver s = solver();
        s.present(c);
        s.cleanUp(c);

        assertThat(take().getRequestLine()).isEqualTo("GET /api/v1/servers/localhost/zones?dnssec=false HTTP/1.1");
        RecordedRequest read = take();
        assertThat(read.getUrl().encodedPath()).isEqualTo("/api/v1/servers/localhost/zones/example.test.");
        assertThat(read.getUrl().queryParameter("rrset_name")).isEqualTo("_acme-challenge.www.example.test.");
        assertThat(read.getUrl().queryParameter("rrset_type")).isEqualTo("TXT");
        RecordedRequest add = take();
        assertThat(add.getMethod()).isEqualTo("PATCH");
        JsonNode rr = JSON.readTree(add.getBody().utf8()).get("rrsets").get(0);
        assertThat(rr.get("changetype").asText()).isEqualTo("REPLACE");
        assertThat(rr.get("name").asText()).isEqualTo("_acme-challenge.www.example.test.");
        assertThat(rr.get("ttl").asInt()).isEqualTo(60);
        assertThat(rr.get("records").findValuesAsText("content")).containsExactly("\"other-value\"", "\"" + value + "\"");

        take();
        JsonNode removed = JSON.readTree(take().getBody().utf8()).get("rrsets").get(0);
        assertThat(removed.get("changetype").asText()).isEqualTo("REPLACE");
        assertThat(removed.get("ttl").asInt()).isEqualTo(120);
        assertThat(removed.get("records").findValuesAsText("content")).containsExactly("\"other-value\"");
        assertThat(backoff.attempts).isEmpty();
    }

    @Test
    void removingTheLastValueDeletesTheRrset() throws Exception {
        server.enqueue(json(200, ZONES));
        server.enqueue(rrset("\"last\""));
        server.enqueue(new MockResponse.Builder().code(204).build());
        PowerDnsProvider p = provider();
        p.removeTxt("example.test", "_acme-challenge.www.example.test", "last");
        take();
        take();
        JsonNode rr = JSON.readTree(take().getBody().utf8()).get("rrsets").get(0);
        assertThat(rr.get("changetype").asText()).isEqualTo("DELETE");
        assertThat(rr.has("ttl")).isFalse();
        assertThat(rr.get("records")).isEmpty();
        assertThat(p.toString()).doesNotContain(KEY);
    }

    @Test
    void serverErrorsAreRetriedThroughTheBackoff() throws Exception {
        ChallengeContext c = Dns01SolverTest.context("www.example.test", false, "tok");
        server.enqueue(json(503, "{\"error\": \"backend unavailable\"}"));
        server.enqueue(new MockResponse.Builder().code(502).setHeader("Content-Type", "text/html")
                .body("<html>Bad Gateway</html>").build());
        server.enqueue(json(429, "{\"error\": \"slow down\"}").newBuilder().setHeader("Retry-After", "7").build());
        server.enqueue(json(200, ZONES));
        server.enqueue(rrset());
        server.enqueue(json(500, "{\"error\": \"database is locked\"}"));
        server.enqueue(rrset());
        server.enqueue(new MockResponse.Builder().code(204).build());

        solver().present(c);

        assertThat(server.getRequestCount()).isEqualTo(8);
        assertThat(backoff.attempts).extracting(Attempt::cause)
                .containsExactly(Cause.SERVER_ERROR, Cause.SERVER_ERROR, Cause.RATE_LIMITED, Cause.SERVER_ERROR);
        assertThat(backoff.attempts).extracting(Attempt::number).containsExactly(1, 2, 3, 1);
        assertThat(backoff.attempts.get(0).error()).hasMessageContaining("PowerDNS failed listing zones (HTTP 503):"
                + " backend unavailable");
        assertThat(backoff.attempts.get(1).error()).hasMessageContaining("HTTP 502").hasMessageContaining("Bad Gateway");
        assertThat(backoff.attempts.get(2).retryAfter()).isEqualTo(Instant.parse("2026-01-01T00:00:07Z"));
        assertThat(backoff.attempts.get(3).error()).hasMessageContaining("database is locked");
    }

    @Test
    void aRetryAfterDateIsHonouredAndTheBackoffMayGiveUp() {
        for (int i = 0; i < 5; i++) {
            server.enqueue(json(429, "{\"error\": \"rate limited\"}").newBuilder()
                    .setHeader("Retry-After", "Thu, 01 Jan 2026 00:01:00 GMT").build());
        }
        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> solver().present(Dns01SolverTest.context("www.example.test", false, "tok")));
        assertThat(e.attempts()).isEqualTo(5);
        assertThat(e.retryAfter()).contains(Instant.parse("2026-01-01T00:01:00Z"));
        assertThat(backoff.attempts).allSatisfy(a -> assertThat(a.cause()).isEqualTo(Cause.RATE_LIMITED));
    }

    @Test
    void validationErrorsAreSurfacedAndNotRetried() {
        server.enqueue(json(200, ZONES));
        server.enqueue(rrset());
        server.enqueue(json(422, "{\"error\": \"RRset _acme-challenge.www.example.test. IN TXT: Conflicts with"
                + " pre-existing RRset\"}"));
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> solver().present(Dns01SolverTest.context("www.example.test", false, "tok")));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessage("PowerDNS refused adding TXT at _acme-challenge.www.example.test (HTTP 422): RRset"
                + " _acme-challenge.www.example.test. IN TXT: Conflicts with pre-existing RRset");
        assertThat(backoff.attempts).isEmpty();
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void authenticationFailuresNameTheKeyButNeverShowIt() {
        server.enqueue(new MockResponse.Builder().code(401).setHeader("WWW-Authenticate", "X-API-Key realm=\"PowerDNS\"")
                .body("Unauthorized").build());
        server.enqueue(json(403, "{\"error\": \"key " + KEY + " is not allowed\"}"));
        DnsProviderException e401 = catchThrowableOfType(DnsProviderException.class,
                () -> provider().findZone("_acme-challenge.www.example.test"));
        assertThat(e401.retryable()).isFalse();
        assertThat(e401).hasMessageContaining("PowerDNS rejected the API key (HTTP 401) while listing zones");
        DnsProviderException e403 = catchThrowableOfType(DnsProviderException.class,
                () -> provider().findZone("_acme-challenge.www.example.test"));
        assertThat(e403).hasMessageContaining("HTTP 403");
        for (Exception e : new Exception[] {e401, e403}) {
            assertThat(e.getMessage()).doesNotContain(KEY);
        }
    }

    @Test
    void otherErrorsQuoteTheServersMessage() {
        server.enqueue(json(200, ZONES));
        server.enqueue(json(404, "{\"error\": \"Could not find domain 'example.test.'\"}"));
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> provider()
                .addTxt("example.test", "_acme-challenge.www.example.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageContaining("not found (HTTP 404").hasMessageContaining("Could not find domain");

        server.enqueue(json(400, "{\"error\": \"Invalid JSON\", \"errors\": [\"Invalid JSON\", \"line 1\"]}"));
        e = catchThrowableOfType(DnsProviderException.class, () -> provider().findZone("a.example.test"));
        assertThat(e).hasMessageEndingWith("(HTTP 400): Invalid JSON; line 1");
    }

    @Test
    void badConfigurationFailsFastWithoutQuotingTheKey() {
        String withNewline = "secret-part\nrest";
        assertThatIllegal(() -> PowerDnsProvider.builder("http://127.0.0.1:1", withNewline), "not allowed in an HTTP header",
                withNewline);
        assertThatIllegal(() -> PowerDnsProvider.builder("ftp://x", KEY), "http or https URL", KEY);
        assertThatIllegal(() -> PowerDnsProvider.builder("http://127.0.0.1:1", "  "), "empty", KEY);
        // Surrounding whitespace (a trailing newline from a secrets file) is forgiven.
        server.enqueue(json(200, ZONES));
        PowerDnsProvider p = PowerDnsProvider.builder(server.url("/").toString(), " " + KEY + "\n").build();
        assertThat(p.findZone("_acme-challenge.example.test")).isEqualTo("example.test");
    }

    private static void assertThatIllegal(Runnable r, String message, String secret) {
        IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, r::run);
        assertThat(e).hasMessageContaining(message);
        assertThat(e.getMessage()).doesNotContain(secret);
    }

    @Test
    void txtContentIsQuotedAndParsedLikeAZoneFile() {
        assertThat(PowerDnsProvider.quote("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(PowerDnsProvider.unquote("\"a\\\"b\\\\c\"")).isEqualTo("a\"b\\c");
        assertThat(PowerDnsProvider.unquote("\"abc\" \"def\"")).isEqualTo("abcdef");
        assertThat(PowerDnsProvider.unquote("\"a\\065b\"")).isEqualTo("aAb");
        assertThat(PowerDnsProvider.unquote("bare")).isEqualTo("bare");
    }
}
