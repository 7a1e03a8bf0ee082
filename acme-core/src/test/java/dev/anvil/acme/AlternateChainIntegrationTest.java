package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestIssuance;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Alternate chains (Link rel="alternate") from a Pebble with several roots and a longer chain. */
class AlternateChainIntegrationTest {

    @Test
    void preferredIssuerSelectsTheMatchingAlternateChain() throws Exception {
        try (Pebble pebble = Pebble.builder().alternateRoots(2).chainLength(3).start();
             Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            AcmeClient ca = AcmeClient.builder(pebble.directoryUrl()).httpClient(pebble.httpClient()).build();
            AccountSession account = ca.newAccount(KeyPairs.generate(), NewAccount.agreeingToTerms());

            TestIssuance.Result r = TestIssuance.issue(account, OrderRequest.of("alt.anvil.test"),
                    TestIssuance.http01(responder));
            CertificateChain primary = r.chain();
            assertThat(primary.alternates()).hasSize(2);
            assertThat(primary.certificates()).hasSizeGreaterThan(2); // leaf and more than one intermediate
            IssuanceIntegrationTest.verifyChain(primary, pebble.rootCertificate(0));

            Set<String> issuers = new HashSet<>();
            issuers.add(primary.topIssuer());
            for (int i = 0; i < primary.alternates().size(); i++) {
                CertificateChain alt = account.downloadCertificate(primary.alternates().get(i));
                assertThat(alt.leaf()).isEqualTo(primary.leaf());
                IssuanceIntegrationTest.verifyChain(alt, pebble.rootCertificate(i + 1));
                issuers.add(alt.topIssuer());
            }
            assertThat(issuers).hasSize(3);

            String wanted = CertificateChain.commonName(pebble.rootCertificate(2).getSubjectX500Principal());
            CertificateChain chosen = account.downloadCertificate(r.order().certificateUrl(), wanted);
            assertThat(chosen.topIssuer()).isEqualTo(wanted);
            assertThat(chosen.url()).isEqualTo(primary.alternates().get(1));

            CertificateChain fallback = account.downloadCertificate(r.order().certificateUrl(), "No Such Root");
            assertThat(fallback.url()).isEqualTo(r.order().certificateUrl());
        }
    }
}
