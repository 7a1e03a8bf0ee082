package dev.anvil.acme;

import static dev.anvil.acme.AcmeClientTest.ACME_ERROR;
import static dev.anvil.acme.AcmeClientTest.MAPPER;
import static dev.anvil.acme.AcmeClientTest.created;
import static dev.anvil.acme.AcmeClientTest.fieldNames;
import static dev.anvil.acme.AcmeClientTest.json;
import static dev.anvil.acme.AcmeClientTest.pem;
import static dev.anvil.acme.AcmeClientTest.problem;
import static dev.anvil.acme.AcmeClientTest.signed;
import static dev.anvil.acme.AcmeClientTest.withHeader;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.ECKey;
import dev.anvil.acme.AcmeClientTest.FakeCa;
import dev.anvil.acme.AcmeClientTest.Signed;
import dev.anvil.acme.crypto.Csr;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link AccountSession} against a scripted MockWebServer ({@link FakeCa}): the payload and
 * headers of every account, order, authorization, challenge and certificate request, and the
 * parsing of every response.
 */
class AccountSessionTest {

    static final KeyPair KEY = AcmeClientTest.ACCOUNT_KEY;
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    static final TestCertificates.CrossSignedChains CHAINS =
            TestCertificates.crossSignedChains("Anvil Root A", "Anvil Root B", "example.com");

    FakeCa ca;
    AcmeClient client;
    String accountUrl;

    @BeforeEach
    void start() {
        ca = new FakeCa();
        client = ca.builder().clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        accountUrl = ca.url("/acct/1");
    }

    @AfterEach
    void stop() {
        ca.close();
    }

    AccountSession session() {
        return client.login(KEY, accountUrl);
    }

    /** The JWS of the only (or last) POST to a path, checked for kid = account URL, url and signature. */
    Signed lastPost(String path) {
        List<RecordedRequest> posts = ca.requests("POST " + path);
        assertThat(posts).as("POSTs to %s", path).isNotEmpty();
        Signed s = signed(posts.get(posts.size() - 1));
        assertThat(s.header().get("kid").asText()).isEqualTo(accountUrl);
        assertThat(s.header().has("jwk")).isFalse();
        assertThat(s.header().get("url").asText()).isEqualTo(ca.url(path));
        assertThat(s.header().get("nonce").asText()).isNotEmpty();
        assertThat(s.verifiedBy(KEY.getPublic())).isTrue();
        return s;
    }

