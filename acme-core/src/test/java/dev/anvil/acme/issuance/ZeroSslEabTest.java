package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeNetworkException;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.ExternalAccountBinding;
import dev.anvil.acme.retry.Cause;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link ZeroSslEab} against a MockWebServer playing ZeroSSL's EAB API (field notes, section 2). */
class ZeroSslEabTest {

    private static final String ACCESS_KEY = "s3cr3tAccessKey0123456789abcdef";
    private static final String HMAC = "Q2hhbmdlTWVQbGVhc2VfX19fX19fX19fX19fX19fX19fX19fX19fX18";

    private MockWebServer server;
    private OkHttpClient http;
    private String apiBase;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.start();
        apiBase = server.url("/").toString();
        http = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
    }

    private static MockResponse success(String kid) {
        return json(200, "{\"success\":true,\"eab_kid\":\"" + kid + "\",\"eab_hmac_key\":\"" + HMAC + "\"}");
    }

    private RecordedRequest take() throws InterruptedException {
        RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(r).as("a request reached the fake ZeroSSL API").isNotNull();
        return r;
    }

    @Test
    void emailIsPostedAsAUrlEncodedForm() throws Exception {
        server.enqueue(success("kid-email-1"));

        ExternalAccountBinding eab = ZeroSslEab.forEmail(apiBase, "ops+acme@example.com").fetch(http);

        assertThat(eab.kid()).isEqualTo("kid-email-1");
        assertThat(eab).isEqualTo(ExternalAccountBinding.of("kid-email-1", HMAC));
        assertThat(eab.algorithm()).isEqualTo("HS256");
        RecordedRequest r = take();
        assertThat(r.getMethod()).isEqualTo("POST");
        assertThat(r.getUrl().encodedPath()).isEqualTo("/acme/eab-credentials-email");
        assertThat(r.getUrl().querySize()).isZero();
        assertThat(r.getHeaders().get("Content-Type")).startsWith("application/x-www-form-urlencoded");
        assertThat(r.getBody()).isNotNull();
        assertThat(r.getBody().utf8()).isEqualTo("email=ops%2Bacme%40example.com");
    }

    @Test
    void accessKeyIsSentAsQueryParameter() throws Exception {
        server.enqueue(success("kid-key-1"));

        ExternalAccountBinding eab = ZeroSslEab.forApiKey(apiBase, "  " + ACCESS_KEY + "\n").fetch(http);

        assertThat(eab.kid()).isEqualTo("kid-key-1");
        RecordedRequest r = take();
        assertThat(r.getMethod()).isEqualTo("POST");
        assertThat(r.getUrl().encodedPath()).isEqualTo("/acme/eab-credentials");
        assertThat(r.getUrl().queryParameter("access_key")).isEqualTo(ACCESS_KEY);
        assertThat(r.getUrl().querySize()).isEqualTo(1);
    }

    @Test
    void apiBaseWithAPathPrefixIsKept() throws Exception {
        server.enqueue(success("kid-prefixed"));
        ZeroSslEab.forEmail(server.url("/zerossl/").toString(), "me@example.com").fetch(http);
        assertThat(take().getUrl().encodedPath()).isEqualTo("/zerossl/acme/eab-credentials-email");
    }

    @Test
    void failureJsonNamesTheTypeAndNeverTheAccessKey() {
        server.enqueue(json(200, "{\"success\":false,\"error\":{\"code\":101,\"type\":\"invalid_access_key\","
                + "\"info\":\"You have not supplied a valid API Access Key.\"}}"));

        AcmeException e = catchThrowableOfType(AcmeException.class,
                () -> ZeroSslEab.forApiKey(apiBase, ACCESS_KEY).fetch(http));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("invalid_access_key").contains("101").doesNotContain(ACCESS_KEY);
        assertThat(e).isNotInstanceOf(AcmeServerException.class).isNotInstanceOf(AcmeProtocolException.class);
        // a refusal is the user's to fix: the engine does not retry it
        assertThat(IssuanceEngine.classify(e)).isNull();
        assertThat(String.valueOf(e.getCause())).doesNotContain(ACCESS_KEY);
    }

    @Test
    void failureJsonWithAnErrorStatusForAnEmail() {
        server.enqueue(json(400, "{\"success\":false,\"error\":{\"code\":2900,\"type\":\"invalid_email\",\"info\":null}}"));

        assertThatThrownBy(() -> ZeroSslEab.forEmail(apiBase, "me@example.com").fetch(http))
                .isInstanceOf(AcmeException.class)
                .hasMessageContaining("invalid_email")
                .hasMessageContaining("400")
                .hasMessageContaining("email");
    }

    @Test
    void failureWithoutAnErrorObjectStillFailsClearly() {
        server.enqueue(json(200, "{\"success\":false}"));
        assertThatThrownBy(() -> ZeroSslEab.forApiKey(apiBase, ACCESS_KEY).fetch(http))
                .isInstanceOf(AcmeException.class)
                .hasMessageContaining("ZeroSSL refused")
                .hasMessageNotContaining(ACCESS_KEY);
    }

    @Test
    void serverErrorWithHtmlIsAClearRetryableError() {
        server.enqueue(new MockResponse.Builder().code(502).setHeader("Content-Type", "text/html")
                .body("<html><body><h1>502 Bad Gateway</h1></body></html>").build());

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> ZeroSslEab.forApiKey(apiBase, ACCESS_KEY).fetch(http));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(502);
        assertThat(e.getMessage()).contains("502").contains("/acme/eab-credentials").doesNotContain(ACCESS_KEY);
        assertThat(e.url()).doesNotContain(ACCESS_KEY);
        assertThat(IssuanceEngine.classify(e)).isEqualTo(Cause.SERVER_ERROR);
    }

    @Test
    void serviceUnavailableCarriesRetryAfter() {
        server.enqueue(new MockResponse.Builder().code(503).setHeader("Content-Type", "text/html")
                .setHeader("Retry-After", "30").body("<html>maintenance</html>").build());

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> ZeroSslEab.forEmail(apiBase, "me@example.com").fetch(http));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryAfter()).isPresent();
        assertThat(IssuanceEngine.classify(e)).isEqualTo(Cause.UNAVAILABLE);
    }

    @Test
    void successStatusWithGarbageIsAProtocolError() {
        server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html").body("<html>").build());
        assertThatThrownBy(() -> ZeroSslEab.forApiKey(apiBase, ACCESS_KEY).fetch(http))
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageNotContaining(ACCESS_KEY);
    }

    @Test
    void oversizedBodyIsAProtocolError() {
        String padding = " ".repeat(70_000);
        server.enqueue(json(200, "{\"success\":true,\"eab_kid\":\"k\",\"eab_hmac_key\":\"" + HMAC + "\"}" + padding));

        assertThatThrownBy(() -> ZeroSslEab.forApiKey(apiBase, ACCESS_KEY).fetch(http))
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("exceeds")
                .hasMessageNotContaining(ACCESS_KEY);
    }

    @Test
    void successWithoutCredentialsIsAProtocolError() {
        server.enqueue(json(200, "{\"success\":true,\"eab_kid\":\"k\"}"));
        assertThatThrownBy(() -> ZeroSslEab.forEmail(apiBase, "me@example.com").fetch(http))
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("eab_hmac_key");
    }

    @Test
    void successWithAnUnreadableKeyIsAProtocolError() {
        server.enqueue(json(200, "{\"success\":true,\"eab_kid\":\"k\",\"eab_hmac_key\":\"not*base64!\"}"));
        assertThatThrownBy(() -> ZeroSslEab.forEmail(apiBase, "me@example.com").fetch(http))
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("base64url")
                .hasMessageNotContaining("not*base64!");
    }

    @Test
    void unreachableApiIsANetworkErrorWithoutTheKey() throws Exception {
        MockWebServer gone = new MockWebServer();
        gone.start();
        String base = gone.url("/").toString();
        gone.close();

        AcmeNetworkException e = catchThrowableOfType(AcmeNetworkException.class,
                () -> ZeroSslEab.forApiKey(base, ACCESS_KEY).fetch(http));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("/acme/eab-credentials").doesNotContain(ACCESS_KEY);
        assertThat(e.url()).doesNotContain(ACCESS_KEY);
    }

    @Test
    void toStringRedactsTheApiKey() {
        ZeroSslEab byKey = ZeroSslEab.forApiKey(apiBase, ACCESS_KEY);
        assertThat(byKey.toString()).doesNotContain(ACCESS_KEY).contains("redacted");
        assertThat(ZeroSslEab.forEmail(apiBase, "me@example.com").toString()).contains("me@example.com");
    }

    @Test
    void invalidInputsAreRejectedUpFront() {
        assertThatThrownBy(() -> ZeroSslEab.forEmail(apiBase, "not-an-email"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZeroSslEab.forEmail(apiBase, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZeroSslEab.forApiKey(apiBase, "  ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZeroSslEab.forApiKey(apiBase, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void zeroSslPresetFetchesEabForTheEmail() {
        CertificateAuthority ca = CertificateAuthority.zeroSsl("me@example.com");
        assertThat(ca.eab()).isInstanceOf(ZeroSslEab.class);
        assertThat(ca.directoryUrls()).containsExactly("https://acme.zerossl.com/v2/DV90");
        assertThat(ca.contacts()).containsExactly("me@example.com");
        assertThat(ca.toString()).contains("EAB");
    }
}
