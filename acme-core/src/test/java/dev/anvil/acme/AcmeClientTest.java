package dev.anvil.acme;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.Base64URL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocketFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link AcmeClient} against a scripted MockWebServer: directory, nonces, request shapes (JWS),
 * external account binding, error mapping, response limits, network failures and HTTPS enforcement.
 */
class AcmeClientTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final KeyPair ACCOUNT_KEY = TestCertificates.ecKey("secp256r1");
    static final KeyPair OTHER_KEY = TestCertificates.ecKey("secp256r1");
    static final String ACME_ERROR = "urn:ietf:params:acme:error:";

    static final TestCertificates.Tls TLS = TestCertificates.localhostTls();

    FakeCa ca;
    FakeCa secure;
    AcmeClient secureClient;

    @BeforeEach
    void startCa() {
        ca = new FakeCa();
        secure = new FakeCa(TLS.serverSocketFactory());
        secureClient = AcmeClient.builder(secure.directoryUrl()).httpClient(TLS.httpClient()).build();
    }

    @AfterEach
    void stopCa() {
        ca.close();
        secure.close();
    }

    // ------------------------------------------------------------------ directory

    @Test
    void directoryIsFetchedOncePerClientEvenWithConcurrentCallers() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        ca.directoryGate = gate;
        AcmeClient client = ca.client();
        int callers = 8;
        AtomicReferenceArray<Directory> results = new AtomicReferenceArray<>(callers);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                try {
                    results.set(index, client.fetchDirectory());
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "fetchDirectory-" + i);
            threads.add(t);
            t.start();
        }
        // Hold the first directory request at the server until every other caller is waiting for it.
        awaitCondition(() -> ca.count("GET /dir") >= 1
                && threads.stream().filter(t -> t.getState() == Thread.State.BLOCKED).count() == callers - 1);
        gate.countDown();
        for (Thread t : threads) {
            t.join(10_000);
        }

        assertThat(errors).isEmpty();
        assertThat(ca.count("GET /dir")).isEqualTo(1);
        Directory first = results.get(0);
        for (int i = 0; i < callers; i++) {
            assertThat(results.get(i)).isSameAs(first);
        }
        assertThat(client.fetchDirectory()).isSameAs(first);
        assertThat(ca.count("GET /dir")).isEqualTo(1);

        // The cache is per client: another client fetches its own copy.
        ca.client().fetchDirectory();
        assertThat(ca.count("GET /dir")).isEqualTo(2);
    }

    @Test
    void directoryRequestIsAPlainGetWithAcceptAndUserAgent() {
        ca.client().fetchDirectory();

        RecordedRequest r = ca.requests("GET /dir").get(0);
        assertThat(r.getHeaders().get("Accept")).isEqualTo("application/json");
        assertThat(r.getHeaders().get("User-Agent")).startsWith("Anvil/").contains("Java/");
        assertThat(r.getBodySize()).isZero();
    }

    @Test
    void directoryEntriesAndMetaAreParsed() {
        ca.directory.put("renewalInfo", ca.url("/renewal-info"));
        ObjectNode meta = ca.directory.putObject("meta");
        meta.put("termsOfService", "https://ca.example/tos/v3.pdf");
        meta.put("website", "https://ca.example/");
        meta.putArray("caaIdentities").add("ca.example").add("ca-alt.example");
        meta.put("externalAccountRequired", true);
        meta.putObject("profiles").put("classic", "The 90-day profile").put("shortlived", "Six days");

        Directory d = ca.client().fetchDirectory();

        assertThat(d.newNonce()).isEqualTo(ca.url("/new-nonce"));
        assertThat(d.newAccount()).isEqualTo(ca.url("/new-acct"));
        assertThat(d.newOrder()).isEqualTo(ca.url("/new-order"));
        assertThat(d.newAuthz()).isEqualTo(ca.url("/new-authz"));
        assertThat(d.revokeCert()).isEqualTo(ca.url("/revoke-cert"));
        assertThat(d.keyChange()).isEqualTo(ca.url("/key-change"));
        assertThat(d.renewalInfo()).isEqualTo(ca.url("/renewal-info"));
        assertThat(d.supportsPreAuthorization()).isTrue();
        assertThat(d.supportsRenewalInfo()).isTrue();
        assertThat(d.meta().termsOfService()).isEqualTo("https://ca.example/tos/v3.pdf");
        assertThat(d.meta().website()).isEqualTo("https://ca.example/");
        assertThat(d.meta().caaIdentities()).containsExactly("ca.example", "ca-alt.example");
        assertThat(d.meta().externalAccountRequired()).isTrue();
        assertThat(d.meta().profiles()).containsOnly(
                Map.entry("classic", "The 90-day profile"), Map.entry("shortlived", "Six days"));
    }

    @Test
    void directoryWithoutMetaOrOptionalEntriesHasSafeDefaults() {
        ca.directory.remove("meta");
        ca.directory.remove("newAuthz");
        ca.directory.remove("keyChange");
        ca.directory.remove("revokeCert");

        Directory d = ca.client().fetchDirectory();

        assertThat(d.newAuthz()).isNull();
        assertThat(d.supportsPreAuthorization()).isFalse();
        assertThat(d.supportsRenewalInfo()).isFalse();
        assertThat(d.meta().externalAccountRequired()).isFalse();
        assertThat(d.meta().profiles()).isEmpty();
        assertThat(d.meta().caaIdentities()).isEmpty();
        assertThat(d.meta().termsOfService()).isNull();
    }

    @Test
    void unknownDirectoryFieldsAreTolerated() {
        // Boulder adds a random key pointing at an announcement; future RFCs add entries and meta fields.
        ca.directory.put("x7Fq2kLm9pQ", "https://community.example/t/adding-random-entries-to-the-directory");
        ca.directory.putObject("someFutureEntry").put("nested", 1).putArray("list").add(true);
        ((ObjectNode) ca.directory.get("meta")).put("unknownMeta", 42).putObject("more").put("x", "y");

        Directory d = ca.client().fetchDirectory();

        assertThat(d.newAccount()).isEqualTo(ca.url("/new-acct"));
        assertThat(d.meta().termsOfService()).isEqualTo("https://ca.example/tos");
    }

    @ParameterizedTest
    @ValueSource(strings = {"newNonce", "newAccount", "newOrder"})
    void directoryMissingARequiredEntryIsAProtocolError(String entry) {
        ca.directory.remove(entry);

        assertThatThrownBy(() -> ca.client().fetchDirectory())
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("lacks newNonce, newAccount or newOrder");
    }

    @Test
    void directoryThatIsNotJsonIsAProtocolError() {
        ca.always("GET /dir", new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html")
                .body("<html><body>Welcome to nginx</body></html>").build());

        assertThatThrownBy(() -> ca.client().fetchDirectory()).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("content type");
    }

    @Test
    void malformedDirectoryJsonIsAProtocolError() {
        ca.always("GET /dir", json(200, "{\"newNonce\": \"" + ca.url("/new-nonce") + "\","));

        assertThatThrownBy(() -> ca.client().fetchDirectory()).isInstanceOf(AcmeProtocolException.class);
    }

    @Test
    void aFailedDirectoryFetchIsNotCached() {
        ca.enqueue("GET /dir", problem(503, ACME_ERROR + "serverInternal", "maintenance"));
        AcmeClient client = ca.client();

        assertThatThrownBy(client::fetchDirectory).isInstanceOf(AcmeServerException.class);
        Directory d = client.fetchDirectory();

        assertThat(d.newOrder()).isEqualTo(ca.url("/new-order"));
        assertThat(ca.count("GET /dir")).isEqualTo(2);
    }

    // ------------------------------------------------------------------ nonces

    @Test
    void newNonceIsRequestedOnlyWhenThePoolIsEmptyAndEachReplayNonceIsUsedNext() throws Exception {
        ca.enqueue("POST /new-acct", created(ca.url("/acct/1"), accountJson()));
        ca.always("POST /acct/1", json(200, accountJson()));
        AcmeClient client = ca.client();

        AccountSession session = client.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms());
        session.fetchAccount();
        session.fetchAccount();

        assertThat(ca.count("HEAD /new-nonce")).isEqualTo(1);
        assertThat(ca.requests("HEAD /new-nonce").get(0).getHeaders().get("User-Agent")).startsWith("Anvil/");
        List<String> used = ca.posts().stream().map(r -> signed(r).nonce()).toList();
        List<String> issued = ca.issuedNonces();
        // issued: [HEAD, newAccount response, first fetch response, second fetch response]
        assertThat(issued).hasSize(4).doesNotHaveDuplicates();
        assertThat(used).containsExactly(issued.get(0), issued.get(1), issued.get(2));
    }

    @Test
    void aReplayNonceOnTheDirectoryResponseSavesTheHeadRequest() {
        ca.always("GET /dir", withHeader(json(200, ca.directory.toString()), "Replay-Nonce", "fromTheDirectory"));
        ca.enqueue("POST /new-acct", created(ca.url("/acct/1"), accountJson()));

        ca.client().newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms());

        assertThat(ca.count("HEAD /new-nonce")).isZero();
        assertThat(signed(ca.posts().get(0)).nonce()).isEqualTo("fromTheDirectory");
    }

    @Test
    void aMalformedReplayNonceIsNotPooled() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.enqueue("POST /acct/1", withHeader(json(200, accountJson()), "Replay-Nonce", "not a nonce!"),
                json(200, accountJson()));

        session.fetchAccount();
        session.fetchAccount();

        assertThat(ca.count("HEAD /new-nonce")).isEqualTo(2);
        assertThat(ca.posts().stream().map(r -> signed(r).nonce())).doesNotContain("not a nonce!");
    }

    @Test
    void newNonceResponseWithoutReplayNonceIsAProtocolError() {
        ca.autoNonce = false;
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));

        assertThatThrownBy(session::fetchAccount).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("Replay-Nonce");
        assertThat(ca.posts()).isEmpty();
    }

    @Test
    void badNonceIsRetriedWithTheNonceFromTheErrorResponse() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.enqueue("POST /acct/1",
                withHeader(problem(400, ACME_ERROR + "badNonce", "JWS has an invalid anti-replay nonce"),
                        "Replay-Nonce", "fromTheError"),
                json(200, accountJson()));

        Account account = session.fetchAccount();

        assertThat(account.status()).isEqualTo(Status.VALID);
        List<RecordedRequest> posts = ca.requests("POST /acct/1");
        assertThat(posts).hasSize(2);
        Signed retry = signed(posts.get(1));
        assertThat(retry.nonce()).isEqualTo("fromTheError");
        assertThat(retry.header().get("url").asText()).isEqualTo(ca.url("/acct/1"));
        assertThat(retry.verifiedBy(ACCOUNT_KEY.getPublic())).isTrue();
        assertThat(ca.count("HEAD /new-nonce")).isEqualTo(1);
    }

    @Test
    void badNonceRetriesAreBoundedAndThenRaised() {
        AccountSession session = ca.builder().maxBadNonceRetries(2).build().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", problem(400, ACME_ERROR + "badNonce", "stale"));

        AcmeBadNonceException e = catchThrowableOfType(AcmeBadNonceException.class, session::fetchAccount);

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.is("badNonce")).isTrue();
        assertThat(ca.count("POST /acct/1")).isEqualTo(3);
        // Every retry used the nonce of the error before it, never a new HEAD.
        assertThat(ca.count("HEAD /new-nonce")).isEqualTo(1);
        List<String> used = ca.posts().stream().map(r -> signed(r).nonce()).toList();
        List<String> issued = ca.issuedNonces();
        assertThat(used).containsExactly(issued.get(0), issued.get(1), issued.get(2));
    }

    @Test
    void zeroBadNonceRetriesMeansOneAttempt() {
        AccountSession session = ca.builder().maxBadNonceRetries(0).build().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", problem(400, ACME_ERROR + "badNonce", "stale"));

        assertThatThrownBy(session::fetchAccount).isInstanceOf(AcmeBadNonceException.class);
        assertThat(ca.count("POST /acct/1")).isEqualTo(1);
    }

    @Test
    void otherErrorsAreNotRetried() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", problem(403, ACME_ERROR + "unauthorized", "no"));

        assertThatThrownBy(session::fetchAccount).isExactlyInstanceOf(AcmeServerException.class);
        assertThat(ca.count("POST /acct/1")).isEqualTo(1);
    }

    @Test
    void builderRejectsUnsafeSettings() {
        AcmeClient.Builder b = ca.builder();
        assertThatThrownBy(() -> b.maxBadNonceRetries(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.maxBadNonceRetries(101)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.maxResponseBytes(1023)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ca.requests()).isEmpty();
    }

    // ------------------------------------------------------------------ request shapes

    @Test
    void newAccountIsAFlattenedJwsWithJwkSignedByTheAccountKey() throws Exception {
        ca.enqueue("POST /new-acct", created(ca.url("/acct/1"), accountJson()));
        AcmeClient client = ca.builder().userAgent("my-app/2.1").build();

        client.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms().withContact("admin@example.com"));

        RecordedRequest r = ca.requests("POST /new-acct").get(0);
        assertThat(r.getMethod()).isEqualTo("POST");
        assertThat(r.getHeaders().get("Content-Type")).isEqualTo("application/jose+json");
        assertThat(r.getHeaders().get("Accept")).isEqualTo("application/json");
        assertThat(r.getHeaders().get("User-Agent"))
                .startsWith("Anvil/" + AcmeClient.VERSION)
                .contains("Java/" + System.getProperty("java.version"))
                .endsWith(" my-app/2.1");

        Signed s = signed(r);
        assertThat(fieldNames(s.body())).containsExactlyInAnyOrder("protected", "payload", "signature");
        assertThat(fieldNames(s.header())).containsExactlyInAnyOrder("alg", "nonce", "url", "jwk");
        assertThat(s.header().get("alg").asText()).isEqualTo("ES256");
        assertThat(s.nonce()).isEqualTo(ca.issuedNonces().get(0));
        assertThat(s.header().get("url").asText()).isEqualTo(ca.url("/new-acct"));
        JsonNode jwk = s.header().get("jwk");
        assertThat(jwk.get("kty").asText()).isEqualTo("EC");
        assertThat(jwk.get("crv").asText()).isEqualTo("P-256");
        assertThat(jwk.has("d")).as("private key material in the JWK").isFalse();
        assertThat(ECKey.parse(jwk.toString()).toECPublicKey().getEncoded())
                .isEqualTo(ACCOUNT_KEY.getPublic().getEncoded());
        assertThat(s.payload()).isEqualTo(MAPPER.readTree(
                "{\"contact\":[\"mailto:admin@example.com\"],\"termsOfServiceAgreed\":true}"));
        assertThat(s.verifiedBy(ACCOUNT_KEY.getPublic())).isTrue();
        assertThat(s.verifiedBy(OTHER_KEY.getPublic())).isFalse();
    }

    @Test
    void requestsForAnExistingAccountUseKidAndPostAsGetHasAnEmptyPayload() {
        ca.always("POST /acct/1", json(200, accountJson()));
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));

        session.fetchAccount();

        RecordedRequest r = ca.requests("POST /acct/1").get(0);
        assertThat(r.getHeaders().get("Content-Type")).isEqualTo("application/jose+json");
        Signed s = signed(r);
        assertThat(fieldNames(s.header())).containsExactlyInAnyOrder("alg", "nonce", "url", "kid");
        assertThat(s.header().get("kid").asText()).isEqualTo(ca.url("/acct/1"));
        assertThat(s.header().get("url").asText()).isEqualTo(ca.url("/acct/1"));
        assertThat(s.body().get("payload").asText()).isEmpty();
        assertThat(s.verifiedBy(ACCOUNT_KEY.getPublic())).isTrue();
        assertThat(s.verifiedBy(OTHER_KEY.getPublic())).isFalse();
    }

    static Stream<Arguments> accountKeyTypes() {
        return Stream.of(
                Arguments.of("EC P-384", TestCertificates.ecKey("secp384r1"), "ES384", "P-384"),
                Arguments.of("EC P-521", TestCertificates.ecKey("secp521r1"), "ES512", "P-521"),
                Arguments.of("RSA 2048", TestCertificates.rsaKey(2048), "RS256", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accountKeyTypes")
    void theAlgorithmFollowsTheAccountKey(String name, KeyPair key, String alg, String curve) throws Exception {
        ca.enqueue("POST /new-acct", created(ca.url("/acct/1"), accountJson()));
        ca.always("POST /acct/1", json(200, accountJson()));

        ca.client().newAccount(key, NewAccount.agreeingToTerms()).fetchAccount();

        Signed withJwk = signed(ca.requests("POST /new-acct").get(0));
        assertThat(withJwk.header().get("alg").asText()).isEqualTo(alg);
        JWK jwk = JWK.parse(withJwk.header().get("jwk").toString());
        assertThat(jwk.isPrivate()).isFalse();
        if (curve != null) {
            assertThat(jwk.toECKey().getCurve().getName()).isEqualTo(curve);
            assertThat(jwk.toECKey().toECPublicKey().getEncoded()).isEqualTo(key.getPublic().getEncoded());
        } else {
            assertThat(jwk.toRSAKey().toRSAPublicKey().getEncoded()).isEqualTo(key.getPublic().getEncoded());
        }
        assertThat(withJwk.verifiedBy(key.getPublic())).isTrue();

        Signed withKid = signed(ca.requests("POST /acct/1").get(0));
        assertThat(withKid.header().get("alg").asText()).isEqualTo(alg);
        assertThat(withKid.verifiedBy(key.getPublic())).isTrue();
    }

    @Test
    void rsa1024AccountKeysAreRejectedBeforeAnythingIsSigned() {
        KeyPair weak = TestCertificates.rsaKey(1024);
        AcmeClient client = ca.client();

        assertThatThrownBy(() -> client.login(weak, ca.url("/acct/1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2048");
        assertThat(ca.requests()).isEmpty();

        assertThatThrownBy(() -> client.newAccount(weak, NewAccount.agreeingToTerms()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2048");
        assertThat(ca.posts()).isEmpty();
    }

    // ------------------------------------------------------------------ external account binding

    @ParameterizedTest
    @ValueSource(strings = {"HS256", "HS384", "HS512"})
    void externalAccountBindingIsAMacOverTheAccountKey(String alg) throws Exception {
        ((ObjectNode) ca.directory.get("meta")).put("externalAccountRequired", true);
        byte[] macKey = new byte[64];
        new SecureRandom().nextBytes(macKey);
        ExternalAccountBinding eab = ExternalAccountBinding.of("kid-42",
                Base64.getUrlEncoder().withoutPadding().encodeToString(macKey), alg);
        ca.enqueue("POST /new-acct", created(ca.url("/acct/1"), accountJson()));

        ca.client().newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms().withExternalAccountBinding(eab));

        Signed outer = signed(ca.requests("POST /new-acct").get(0));
        assertThat(outer.verifiedBy(ACCOUNT_KEY.getPublic())).isTrue();
        assertThat(outer.payload().get("termsOfServiceAgreed").asBoolean()).isTrue();
        JsonNode binding = outer.payload().get("externalAccountBinding");
        assertThat(fieldNames(binding)).containsExactlyInAnyOrder("protected", "payload", "signature");
        JsonNode header = MAPPER.readTree(b64(binding.get("protected").asText()));
        assertThat(fieldNames(header)).containsExactlyInAnyOrder("alg", "kid", "url");
        assertThat(header.get("alg").asText()).isEqualTo(alg);
        assertThat(header.get("kid").asText()).isEqualTo("kid-42");
        assertThat(header.get("url").asText()).isEqualTo(ca.url("/new-acct"));

        JWK inner = JWK.parse(new String(b64(binding.get("payload").asText()), UTF_8));
        assertThat(inner.isPrivate()).isFalse();
        assertThat(inner.toECKey().toECPublicKey().getEncoded()).isEqualTo(ACCOUNT_KEY.getPublic().getEncoded());

        JWSObject mac = new JWSObject(new Base64URL(binding.get("protected").asText()),
                new Base64URL(binding.get("payload").asText()), new Base64URL(binding.get("signature").asText()));
        assertThat(mac.verify(new MACVerifier(macKey))).isTrue();
        byte[] wrongKey = macKey.clone();
        wrongKey[0] ^= 1;
        assertThat(mac.verify(new MACVerifier(wrongKey))).isFalse();
    }

    @Test
    void missingExternalAccountBindingFailsWithoutSendingAnything() {
        ((ObjectNode) ca.directory.get("meta")).put("externalAccountRequired", true);

        assertThatThrownBy(() -> ca.client().newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms()))
                .isExactlyInstanceOf(AcmeException.class)
                .hasMessageContaining("external account binding");
        assertThat(ca.routes()).containsExactly("GET /dir");
    }

    // ------------------------------------------------------------------ errors

    @Test
    void problemDocumentsBecomeServerExceptionsWithSubproblems() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /new-order", json(400, """
                {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
                 "detail": "Some of the identifiers requested were rejected",
                 "status": 400,
                 "instance": "https://ca.example/docs/rejected",
                 "subproblems": [
                   {"type": "urn:ietf:params:acme:error:malformed",
                    "detail": "Invalid underscore in DNS name \\"_example.org\\"",
                    "identifier": {"type": "dns", "value": "_example.org"}},
                   {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
                    "detail": "This CA will not issue for \\"example.net\\"",
                    "identifier": {"type": "dns", "value": "example.net"}}
                 ]}""", "application/problem+json"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> session.newOrder(OrderRequest.of("www.example.org", "example.net")));

        assertThat(e).isExactlyInstanceOf(AcmeServerException.class);
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.url()).isEqualTo(ca.url("/new-order"));
        assertThat(e.acmeType()).isEqualTo("rejectedIdentifier");
        assertThat(e.is("rejectedIdentifier")).isTrue();
        assertThat(e.retryAfter()).isEmpty();
        Problem p = e.problem().orElseThrow();
        assertThat(p.type()).isEqualTo(ACME_ERROR + "rejectedIdentifier");
        assertThat(p.detail()).isEqualTo("Some of the identifiers requested were rejected");
        assertThat(p.status()).isEqualTo(400);
        assertThat(p.instance()).isEqualTo("https://ca.example/docs/rejected");
        assertThat(p.subproblems()).extracting(Problem::acmeType).containsExactly("malformed", "rejectedIdentifier");
        assertThat(p.subproblems()).extracting(Problem::identifier)
                .containsExactly(new Identifier("dns", "_example.org"), new Identifier("dns", "example.net"));
        assertThat(e.getMessage()).contains("HTTP 400", "Some of the identifiers requested were rejected",
                "_example.org", "example.net");
    }

    @Test
    void nonAcmeProblemTypesKeepTheProblemWithoutAnAcmeType() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", json(404, "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404}",
                "application/problem+json; charset=utf-8"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, session::fetchAccount);

        assertThat(e).isExactlyInstanceOf(AcmeServerException.class);
        assertThat(e.acmeType()).isNull();
        assertThat(e.problem()).get().extracting(Problem::title).isEqualTo("Not Found");
        assertThat(e.getMessage()).contains("Not Found");
    }

    @Test
    void rateLimitedCarriesRetryAfterInDeltaSeconds() {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        AcmeClient client = ca.builder().clock(Clock.fixed(now, ZoneOffset.UTC)).build();
        ca.always("POST /new-acct", withHeader(problem(429, ACME_ERROR + "rateLimited",
                "too many new registrations from this IP"), "Retry-After", "120"));

        AcmeRateLimitedException e = catchThrowableOfType(AcmeRateLimitedException.class,
                () -> client.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms()));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfter()).contains(now.plusSeconds(120));
        assertThat(e.problem().orElseThrow().detail()).contains("too many new registrations");
        assertThat(ca.count("POST /new-acct")).isEqualTo(1);
    }

    @Test
    void rateLimitedCarriesRetryAfterAsHttpDate() {
        AcmeClient client = ca.builder().clock(Clock.fixed(Instant.parse("2015-10-21T07:00:00Z"), ZoneOffset.UTC))
                .build();
        ca.always("POST /new-acct", withHeader(problem(429, ACME_ERROR + "rateLimited", "slow down"),
                "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"));

        AcmeRateLimitedException e = catchThrowableOfType(AcmeRateLimitedException.class,
                () -> client.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms()));

        assertThat(e).isNotNull();
        assertThat(e.retryAfter()).contains(Instant.parse("2015-10-21T07:28:00Z"));
    }

    @Test
    void userActionRequiredCarriesTheTermsOfServiceLink() {
        ca.always("POST /new-acct", withHeader(withHeader(problem(403, ACME_ERROR + "userActionRequired",
                        "Terms of service have changed"),
                        "Link", "<" + ca.url("/dir") + ">;rel=\"index\""),
                "Link", "<https://ca.example/acme/terms/2030-01>;rel=\"terms-of-service\""));

        AcmeUserActionRequiredException e = catchThrowableOfType(AcmeUserActionRequiredException.class,
                () -> ca.client().newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms()));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.termsOfService()).contains("https://ca.example/acme/terms/2030-01");
        assertThat(e.getMessage()).contains("Terms of service have changed");
    }

    @Test
    void anHtmlGatewayErrorIsAServerExceptionWithoutProblem() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", new MockResponse.Builder().code(502).setHeader("Content-Type", "text/html")
                .body("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>").build());

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, session::fetchAccount);

        assertThat(e).isExactlyInstanceOf(AcmeServerException.class);
        assertThat(e.status()).isEqualTo(502);
        assertThat(e.problem()).isEmpty();
        assertThat(e.acmeType()).isNull();
        assertThat(e.url()).isEqualTo(ca.url("/acct/1"));
    }

    @Test
    void anUnreadableProblemDocumentStillGivesTheStatus() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", withHeader(json(503, "{\"type\": ", "application/problem+json"),
                "Retry-After", "30"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, session::fetchAccount);

        assertThat(e).isExactlyInstanceOf(AcmeServerException.class);
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.problem()).isEmpty();
        assertThat(e.retryAfter()).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"status\": \"valid\",", "{\"status\": \"valid\"} trailing", "[1, 2", "not json"})
    void malformedJsonIsAProtocolError(String body) {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", json(200, body));

        assertThatThrownBy(session::fetchAccount).isInstanceOf(AcmeProtocolException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/html", "text/plain; charset=utf-8", "application/pem-certificate-chain", ""})
    void anUnexpectedContentTypeIsAProtocolError(String contentType) {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        MockResponse.Builder response = new MockResponse.Builder().code(200).body(accountJson());
        if (!contentType.isEmpty()) {
            response.setHeader("Content-Type", contentType);
        }
        ca.always("POST /acct/1", response.build());

        assertThatThrownBy(session::fetchAccount).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("content type");
    }

    @Test
    void aJsonContentTypeWithParametersIsAccepted() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", json(200, accountJson(), "Application/JSON; charset=UTF-8"));

        assertThat(session.fetchAccount().status()).isEqualTo(Status.VALID);
    }

    @Test
    void aBodyOverTheLimitWithContentLengthIsAProtocolError() {
        AcmeClient client = ca.builder().maxResponseBytes(1024).build();
        ca.always("GET /dir", json(200, padTo(ca.directory.toString(), 1025)));

        assertThatThrownBy(client::fetchDirectory).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("1024");
    }

    @Test
    void aChunkedBodyOverTheLimitIsAProtocolError() {
        AcmeClient client = ca.builder().maxResponseBytes(1024).build();
        ca.always("GET /dir", new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                .chunkedBody(padTo(ca.directory.toString(), 50_000), 100).build());

        assertThatThrownBy(client::fetchDirectory).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("exceeds the limit");
    }

    @Test
    void aBodyOfExactlyTheLimitIsAccepted() {
        ca.always("GET /dir", json(200, padTo(ca.directory.toString(), 1024)));
        assertThat(ca.builder().maxResponseBytes(1024).build().fetchDirectory().newNonce()).isNotNull();

        ca.always("GET /dir", new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                .chunkedBody(padTo(ca.directory.toString(), 1024), 100).build());
        assertThat(ca.builder().maxResponseBytes(1024).build().fetchDirectory().newNonce()).isNotNull();
    }

    @Test
    void anOversizedSignedResponseIsAProtocolError() {
        AccountSession session = ca.builder().maxResponseBytes(2048).build().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                .chunkedBody(padTo(accountJson(), 100_000), 4096).build());

        assertThatThrownBy(session::fetchAccount).isInstanceOf(AcmeProtocolException.class);
    }

    @Test
    void connectionRefusedIsANetworkError() throws IOException {
        String url;
        try (MockWebServer gone = new MockWebServer()) {
            gone.start();
            url = gone.url("/dir").toString();
        }
        AcmeClient client = AcmeClient.builder(url).allowInsecureHttp(true).build();

        AcmeNetworkException e = catchThrowableOfType(AcmeNetworkException.class, client::fetchDirectory);

        assertThat(e).isNotNull();
        assertThat(e.url()).isEqualTo(url);
        assertThat(e.getCause()).isInstanceOf(IOException.class);
    }

    @Test
    void aDroppedConnectionIsANetworkError() {
        AccountSession session = ca.client().login(ACCOUNT_KEY, ca.url("/acct/1"));
        ca.always("POST /acct/1", new MockResponse.Builder()
                .onResponseStart(new SocketEffect.CloseSocket(true, true, true)).build());

        AcmeNetworkException e = catchThrowableOfType(AcmeNetworkException.class, session::fetchAccount);

        assertThat(e).isNotNull();
        assertThat(e.url()).isEqualTo(ca.url("/acct/1"));
        assertThat(e.getMessage()).startsWith("POST ");
    }

    @Test
    void aDroppedConnectionDuringTheBodyIsANetworkError() {
        ca.always("GET /dir", new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                .body(padTo(ca.directory.toString(), 20_000))
                .onResponseBody(new SocketEffect.CloseSocket(true, true, true)).build());

        assertThatThrownBy(() -> ca.client().fetchDirectory()).isInstanceOf(AcmeNetworkException.class);
    }

    // ------------------------------------------------------------------ HTTPS enforcement

    @Test
    void aPlainHttpDirectoryUrlIsRefusedUnlessAllowed() {
        assertThatThrownBy(() -> AcmeClient.builder(ca.directoryUrl()).build())
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("non-HTTPS");
        assertThatThrownBy(() -> AcmeClient.builder(ca.directoryUrl()).allowInsecureHttp(false).build())
                .isInstanceOf(AcmeProtocolException.class);
        assertThat(ca.requests()).isEmpty();

        assertThat(AcmeClient.builder(ca.directoryUrl()).allowInsecureHttp(true).build().directoryUrl())
                .isEqualTo(ca.directoryUrl());
    }

    @Test
    void malformedOrRelativeDirectoryUrlsAreRefused() {
        assertThatThrownBy(() -> AcmeClient.builder("/directory").build()).isInstanceOf(AcmeProtocolException.class);
        assertThatThrownBy(() -> AcmeClient.builder("ftp://ca.example/dir").build())
                .isInstanceOf(AcmeProtocolException.class);
        assertThatThrownBy(() -> AcmeClient.builder(" ").build()).isInstanceOf(AcmeProtocolException.class);
    }

    // The same fake CA served over TLS (a Bouncy Castle test root the client trusts), with
    // allowInsecureHttp left false: every http:// URL it hands out must be refused.

    /** An http:// URL on the TLS fake CA's host and port. */
    String plain(String path) {
        return "http://" + secure.server.getHostName() + ":" + secure.server.getPort() + path;
    }

    @Test
    void anHttpsCaWorks() {
        secure.enqueue("POST /new-acct", created(secure.url("/acct/1"), accountJson()));
        secure.always("POST /acct/1", json(200, accountJson()));

        AccountSession session = secureClient.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms());
        session.fetchAccount();

        assertThat(secure.directoryUrl()).startsWith("https://");
        assertThat(session.accountUrl()).isEqualTo(secure.url("/acct/1"));
        assertThat(secure.requests("POST /acct/1").get(0).getHandshake()).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"newNonce", "newAccount", "newOrder", "newAuthz", "revokeCert", "keyChange",
            "renewalInfo"})
    void anHttpDirectoryEntryIsRefused(String entry) {
        secure.directory.put(entry, plain("/" + entry));

        assertThatThrownBy(secureClient::fetchDirectory).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("non-HTTPS").hasMessageContaining(plain("/" + entry));
        assertThat(secure.routes()).containsExactly("GET /dir");
    }

    @Test
    void anHttpLocationIsRefused() {
        secure.enqueue("POST /new-acct", created(plain("/acct/1"), accountJson()));

        assertThatThrownBy(() -> secureClient.newAccount(ACCOUNT_KEY, NewAccount.agreeingToTerms()))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("Location");
    }

    @Test
    void anHttpAccountUrlIsRefused() {
        assertThatThrownBy(() -> secureClient.login(ACCOUNT_KEY, plain("/acct/1")))
                .isInstanceOf(AcmeProtocolException.class);
        assertThat(secure.requests()).isEmpty();
    }

    @Test
    void anHttpFinalizeUrlIsRefused() {
        AccountSession session = secureClient.login(ACCOUNT_KEY, secure.url("/acct/1"));
        secure.enqueue("POST /new-order", created(secure.url("/order/1"), orderJson(secure, "pending",
                plain("/order/1/finalize"), null)));

        assertThatThrownBy(() -> session.newOrder(OrderRequest.of("example.com")))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("finalize");
    }

    @Test
    void anHttpCertificateUrlIsRefused() {
        AccountSession session = secureClient.login(ACCOUNT_KEY, secure.url("/acct/1"));
        secure.always("POST /order/1", json(200, orderJson(secure, "valid", secure.url("/order/1/finalize"),
                plain("/cert/1"))));

        assertThatThrownBy(() -> session.fetchOrder(secure.url("/order/1")))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("certificate");
    }

    @Test
    void anHttpChallengeUrlIsRefused() {
        AccountSession session = secureClient.login(ACCOUNT_KEY, secure.url("/acct/1"));
        secure.always("POST /authz/1", json(200, """
                {"status": "pending", "identifier": {"type": "dns", "value": "example.com"},
                 "challenges": [
                   {"type": "http-01", "url": "%s", "status": "pending", "token": "tok"},
                   {"type": "dns-01", "url": "%s", "status": "pending", "token": "tok"}]}"""
                .formatted(secure.url("/chall/1"), plain("/chall/2"))));

        assertThatThrownBy(() -> session.fetchAuthorization(secure.url("/authz/1")))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("challenge");
    }

    @Test
    void anHttpAlternateChainLinkIsRefused() {
        TestCertificates.CrossSignedChains chains =
                TestCertificates.crossSignedChains("Root A", "Root B", "example.com");
        AccountSession session = secureClient.login(ACCOUNT_KEY, secure.url("/acct/1"));
        secure.always("POST /cert/1", withHeader(pem(chains.defaultChainPem()),
                "Link", "<" + plain("/cert/1/1") + ">;rel=\"alternate\""));

        assertThatThrownBy(() -> session.downloadCertificate(secure.url("/cert/1")))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("alternate");
    }

    @Test
    void anHttpNextPageOrOrderUrlIsRefused() {
        AccountSession session = secureClient.login(ACCOUNT_KEY, secure.url("/acct/1"));
        secure.always("POST /acct/1", json(200, accountJson(secure.url("/acct/1/orders"))));
        secure.enqueue("POST /acct/1/orders", withHeader(
                json(200, "{\"orders\": [\"" + secure.url("/order/1") + "\"]}"),
                "Link", "<" + plain("/acct/1/orders?cursor=2") + ">;rel=\"next\""));

        assertThatThrownBy(session::fetchOrderUrls).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("non-HTTPS");
        assertThat(secure.count("POST /acct/1/orders")).as("the http next page is never requested").isEqualTo(1);

        secure.enqueue("POST /acct/1/orders", json(200, "{\"orders\": [\"" + plain("/order/2") + "\"]}"));
        assertThatThrownBy(session::fetchOrderUrls).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("order");
    }

    // ================================================================== shared test plumbing

    static String accountJson() {
        return "{\"status\": \"valid\", \"contact\": [\"mailto:admin@example.com\"], \"termsOfServiceAgreed\": true,"
                + " \"createdAt\": \"2030-01-01T00:00:00Z\"}";
    }

    static String accountJson(String ordersUrl) {
        return "{\"status\": \"valid\", \"contact\": [\"mailto:admin@example.com\"], \"orders\": \"" + ordersUrl + "\"}";
    }

    static String orderJson(FakeCa ca, String status, String finalizeUrl, String certificateUrl) {
        return """
                {"status": "%s", "expires": "2030-01-08T00:00:00Z",
                 "identifiers": [{"type": "dns", "value": "example.com"}],
                 "authorizations": ["%s"], "finalize": "%s"%s}"""
                .formatted(status, ca.url("/authz/1"), finalizeUrl,
                        certificateUrl == null ? "" : ", \"certificate\": \"" + certificateUrl + "\"");
    }

    static MockResponse json(int code, String body) {
        return json(code, body, "application/json");
    }

    static MockResponse json(int code, String body, String contentType) {
        return new MockResponse.Builder().code(code).setHeader("Content-Type", contentType).body(body).build();
    }

    static MockResponse pem(String chain) {
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/pem-certificate-chain")
                .body(chain).build();
    }

    static MockResponse created(String location, String body) {
        return withHeader(json(201, body), "Location", location);
    }

    static MockResponse problem(int code, String type, String detail) {
        ObjectNode p = MAPPER.createObjectNode().put("type", type).put("detail", detail).put("status", code);
        return json(code, p.toString(), "application/problem+json");
    }

    static MockResponse withHeader(MockResponse response, String name, String value) {
        return response.newBuilder().addHeader(name, value).build();
    }

    static String padTo(String json, int bytes) {
        return json + " ".repeat(bytes - json.getBytes(UTF_8).length);
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static byte[] b64(String base64url) {
        assertThat(base64url).matches("[A-Za-z0-9_-]*");
        return Base64.getUrlDecoder().decode(base64url);
    }

    /** Spins (yielding) until the condition holds or five seconds pass; the caller's assertions decide. */
    static void awaitCondition(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.yield();
        }
    }

    /** A signed ACME request as the server sees it: flattened JWS, decoded protected header and payload. */
    record Signed(RecordedRequest request, JsonNode body, JsonNode header, String payloadText, JWSObject jws) {

        String nonce() {
            JsonNode n = header.get("nonce");
            return n == null ? null : n.asText();
        }

        JsonNode payload() {
            try {
                return MAPPER.readTree(payloadText);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Whether the signature verifies with the key (false also when the key cannot make this alg). */
        boolean verifiedBy(PublicKey key) {
            try {
                JWSVerifier verifier = key instanceof ECPublicKey ec ? new ECDSAVerifier(ec)
                        : new RSASSAVerifier((RSAPublicKey) key);
                return jws.verify(verifier);
            } catch (JOSEException e) {
                return false;
            }
        }
    }

    static Signed signed(RecordedRequest r) {
        try {
            JsonNode body = MAPPER.readTree(r.getBody().utf8());
            return signed(r, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a flattened JWS object (a request body or a JWS nested in a payload). */
    static Signed signed(RecordedRequest r, JsonNode jwsJson) {
        try {
            String protectedHeader = jwsJson.get("protected").asText();
            String payload = jwsJson.get("payload").asText();
            String signature = jwsJson.get("signature").asText();
            JsonNode header = MAPPER.readTree(b64(protectedHeader));
            String payloadText = new String(b64(payload), UTF_8);
            b64(signature);
            JWSObject jws = new JWSObject(new Base64URL(protectedHeader), new Base64URL(payload),
                    new Base64URL(signature));
            return new Signed(r, jwsJson, header, payloadText, jws);
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("not a flattened JWS: " + jwsJson, e);
        }
    }

    /**
     * A scripted ACME server on MockWebServer. Routes are "METHOD /path" (query ignored). Each
     * route answers from its queue of one-shot responses, then from its standing response, then
     * from the built-ins: GET /dir serves {@link #directory} (mutable until first fetched), HEAD
     * /new-nonce a fresh nonce; anything else a 500 problem naming the unscripted route. Every
     * response except the directory's gets a fresh Replay-Nonce unless it has one (or
     * {@link #autoNonce} is off); {@link #issuedNonces()} lists them in order.
     */
    static final class FakeCa implements AutoCloseable {

        final MockWebServer server = new MockWebServer();
        final ObjectNode directory;
        volatile boolean autoNonce = true;
        volatile CountDownLatch directoryGate;
        private final Map<String, Deque<MockResponse>> queued = new ConcurrentHashMap<>();
        private final Map<String, MockResponse> standing = new ConcurrentHashMap<>();
        private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
        private final List<String> issued = new CopyOnWriteArrayList<>();
        private final AtomicInteger nonceCounter = new AtomicInteger();

        FakeCa() {
            this(null);
        }

        FakeCa(SSLSocketFactory tls) {
            if (tls != null) {
                server.useHttps(tls);
            }
            server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                    return FakeCa.this.dispatch(request);
                }
            });
            try {
                server.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            directory = MAPPER.createObjectNode()
                    .put("newNonce", url("/new-nonce"))
                    .put("newAccount", url("/new-acct"))
                    .put("newOrder", url("/new-order"))
                    .put("newAuthz", url("/new-authz"))
                    .put("revokeCert", url("/revoke-cert"))
                    .put("keyChange", url("/key-change"));
            directory.putObject("meta").put("termsOfService", "https://ca.example/tos");
        }

        String url(String path) {
            return server.url(path).toString();
        }

        String directoryUrl() {
            return url("/dir");
        }

        AcmeClient.Builder builder() {
            return AcmeClient.builder(directoryUrl()).allowInsecureHttp(true);
        }

        AcmeClient client() {
            return builder().build();
        }

        /** One-shot responses for a route, served in order before its standing response. */
        FakeCa enqueue(String route, MockResponse... responses) {
            Deque<MockResponse> q = queued.computeIfAbsent(route, k -> new ConcurrentLinkedDeque<>());
            q.addAll(List.of(responses));
            return this;
        }

        /** The response for a route whenever no one-shot response is queued. */
        FakeCa always(String route, MockResponse response) {
            standing.put(route, response);
            return this;
        }

        private MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            requests.add(request);
            String route = route(request);
            if (route.equals("GET /dir")) {
                CountDownLatch gate = directoryGate;
                if (gate != null) {
                    gate.await(10, TimeUnit.SECONDS);
                }
            }
            Deque<MockResponse> q = queued.get(route);
            MockResponse response = q == null ? null : q.poll();
            if (response == null) {
                response = standing.get(route);
            }
            if (response == null) {
                if (route.equals("GET /dir")) {
                    response = json(200, directory.toString());
                } else if (route.equals("HEAD /new-nonce")) {
                    response = new MockResponse.Builder().code(200).setHeader("Cache-Control", "no-store").build();
                } else {
                    response = problem(500, ACME_ERROR + "serverInternal", "FakeCa: nothing scripted for " + route);
                }
            }
            if (autoNonce && !route.equals("GET /dir") && response.getHeaders().get("Replay-Nonce") == null) {
                String nonce = "nonce-" + nonceCounter.incrementAndGet() + "_" + Long.toHexString(System.nanoTime());
                issued.add(nonce);
                response = response.newBuilder().setHeader("Replay-Nonce", nonce).build();
            }
            return response;
        }

        static String route(RecordedRequest r) {
            return r.getMethod() + " " + r.getUrl().encodedPath();
        }

        List<RecordedRequest> requests() {
            return List.copyOf(requests);
        }

        List<String> routes() {
            return requests.stream().map(FakeCa::route).toList();
        }

        List<RecordedRequest> requests(String route) {
            return requests.stream().filter(r -> route(r).equals(route)).toList();
        }

        List<RecordedRequest> posts() {
            return requests.stream().filter(r -> r.getMethod().equals("POST")).toList();
        }

        int count(String route) {
            return requests(route).size();
        }

        /** The nonces this server handed out (automatic ones only), in order. */
        List<String> issuedNonces() {
            return List.copyOf(issued);
        }

        @Override
        public void close() {
            CountDownLatch gate = directoryGate;
            if (gate != null) {
                gate.countDown();
            }
            server.close();
        }
    }
}