    static JsonNode tree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static String b64url(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    // ------------------------------------------------------------------ accounts

    @Test
    void newAccountCreatedWith201() {
        ca.enqueue("POST /new-acct", created(accountUrl, """
                {"status": "valid", "contact": ["mailto:admin@example.com"], "termsOfServiceAgreed": true,
                 "orders": "%s", "initialIp": "192.0.2.9"}""".formatted(ca.url("/acct/1/orders"))));

        AccountSession s = client.newAccount(KEY, NewAccount.agreeingToTerms().withContact("admin@example.com"));

        assertThat(s.accountUrl()).isEqualTo(accountUrl);
        assertThat(s.keyPair()).isSameAs(KEY);
        assertThat(s.client()).isSameAs(client);
        Account a = s.account().orElseThrow();
        assertThat(a.url()).isEqualTo(accountUrl);
        assertThat(a.status()).isEqualTo(Status.VALID);
        assertThat(a.contact()).containsExactly("mailto:admin@example.com");
        assertThat(a.termsOfServiceAgreed()).isTrue();
        assertThat(a.orders()).isEqualTo(ca.url("/acct/1/orders"));
        Signed sent = signed(ca.requests("POST /new-acct").get(0));
        assertThat(sent.header().has("jwk")).isTrue();
        assertThat(sent.header().has("kid")).isFalse();
    }

    @Test
    void newAccountForAnExistingKeyReturns200WithTheLocationOfTheExistingAccount() {
        ca.enqueue("POST /new-acct", withHeader(json(200, "{\"status\": \"valid\"}"), "Location", "/acct/7"));

        AccountSession s = client.newAccount(KEY, NewAccount.agreeingToTerms());

        // A relative Location is resolved against the request URL.
        assertThat(s.accountUrl()).isEqualTo(ca.url("/acct/7"));
        assertThat(s.account()).get().extracting(Account::url, Account::status)
                .containsExactly(ca.url("/acct/7"), Status.VALID);
    }

    @Test
    void anExistingAccountWithAnEmptyBodyHasNoAccountObject() {
        ca.enqueue("POST /new-acct", new MockResponse.Builder().code(200)
                .setHeader("Location", accountUrl).build());

        AccountSession s = client.newAccount(KEY, NewAccount.agreeingToTerms());

        assertThat(s.accountUrl()).isEqualTo(accountUrl);
        assertThat(s.account()).isEmpty();
    }

    @Test
    void newAccountWithoutLocationIsAProtocolError() {
        ca.enqueue("POST /new-acct", json(201, "{\"status\": \"valid\"}"));

        assertThatThrownBy(() -> client.newAccount(KEY, NewAccount.agreeingToTerms()))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("Location");
    }

    @Test
    void findAccountSendsOnlyReturnExisting() {
        ca.enqueue("POST /new-acct", withHeader(json(200, "{\"status\": \"valid\"}"), "Location", accountUrl));

        AccountSession s = client.findAccount(KEY);

        assertThat(s.accountUrl()).isEqualTo(accountUrl);
        Signed sent = signed(ca.requests("POST /new-acct").get(0));
        assertThat(sent.payload()).isEqualTo(tree("{\"onlyReturnExisting\": true}"));
        assertThat(sent.header().has("jwk")).isTrue();
        assertThat(sent.header().has("kid")).isFalse();
        assertThat(sent.verifiedBy(KEY.getPublic())).isTrue();
    }

    @Test
    void findAccountForAnUnknownKeyRaisesAccountDoesNotExist() {
        ca.enqueue("POST /new-acct", problem(400, ACME_ERROR + "accountDoesNotExist", "No account exists with this key"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class, () -> client.findAccount(KEY));

        assertThat(e).isNotNull();
        assertThat(e.is("accountDoesNotExist")).isTrue();
        assertThat(e.acmeType()).isEqualTo("accountDoesNotExist");
        assertThat(e.status()).isEqualTo(400);
        assertThat(ca.count("POST /new-acct")).isEqualTo(1);
    }

    @Test
    void fetchAccountIsAPostAsGet() {
        ca.enqueue("POST /acct/1", json(200, """
                {"status": "valid", "contact": ["mailto:a@example.com", "tel:+15550100"],
                 "orders": "%s"}""".formatted(ca.url("/acct/1/orders"))));

        Account a = session().fetchAccount();

        assertThat(a.url()).isEqualTo(accountUrl);
        assertThat(a.status()).isEqualTo(Status.VALID);
        assertThat(a.contact()).containsExactly("mailto:a@example.com", "tel:+15550100");
        assertThat(a.orders()).isEqualTo(ca.url("/acct/1/orders"));
        assertThat(a.termsOfServiceAgreed()).isNull();
        assertThat(lastPost("/acct/1").body().get("payload").asText()).isEmpty();
    }

    @Test
    void updateContactsSendsMailtoUris() {
        ca.enqueue("POST /acct/1", json(200, """
                {"status": "valid", "contact": ["mailto:ops@example.com", "mailto:security@example.org"]}"""));

        Account a = session().updateContacts(List.of("ops@example.com", " mailto:security@example.org "));

        assertThat(lastPost("/acct/1").payload())
                .isEqualTo(tree("{\"contact\": [\"mailto:ops@example.com\", \"mailto:security@example.org\"]}"));
        assertThat(a.contact()).containsExactly("mailto:ops@example.com", "mailto:security@example.org");
        assertThat(a.url()).isEqualTo(accountUrl);
    }

    @Test
    void updateContactsRejectsInvalidAddressesWithoutARequest() {
        assertThatThrownBy(() -> session().updateContacts(List.of("not an address")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> session().updateContacts(List.of("a@example.com,b@example.com")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ca.requests()).isEmpty();
    }

    @Test
    void deactivateSendsStatusDeactivated() {
        ca.enqueue("POST /acct/1", json(200, "{\"status\": \"deactivated\"}"));

        Account a = session().deactivate();

        assertThat(lastPost("/acct/1").payload()).isEqualTo(tree("{\"status\": \"deactivated\"}"));
        assertThat(a.status()).isEqualTo(Status.DEACTIVATED);
    }

    @Test
    void changeKeyNestsAJwsSignedByTheNewKey() throws Exception {
        KeyPair newKey = TestCertificates.ecKey("secp384r1");
        ca.enqueue("POST /key-change", json(200, "{\"status\": \"valid\"}"));
        ca.always("POST /acct/1", json(200, "{\"status\": \"valid\"}"));

        AccountSession rolled = session().changeKey(newKey);

        // Outer JWS: the account's kid, signed by the OLD key, with a nonce.
        Signed outer = lastPost("/key-change");
        assertThat(outer.verifiedBy(newKey.getPublic())).isFalse();

        // Inner JWS: jwk of the NEW key, the same url, no nonce and no kid, signed by the new key.
        Signed inner = signed(outer.request(), outer.payload());
        assertThat(fieldNames(inner.header())).containsExactlyInAnyOrder("alg", "jwk", "url");
        assertThat(inner.header().get("alg").asText()).isEqualTo("ES384");
        assertThat(inner.header().get("url").asText()).isEqualTo(ca.url("/key-change"));
        assertThat(ECKey.parse(inner.header().get("jwk").toString()).toECPublicKey().getEncoded())
                .isEqualTo(newKey.getPublic().getEncoded());
        assertThat(inner.verifiedBy(newKey.getPublic())).isTrue();
        assertThat(inner.verifiedBy(KEY.getPublic())).isFalse();

        // Inner payload: the account URL and the OLD public key.
        JsonNode payload = inner.payload();
        assertThat(fieldNames(payload)).containsExactlyInAnyOrder("account", "oldKey");
        assertThat(payload.get("account").asText()).isEqualTo(accountUrl);
        assertThat(payload.get("oldKey").has("d")).isFalse();
        assertThat(ECKey.parse(payload.get("oldKey").toString()).toECPublicKey().getEncoded())
                .isEqualTo(KEY.getPublic().getEncoded());

        // The returned session signs with the new key under the same account URL.
        assertThat(rolled.accountUrl()).isEqualTo(accountUrl);
        assertThat(rolled.keyPair()).isSameAs(newKey);
        rolled.fetchAccount();
        Signed after = signed(ca.requests("POST /acct/1").get(0));
        assertThat(after.header().get("kid").asText()).isEqualTo(accountUrl);
        assertThat(after.verifiedBy(newKey.getPublic())).isTrue();
    }

    @Test
    void changeKeyWithoutAKeyChangeEndpointFailsWithoutPosting() {
        ca.directory.remove("keyChange");

        assertThatThrownBy(() -> session().changeKey(TestCertificates.ecKey("secp256r1")))
                .isExactlyInstanceOf(AcmeException.class).hasMessageContaining("keyChange");
        assertThat(ca.posts()).isEmpty();
    }

    @Test
    void fetchOrderUrlsFollowsNextLinks() {
        ca.enqueue("POST /acct/1", json(200, AcmeClientTest.accountJson(ca.url("/acct/1/orders"))));
        ca.enqueue("POST /acct/1/orders",
                withHeader(json(200, "{\"orders\": [\"%s\", \"%s\"]}".formatted(ca.url("/order/1"), ca.url("/order/2"))),
                        "Link", "<" + ca.url("/acct/1/orders") + "?cursor=2>;rel=\"next\""),
                withHeader(json(200, "{\"orders\": [\"%s\"]}".formatted(ca.url("/order/3"))),
                        "Link", "</dir>;rel=\"index\""));

        List<String> orders = session().fetchOrderUrls();

        assertThat(orders).containsExactly(ca.url("/order/1"), ca.url("/order/2"), ca.url("/order/3"));
        List<RecordedRequest> pages = ca.requests("POST /acct/1/orders");
        assertThat(pages).hasSize(2);
        assertThat(pages.get(0).getUrl().query()).isNull();
        assertThat(pages.get(1).getUrl().query()).isEqualTo("cursor=2");
        for (RecordedRequest page : pages) {
            Signed s = signed(page);
            assertThat(s.body().get("payload").asText()).isEmpty();
            assertThat(s.header().get("url").asText()).isEqualTo(page.getUrl().toString());
            assertThat(s.verifiedBy(KEY.getPublic())).isTrue();
        }
    }

    @Test
    void anAccountWithoutOrdersUrlHasNoOrders() {
        ca.enqueue("POST /acct/1", json(200, "{\"status\": \"valid\"}"));

        assertThat(session().fetchOrderUrls()).isEmpty();
        assertThat(ca.posts()).hasSize(1);
    }

    // ------------------------------------------------------------------ orders

    static String order(FakeCa ca, String status, String extra) {
        return """
                {"status": "%s", "expires": "2030-01-08T00:00:00Z",
                 "identifiers": [{"type": "dns", "value": "example.com"}, {"type": "ip", "value": "192.0.2.1"}],
                 "notBefore": "2030-01-01T00:00:00Z", "notAfter": "2030-01-08T00:00:00Z",
                 "authorizations": ["%s", "%s"],
                 "finalize": "%s", "someFutureField": {"x": 1}%s}"""
                .formatted(status, ca.url("/authz/1"), ca.url("/authz/2"), ca.url("/order/1/finalize"), extra);
    }

    @Test
    void newOrderSendsIdentifiersAndValidityAndParsesTheOrder() {
        ca.enqueue("POST /new-order", withHeader(created(ca.url("/order/1"), order(ca, "pending", "")),
                "Retry-After", "3"));
        Instant notBefore = Instant.parse("2030-01-01T00:00:00Z");
        Instant notAfter = Instant.parse("2030-01-08T00:00:00.250Z");

        Order o = session().newOrder(OrderRequest.of(List.of(Identifier.dns("Example.COM."),
                Identifier.ip("192.0.2.1"), Identifier.ip("2001:DB8:0:0:0:0:0:1"))).withValidity(notBefore, notAfter));

        JsonNode payload = lastPost("/new-order").payload();
        assertThat(payload).isEqualTo(tree("""
                {"identifiers": [{"type": "dns", "value": "example.com"},
                                 {"type": "ip", "value": "192.0.2.1"},
                                 {"type": "ip", "value": "2001:db8::1"}],
                 "notBefore": "2030-01-01T00:00:00Z",
                 "notAfter": "2030-01-08T00:00:00.250Z"}"""));
        String rfc3339 = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})";
        assertThat(payload.get("notBefore").asText()).matches(rfc3339);
        assertThat(payload.get("notAfter").asText()).matches(rfc3339);

        assertThat(o.url()).isEqualTo(ca.url("/order/1"));
        assertThat(o.status()).isEqualTo(Status.PENDING);
        assertThat(o.expires()).isEqualTo(Instant.parse("2030-01-08T00:00:00Z"));
        assertThat(o.identifiers()).containsExactly(Identifier.dns("example.com"), Identifier.ip("192.0.2.1"));
        assertThat(o.notBefore()).isEqualTo(notBefore);
        assertThat(o.authorizations()).containsExactly(ca.url("/authz/1"), ca.url("/authz/2"));
        assertThat(o.finalizeUrl()).isEqualTo(ca.url("/order/1/finalize"));
        assertThat(o.certificateUrl()).isNull();
        assertThat(o.error()).isNull();
        assertThat(o.retryAfter()).isEqualTo(NOW.plusSeconds(3));
    }

    @Test
    void newOrderWithoutLocationIsAProtocolError() {
        ca.enqueue("POST /new-order", json(201, order(ca, "pending", "")));

        assertThatThrownBy(() -> session().newOrder(OrderRequest.of("example.com")))
                .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("Location");
    }

    @Test
    void profileIsSentWhenTheDirectoryAdvertisesIt() {
        ((ObjectNode) ca.directory.get("meta")).putObject("profiles")
                .put("classic", "90 days").put("shortlived", "6 days");
        ca.enqueue("POST /new-order", created(ca.url("/order/1"), order(ca, "pending", ", \"profile\": \"shortlived\"")));

        Order o = session().newOrder(OrderRequest.of("example.com").withProfile("shortlived"));

        assertThat(lastPost("/new-order").payload().get("profile").asText()).isEqualTo("shortlived");
        assertThat(o.profile()).isEqualTo("shortlived");
    }

    @Test
    void aProfileTheCaDoesNotOfferIsRefusedBeforeSending() {
        ((ObjectNode) ca.directory.get("meta")).putObject("profiles").put("classic", "90 days");

        assertThatThrownBy(() -> session().newOrder(OrderRequest.of("example.com").withProfile("tlsserver")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tlsserver")
                .hasMessageContaining("classic");
        assertThat(ca.posts()).isEmpty();
    }

    @Test
    void profileIsNotSentWhenTheDirectoryAdvertisesNone() {
        ca.enqueue("POST /new-order", created(ca.url("/order/1"), order(ca, "pending", "")));

        session().newOrder(OrderRequest.of("example.com").withProfile("shortlived"));

        assertThat(fieldNames(lastPost("/new-order").payload())).containsExactly("identifiers");
    }

    @Test
    void replacesIsSentOnlyWhenTheDirectoryHasRenewalInfo() {
        String certId = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
        ca.enqueue("POST /new-order", created(ca.url("/order/1"), order(ca, "pending", "")),
                created(ca.url("/order/2"), order(ca, "pending", "")));

        session().newOrder(OrderRequest.of("example.com").withReplaces(certId));
        assertThat(signed(ca.requests("POST /new-order").get(0)).payload().has("replaces")).isFalse();

        ca.directory.put("renewalInfo", ca.url("/renewal-info"));
        AcmeClient withAri = ca.client();
        withAri.login(KEY, accountUrl).newOrder(OrderRequest.of("example.com").withReplaces(certId));
        assertThat(signed(ca.requests("POST /new-order").get(1)).payload().get("replaces").asText())
                .isEqualTo(certId);
    }

    @Test
    void fetchOrderParsesCertificateErrorAndRetryAfter() {
        ca.enqueue("POST /order/1", withHeader(json(200, order(ca, "valid", """
                , "certificate": "%s", "replaces": "abc.def",
                  "error": {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids",
                            "identifier": {"type": "dns", "value": "example.com"}}""".formatted(ca.url("/cert/1")))),
                "Retry-After", "Tue, 01 Jan 2030 00:10:00 GMT"));

        Order o = session().fetchOrder(ca.url("/order/1"));

        assertThat(lastPost("/order/1").body().get("payload").asText()).isEmpty();
        assertThat(o.url()).isEqualTo(ca.url("/order/1"));
        assertThat(o.status()).isEqualTo(Status.VALID);
        assertThat(o.certificateUrl()).isEqualTo(ca.url("/cert/1"));
        assertThat(o.finalizeUrl()).isEqualTo(ca.url("/order/1/finalize"));
        assertThat(o.replaces()).isEqualTo("abc.def");
        assertThat(o.error().acmeType()).isEqualTo("caa");
        assertThat(o.error().identifier()).isEqualTo(Identifier.dns("example.com"));
        assertThat(o.retryAfter()).isEqualTo(Instant.parse("2030-01-01T00:10:00Z"));
    }

    @Test
    void anUnknownOrderStatusIsTolerated() {
        ca.enqueue("POST /order/1", json(200, order(ca, "someday", "")));

        assertThat(session().fetchOrder(ca.url("/order/1")).status()).isEqualTo(Status.UNKNOWN);
    }

    @Test
    void finalizeSendsTheCsrAsBase64UrlDer() {
        KeyPair certKey = TestCertificates.ecKey("secp256r1");
        byte[] csr = Csr.create(certKey, List.of(Identifier.dns("example.com"), Identifier.ip("192.0.2.1")));
        ca.enqueue("POST /order/1", json(200, order(ca, "ready", "")));
        ca.enqueue("POST /order/1/finalize", withHeader(json(200, order(ca, "processing", "")), "Retry-After", "2"));
        AccountSession s = session();
        Order ready = s.fetchOrder(ca.url("/order/1"));

        Order processing = s.finalizeOrder(ready, csr);

        JsonNode payload = lastPost("/order/1/finalize").payload();
        assertThat(fieldNames(payload)).containsExactly("csr");
        assertThat(payload.get("csr").asText()).isEqualTo(b64url(csr)).doesNotContain("=", "+", "/");
        assertThat(Base64.getUrlDecoder().decode(payload.get("csr").asText())).isEqualTo(csr);
        assertThat(processing.status()).isEqualTo(Status.PROCESSING);
        assertThat(processing.url()).isEqualTo(ca.url("/order/1"));
        assertThat(processing.retryAfter()).isEqualTo(NOW.plusSeconds(2));
    }

    @Test
    void finalizeErrorsAreTyped() {
        ca.enqueue("POST /order/1/finalize", problem(403, ACME_ERROR + "orderNotReady", "Order's status is pending"));
        ca.enqueue("POST /order/1", json(200, order(ca, "pending", "")));
        AccountSession s = session();
        Order pending = s.fetchOrder(ca.url("/order/1"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> s.finalizeOrder(pending, new byte[] {0x30, 0x00}));

        assertThat(e).isNotNull();
        assertThat(e.is("orderNotReady")).isTrue();
    }

    // ------------------------------------------------------------------ authorizations and challenges

    static String authorization(FakeCa ca, String status, boolean wildcard) {
        return """
                {"status": "%s", "expires": "2030-01-02T00:00:00Z", "wildcard": %s,
                 "identifier": {"type": "dns", "value": "example.com"},
                 "challenges": [
                   {"type": "http-01", "url": "%s", "status": "pending", "token": "DGyRejmCefe7v4NfDGDKfA"},
                   {"type": "dns-01", "url": "%s", "status": "pending", "token": "evaGxfADs6pSRb2LAv9IZ"},
                   {"type": "tls-alpn-01", "url": "%s", "status": "valid", "token": "tlsToken",
                    "validated": "2030-01-01T00:05:00Z"}]}"""
                .formatted(status, wildcard, ca.url("/chall/1"), ca.url("/chall/2"), ca.url("/chall/3"));
    }

    @Test
    void fetchAuthorizationParsesChallenges() {
        ca.enqueue("POST /authz/1", withHeader(json(200, authorization(ca, "pending", true)), "Retry-After", "10"));

        Authorization a = session().fetchAuthorization(ca.url("/authz/1"));

        assertThat(lastPost("/authz/1").body().get("payload").asText()).isEmpty();
        assertThat(a.url()).isEqualTo(ca.url("/authz/1"));
        assertThat(a.status()).isEqualTo(Status.PENDING);
        assertThat(a.identifier()).isEqualTo(Identifier.dns("example.com"));
        assertThat(a.domain()).isEqualTo("example.com");
        assertThat(a.wildcard()).isTrue();
        assertThat(a.expires()).isEqualTo(Instant.parse("2030-01-02T00:00:00Z"));
        assertThat(a.retryAfter()).isEqualTo(NOW.plusSeconds(10));
        assertThat(a.challenges()).extracting(Challenge::type).containsExactly("http-01", "dns-01", "tls-alpn-01");
        Challenge dns = a.challenge(Challenge.DNS_01).orElseThrow();
        assertThat(dns.url()).isEqualTo(ca.url("/chall/2"));
        assertThat(dns.token()).isEqualTo("evaGxfADs6pSRb2LAv9IZ");
        assertThat(dns.status()).isEqualTo(Status.PENDING);
        assertThat(a.challenge(Challenge.HTTP_01)).get().extracting(Challenge::url).isEqualTo(ca.url("/chall/1"));
        assertThat(a.challenge(Challenge.TLS_ALPN_01).orElseThrow().validated())
                .isEqualTo(Instant.parse("2030-01-01T00:05:00Z"));
        assertThat(a.challenge("dns-account-01")).isEmpty();
    }

    @Test
    void newAuthorizationPreAuthorizesAnIdentifier() {
        ca.enqueue("POST /new-authz", created(ca.url("/authz/9"), authorization(ca, "pending", false)));

        Authorization a = session().newAuthorization(Identifier.dns("example.com"));

        assertThat(lastPost("/new-authz").payload())
                .isEqualTo(tree("{\"identifier\": {\"type\": \"dns\", \"value\": \"example.com\"}}"));
        assertThat(a.url()).isEqualTo(ca.url("/authz/9"));
        assertThat(a.status()).isEqualTo(Status.PENDING);
    }

    @Test
    void newAuthorizationWithoutNewAuthzFailsWithoutPosting() {
        ca.directory.remove("newAuthz");

        assertThatThrownBy(() -> session().newAuthorization(Identifier.dns("example.com")))
                .isExactlyInstanceOf(AcmeException.class).hasMessageContaining("newAuthz");
        assertThat(ca.posts()).isEmpty();
    }

    @Test
    void deactivateAuthorizationSendsStatusDeactivated() {
        ca.enqueue("POST /authz/1", json(200, authorization(ca, "deactivated", false)));

        Authorization a = session().deactivateAuthorization(ca.url("/authz/1"));

        assertThat(lastPost("/authz/1").payload()).isEqualTo(tree("{\"status\": \"deactivated\"}"));
        assertThat(a.status()).isEqualTo(Status.DEACTIVATED);
        assertThat(a.url()).isEqualTo(ca.url("/authz/1"));
    }

    @Test
    void respondSendsAnEmptyObject() {
        ca.enqueue("POST /authz/1", json(200, authorization(ca, "pending", false)));
        ca.enqueue("POST /chall/1", withHeader(json(200, """
                {"type": "http-01", "url": "%s", "status": "processing", "token": "DGyRejmCefe7v4NfDGDKfA"}"""
                .formatted(ca.url("/chall/1"))), "Retry-After", "5"));
        AccountSession s = session();
        Challenge http = s.fetchAuthorization(ca.url("/authz/1")).challenge(Challenge.HTTP_01).orElseThrow();

        Challenge c = s.respond(http);

        Signed sent = lastPost("/chall/1");
        assertThat(sent.payloadText()).isEqualTo("{}");
        assertThat(sent.body().get("payload").asText()).isEqualTo("e30");
        assertThat(c.status()).isEqualTo(Status.PROCESSING);
        assertThat(c.retryAfter()).isEqualTo(NOW.plusSeconds(5));
    }

    @Test
    void fetchChallengeParsesItsError() {
        ca.enqueue("POST /chall/2", json(200, """
                {"type": "dns-01", "url": "%s", "status": "invalid", "token": "evaGxfADs6pSRb2LAv9IZ",
                 "error": {"type": "urn:ietf:params:acme:error:dns", "detail": "NXDOMAIN looking up TXT"}}"""
                .formatted(ca.url("/chall/2"))));

        Challenge c = session().fetchChallenge(ca.url("/chall/2"));

        assertThat(lastPost("/chall/2").body().get("payload").asText()).isEmpty();
        assertThat(c.status()).isEqualTo(Status.INVALID);
        assertThat(c.error().acmeType()).isEqualTo("dns");
        assertThat(c.error().detail()).contains("NXDOMAIN");
    }

    /** RFC 7638 thumbprint of an EC P-256 key, computed here without Nimbus. */
    static String rfc7638(ECPublicKey key) throws Exception {
        String json = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + b64url(coordinate(key.getW().getAffineX()))
                + "\",\"y\":\"" + b64url(coordinate(key.getW().getAffineY())) + "\"}";
        return b64url(MessageDigest.getInstance("SHA-256").digest(json.getBytes(UTF_8)));
    }

    private static byte[] coordinate(BigInteger v) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(raw.length, 32);
        System.arraycopy(raw, raw.length - n, out, 32 - n, n);
        return out;
    }

    @Test
    void keyAuthorizationIsTokenDotThumbprint() throws Exception {
        AccountSession s = session();
        String thumbprint = rfc7638((ECPublicKey) KEY.getPublic());

        assertThat(s.thumbprint()).isEqualTo(thumbprint);
        assertThat(s.keyAuthorization("DGyRejmCefe7v4NfDGDKfA")).isEqualTo("DGyRejmCefe7v4NfDGDKfA." + thumbprint);
        assertThat(AccountSession.keyAuthorization("a-b_C9", "tp")).isEqualTo("a-b_C9.tp");
        assertThat(s.keyAuthorization("x".repeat(512))).startsWith("x".repeat(512) + ".");
        assertThat(ca.requests()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc/passwd", "a/b", "", "a\\b", "tok en", "tok.en", "tok\n", "t%2e%2e", "tök"})
    void hostileTokensAreRefused(String token) {
        AccountSession s = session();

        assertThatThrownBy(() -> s.keyAuthorization(token)).isInstanceOf(AcmeProtocolException.class);
        assertThatThrownBy(() -> s.dns01Digest(token)).isInstanceOf(AcmeProtocolException.class);
    }

    @Test
    void oversizedAndNullTokensAreRefused() {
        AccountSession s = session();

        assertThatThrownBy(() -> s.keyAuthorization("a".repeat(600))).isInstanceOf(AcmeProtocolException.class);
        assertThatThrownBy(() -> s.keyAuthorization(null)).isInstanceOf(AcmeProtocolException.class);
    }

    @Test
    void dns01DigestIsTheBase64UrlSha256OfTheKeyAuthorization() throws Exception {
        AccountSession s = session();
        String token = "evaGxfADs6pSRb2LAv9IZ";
        String keyAuthorization = token + "." + rfc7638((ECPublicKey) KEY.getPublic());
        String expected = b64url(MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(US_ASCII)));

        assertThat(s.dns01Digest(token)).isEqualTo(expected).hasSize(43).doesNotContain("=");
        assertThat(AccountSession.dns01Digest(token, s.thumbprint())).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ certificates

    @Test
    void downloadCertificateParsesTheChainAndAlternates() throws Exception {
        ca.enqueue("POST /cert/1", withHeader(withHeader(pem(CHAINS.defaultChainPem()),
                "Link", "<" + ca.url("/cert/1/1") + ">;rel=\"alternate\", </cert/1/2>; rel=\"alternate\""),
                "Link", "<" + ca.url("/dir") + ">;rel=\"index\""));

        CertificateChain chain = session().downloadCertificate(ca.url("/cert/1"));

        RecordedRequest r = ca.requests("POST /cert/1").get(0);
        assertThat(r.getHeaders().get("Accept")).isEqualTo("application/pem-certificate-chain");
        assertThat(lastPost("/cert/1").body().get("payload").asText()).isEmpty();
        assertThat(chain.url()).isEqualTo(ca.url("/cert/1"));
        assertThat(chain.pem()).isEqualTo(CHAINS.defaultChainPem());
        assertThat(chain.certificates()).containsExactly(CHAINS.leaf(), CHAINS.intermediateA().certificate());
        assertThat(chain.leaf()).isEqualTo(CHAINS.leaf());
        chain.leaf().verify(CHAINS.intermediateA().keyPair().getPublic());
        assertThat(chain.topIssuer()).isEqualTo("Anvil Root A");
        assertThat(chain.alternates()).containsExactly(ca.url("/cert/1/1"), ca.url("/cert/1/2"));
    }

    @Test
    void aCertificateDownloadThatIsNotAPemChainIsAProtocolError() {
        ca.enqueue("POST /cert/1", json(200, "{\"certificate\": \"nope\"}"));
        ca.enqueue("POST /cert/2", pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
        ca.enqueue("POST /cert/3", pem(""));
        AccountSession s = session();

        assertThatThrownBy(() -> s.downloadCertificate(ca.url("/cert/1"))).isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("content type");
        assertThatThrownBy(() -> s.downloadCertificate(ca.url("/cert/2"))).isInstanceOf(AcmeProtocolException.class);
        assertThatThrownBy(() -> s.downloadCertificate(ca.url("/cert/3"))).isInstanceOf(AcmeProtocolException.class);
    }

    /** The default chain to root A, alternates to root B then root C. */
    void scriptThreeChains() {
        TestCertificates.Authority rootC = TestCertificates.root("Anvil Root C");
        TestCertificates.Authority intermediateC = TestCertificates.intermediate("Anvil Test Intermediate",
                CHAINS.intermediateA().keyPair(), rootC);
        ca.always("POST /cert/1", withHeader(pem(CHAINS.defaultChainPem()), "Link",
                "<" + ca.url("/cert/1/b") + ">;rel=\"alternate\", <" + ca.url("/cert/1/c") + ">;rel=\"alternate\""));
        ca.always("POST /cert/1/b", pem(CHAINS.alternateChainPem()));
        ca.always("POST /cert/1/c", pem(TestCertificates.pem(CHAINS.leaf(), intermediateC.certificate())));
    }

    @Test
    void thePreferredIssuerSelectsTheMatchingAlternate() {
        scriptThreeChains();

        CertificateChain chain = session().downloadCertificate(ca.url("/cert/1"), "anvil root c");

        assertThat(chain.url()).isEqualTo(ca.url("/cert/1/c"));
        assertThat(chain.topIssuer()).isEqualTo("Anvil Root C");
        assertThat(chain.leaf()).isEqualTo(CHAINS.leaf());
        assertThat(ca.routes()).filteredOn(r -> r.startsWith("POST "))
                .containsExactly("POST /cert/1", "POST /cert/1/b", "POST /cert/1/c");
        for (RecordedRequest r : ca.posts()) {
            assertThat(r.getHeaders().get("Accept")).isEqualTo("application/pem-certificate-chain");
            assertThat(signed(r).verifiedBy(KEY.getPublic())).isTrue();
        }
    }

    @Test
    void thePreferredIssuerMatchesByFullDnToo() {
        scriptThreeChains();

        CertificateChain chain = session().downloadCertificate(ca.url("/cert/1"), "CN=Anvil Root B,O=Anvil Tests");

        assertThat(chain.url()).isEqualTo(ca.url("/cert/1/b"));
        assertThat(chain.certificates().get(1)).isEqualTo(CHAINS.intermediateB().certificate());
    }

    @Test
    void whenTheDefaultChainMatchesNoAlternateIsFetched() {
        scriptThreeChains();

        CertificateChain chain = session().downloadCertificate(ca.url("/cert/1"), "Anvil Root A");

        assertThat(chain.url()).isEqualTo(ca.url("/cert/1"));
        assertThat(ca.posts()).hasSize(1);
    }

    @Test
    void whenNoChainMatchesTheDefaultChainIsReturned() {
        scriptThreeChains();

        CertificateChain chain = session().downloadCertificate(ca.url("/cert/1"), "Some Other Root");

        assertThat(chain.url()).isEqualTo(ca.url("/cert/1"));
        assertThat(chain.topIssuer()).isEqualTo("Anvil Root A");
        assertThat(chain.alternates()).hasSize(2);
        assertThat(ca.posts()).hasSize(3);
    }

    @Test
    void revokeWithTheAccountKeySendsTheCertificateAndReason() {
        X509Certificate cert = CHAINS.leaf();
        ca.enqueue("POST /revoke-cert", new MockResponse.Builder().code(200).build(),
                new MockResponse.Builder().code(200).build());
        AccountSession s = session();

        s.revoke(cert, RevocationReason.KEY_COMPROMISE);

        JsonNode payload = lastPost("/revoke-cert").payload();
        assertThat(payload.get("certificate").asText()).isEqualTo(b64url(der(cert)));
        assertThat(payload.get("reason").asInt()).isEqualTo(1);
        assertThat(fieldNames(payload)).containsExactly("certificate", "reason");

        s.revoke(cert, null);
        assertThat(fieldNames(lastPost("/revoke-cert").payload())).containsExactly("certificate");
    }

    @Test
    void revokeWithTheCertificateKeySignsWithItsJwk() throws Exception {
        X509Certificate cert = CHAINS.leaf();
        ca.enqueue("POST /revoke-cert", new MockResponse.Builder().code(200).build());

        client.revokeWithCertificateKey(cert, CHAINS.leafKey(), RevocationReason.SUPERSEDED);

        Signed s = signed(ca.requests("POST /revoke-cert").get(0));
        assertThat(fieldNames(s.header())).containsExactlyInAnyOrder("alg", "nonce", "url", "jwk");
        assertThat(s.header().get("url").asText()).isEqualTo(ca.url("/revoke-cert"));
        assertThat(ECKey.parse(s.header().get("jwk").toString()).toECPublicKey().getEncoded())
                .isEqualTo(CHAINS.leafKey().getPublic().getEncoded());
        assertThat(s.verifiedBy(CHAINS.leafKey().getPublic())).isTrue();
        assertThat(s.verifiedBy(KEY.getPublic())).isFalse();
        assertThat(s.payload()).isEqualTo(tree("{\"certificate\": \"" + b64url(der(cert)) + "\", \"reason\": 4}"));
    }

    @Test
    void revocationErrorsAreTyped() {
        ca.enqueue("POST /revoke-cert", problem(400, ACME_ERROR + "alreadyRevoked", "Certificate already revoked"));

        AcmeServerException e = catchThrowableOfType(AcmeServerException.class,
                () -> session().revoke(CHAINS.leaf(), RevocationReason.UNSPECIFIED));

        assertThat(e).isNotNull();
        assertThat(e.is("alreadyRevoked")).isTrue();
        assertThat(lastPost("/revoke-cert").payload().get("reason").asInt()).isZero();
    }

    @Test
    void revokeWithoutARevokeCertEndpointFailsWithoutPosting() {
        ca.directory.remove("revokeCert");

        assertThatThrownBy(() -> session().revoke(CHAINS.leaf(), null))
                .isExactlyInstanceOf(AcmeException.class).hasMessageContaining("revokeCert");
        assertThatThrownBy(() -> client.revokeWithCertificateKey(CHAINS.leaf(), CHAINS.leafKey(), null))
                .isExactlyInstanceOf(AcmeException.class);
        assertThat(ca.posts()).isEmpty();
    }

    private static byte[] der(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
