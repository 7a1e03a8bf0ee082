package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.KeyType;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestIssuance;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Account lifecycle against a real Pebble, with its default 5% nonce rejection on. */
class AccountIntegrationTest {

    private static Pebble pebble;
    private static Http01TestResponder responder;
    private static AcmeClient ca;

    @BeforeAll
    static void start() {
        pebble = Pebble.start();
        responder = Http01TestResponder.start(pebble.httpPort());
        ca = AcmeClient.builder(pebble.directoryUrl()).httpClient(pebble.httpClient()).build();
    }

    @AfterAll
    static void stop() {
        responder.close();
        pebble.close();
    }

    @Test
    void directoryIsReadFromPebble() {
        Directory dir = ca.fetchDirectory();
        assertThat(dir.newNonce()).startsWith("https://127.0.0.1:");
        assertThat(dir.keyChange()).isNotNull();
        assertThat(dir.revokeCert()).isNotNull();
        assertThat(dir.meta().termsOfService()).isNotBlank();
        assertThat(ca.fetchDirectory()).isSameAs(dir);
    }

    @Test
    void createFindUpdateAndDeactivate() {
        KeyPair key = KeyPairs.generate();
        AccountSession created = ca.newAccount(key, NewAccount.agreeingToTerms().withContact("first@anvil.test"));
        assertThat(created.account()).get().extracting(Account::status).isEqualTo(Status.VALID);
        assertThat(created.account().get().contact()).containsExactly("mailto:first@anvil.test");

        AccountSession again = ca.newAccount(key, NewAccount.agreeingToTerms());
        assertThat(again.accountUrl()).isEqualTo(created.accountUrl());
        assertThat(ca.findAccount(key).accountUrl()).isEqualTo(created.accountUrl());

        Account updated = created.updateContacts(List.of("second@anvil.test", "mailto:third@anvil.test"));
        assertThat(updated.contact()).containsExactly("mailto:second@anvil.test", "mailto:third@anvil.test");
        assertThat(created.fetchAccount().contact()).containsExactly("mailto:second@anvil.test", "mailto:third@anvil.test");

        assertThat(created.deactivate().status()).isEqualTo(Status.DEACTIVATED);
        assertThatThrownBy(created::fetchAccount).isInstanceOf(AcmeServerException.class)
                .satisfies(e -> assertThat(((AcmeServerException) e).acmeType()).isEqualTo("unauthorized"));
    }

    @Test
    void findAccountWithUnknownKeyIsTyped() {
        assertThatThrownBy(() -> ca.findAccount(KeyPairs.generate()))
                .isInstanceOf(AcmeServerException.class)
                .satisfies(e -> assertThat(((AcmeServerException) e).is("accountDoesNotExist")).isTrue());
    }

    @Test
    void everyAccountKeyTypeWorks() {
        for (KeyType type : List.of(KeyType.EC_P256, KeyType.EC_P384, KeyType.RSA_2048)) {
            AccountSession s = ca.newAccount(KeyPairs.generate(type), NewAccount.agreeingToTerms());
            assertThat(s.fetchAccount().status()).as(type.name()).isEqualTo(Status.VALID);
        }
    }

    @Test
    void keyRolloverMovesTheAccountToTheNewKey() {
        KeyPair oldKey = KeyPairs.generate();
        AccountSession session = ca.newAccount(oldKey, NewAccount.agreeingToTerms());
        KeyPair newKey = KeyPairs.generate(KeyType.EC_P384);

        AccountSession rolled = session.changeKey(newKey);

        assertThat(rolled.accountUrl()).isEqualTo(session.accountUrl());
        assertThat(rolled.thumbprint()).isNotEqualTo(session.thumbprint());
        assertThat(ca.findAccount(newKey).accountUrl()).isEqualTo(session.accountUrl());
        assertThatThrownBy(() -> ca.findAccount(oldKey)).isInstanceOf(AcmeServerException.class)
                .satisfies(e -> assertThat(((AcmeServerException) e).is("accountDoesNotExist")).isTrue());
        // The new key can order and issue.
        TestIssuance.Result r = TestIssuance.issue(rolled, OrderRequest.of("rollover.anvil.test"),
                TestIssuance.http01(responder));
        assertThat(r.order().status()).isEqualTo(Status.VALID);
    }

    @Test
    void ordersListContainsTheAccountsOrders() {
        AccountSession session = ca.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms());
        Order a = session.newOrder(OrderRequest.of("list-a.anvil.test"));
        Order b = session.newOrder(OrderRequest.of("list-b.anvil.test"));
        assertThat(session.fetchOrderUrls()).contains(a.url(), b.url());
    }

    @Test
    void externalAccountBindingIsRequiredAndChecked() {
        String kid = "kid-anvil";
        String macKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
        try (Pebble eabPebble = Pebble.builder().eabRequired(Map.of(kid, macKey)).start()) {
            AcmeClient eabCa = AcmeClient.builder(eabPebble.directoryUrl()).httpClient(eabPebble.httpClient()).build();
            assertThat(eabCa.fetchDirectory().meta().externalAccountRequired()).isTrue();
            int before = eabPebble.requestCount();

            assertThatThrownBy(() -> eabCa.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms()))
                    .isInstanceOf(AcmeException.class)
                    .hasMessageContaining("requires external account binding");
            assertThat(eabPebble.requestCount()).as("refused before any request").isEqualTo(before);

            String wrongKey = "AAAAM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
            assertThatThrownBy(() -> eabCa.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms()
                    .withExternalAccountBinding(ExternalAccountBinding.of(kid, wrongKey))))
                    .isInstanceOf(AcmeServerException.class)
                    .hasMessageNotContaining(wrongKey);
            assertThatThrownBy(() -> eabCa.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms()
                    .withExternalAccountBinding(ExternalAccountBinding.of("no-such-kid", macKey))))
                    .isInstanceOf(AcmeServerException.class);

            AccountSession bound = eabCa.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms()
                    .withExternalAccountBinding(ExternalAccountBinding.of(kid, macKey)));
            assertThat(bound.fetchAccount().status()).isEqualTo(Status.VALID);
        }
    }
}
