package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.testing.ChallTestSrv;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestIssuance;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Issuance and revocation against a real Pebble, with its default 5% nonce rejection on. */
class IssuanceIntegrationTest {

    private static Pebble pebble;
    private static Http01TestResponder responder;
    private static AccountSession account;
    private static final AtomicInteger BAD_NONCES = new AtomicInteger();

    @BeforeAll
    static void start() {
        pebble = Pebble.start();
        responder = Http01TestResponder.start(pebble.httpPort());
        // Counts the badNonce rejections the client sees (and must retry transparently).
        OkHttpClient http = pebble.httpClient().newBuilder().addInterceptor(chain -> {
            Response response = chain.proceed(chain.request());
            if (response.code() == 400 && response.peekBody(4096).string().contains("badNonce")) {
                BAD_NONCES.incrementAndGet();
            }
            return response;
        }).build();
        AcmeClient ca = AcmeClient.builder(pebble.directoryUrl()).httpClient(http).build();
        account = ca.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms());
    }

    @AfterAll
    static void stop() {
        responder.close();
        pebble.close();
    }

    @Test
    void http01IssuesACertificateChainingToPebblesRoot() throws Exception {
        TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("www.anvil.test", "anvil.test"),
                TestIssuance.http01(responder));

        X509Certificate leaf = r.chain().leaf();
        assertThat(sans(leaf)).containsExactlyInAnyOrder("www.anvil.test", "anvil.test");
        assertThat(leaf.getPublicKey()).isEqualTo(r.certificateKey().getPublic());
        verifyChain(r.chain(), pebble.rootCertificate(0));
        assertThat(responder.requests()).isNotEmpty();
    }

    @Test
    void dns01IssuesAWildcardCertificate() {
        ChallTestSrv dns = pebble.challTestSrv();
        TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("*.wild.anvil.test", "dns.anvil.test"),
                TestIssuance.dns01(dns));
        assertThat(sans(r.chain().leaf())).containsExactlyInAnyOrder("*.wild.anvil.test", "dns.anvil.test");
    }

    @Test
    void ipIdentifierIsValidatedAndIssued() throws Exception {
        TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("127.0.0.1"), TestIssuance.http01(responder));
        assertThat(r.order().identifiers()).containsExactly(Identifier.ip("127.0.0.1"));
        Collection<List<?>> names = r.chain().leaf().getSubjectAlternativeNames();
        assertThat(names).anySatisfy(n -> {
            assertThat(n.get(0)).isEqualTo(7); // iPAddress
            assertThat(n.get(1)).isEqualTo("127.0.0.1");
        });
    }

    @Test
    void revocationWithTheAccountKeyShowsInPebble() {
        TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("revoke-me.anvil.test"),
                TestIssuance.http01(responder));
        X509Certificate leaf = r.chain().leaf();
        assertThat(pebble.certStatusBySerial(leaf.getSerialNumber()).path("Status").asText()).isEqualTo("Valid");

        account.revoke(leaf, RevocationReason.KEY_COMPROMISE);

        var status = pebble.certStatusBySerial(leaf.getSerialNumber());
        assertThat(status.path("Status").asText()).isEqualTo("Revoked");
        assertThat(status.path("Reason").asInt()).isEqualTo(RevocationReason.KEY_COMPROMISE.code());
    }

    @Test
    void revocationWithTheCertificateKeyShowsInPebble() {
        TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("revoke-by-key.anvil.test"),
                TestIssuance.http01(responder));
        X509Certificate leaf = r.chain().leaf();

        account.client().revokeWithCertificateKey(leaf, r.certificateKey(), RevocationReason.SUPERSEDED);

        var status = pebble.certStatusBySerial(leaf.getSerialNumber());
        assertThat(status.path("Status").asText()).isEqualTo("Revoked");
        assertThat(status.path("Reason").asInt()).isEqualTo(RevocationReason.SUPERSEDED.code());
    }

    @Test
    void authorizationCanBeFetchedAndDeactivated() {
        Order order = account.newOrder(OrderRequest.of("deactivate.anvil.test"));
        Authorization authz = account.fetchAuthorization(order.authorizations().get(0));
        assertThat(authz.identifier()).isEqualTo(Identifier.dns("deactivate.anvil.test"));
        assertThat(authz.challenge(Challenge.HTTP_01)).isPresent();
        assertThat(authz.challenge(Challenge.DNS_01)).isPresent();
        assertThat(authz.challenge("no-such-type")).isEmpty();

        Authorization deactivated = account.deactivateAuthorization(authz.url());
        assertThat(deactivated.status()).isEqualTo(Status.DEACTIVATED);
        assertThat(account.fetchOrder(order.url()).status()).isIn(Status.INVALID, Status.DEACTIVATED);
    }

    @Test
    void fiftyIssuancesInARowAllSucceedDespiteNonceRejection() {
        List<String> serials = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("n" + i + ".fifty.anvil.test"),
                    TestIssuance.http01(responder));
            serials.add(r.chain().leaf().getSerialNumber().toString(16));
        }
        assertThat(serials).doesNotHaveDuplicates().hasSize(50);
        // With 5% of nonces rejected, at least one of ~500 requests met a badNonce and was retried.
        assertThat(BAD_NONCES.get()).isPositive();
    }

    static List<String> sans(X509Certificate cert) {
        try {
            return cert.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
        } catch (java.security.cert.CertificateParsingException e) {
            throw new AssertionError(e);
        }
    }

    static void verifyChain(CertificateChain chain, X509Certificate root) throws Exception {
        List<X509Certificate> certs = chain.certificates();
        for (int i = 0; i < certs.size() - 1; i++) {
            certs.get(i).verify(certs.get(i + 1).getPublicKey());
        }
        certs.get(certs.size() - 1).verify(root.getPublicKey());
    }
}
