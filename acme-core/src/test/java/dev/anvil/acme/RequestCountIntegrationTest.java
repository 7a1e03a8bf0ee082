package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestIssuance;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.TestSolvers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the HTTP requests of one single-domain http-01 issuance in Pebble's log, with a new
 * account and with a known one. Nonce rejection is off here so the count is the protocol's
 * own; polls depend on timing, so the bound allows a few.
 */
class RequestCountIntegrationTest {

    private static final Logger LOG = LoggerFactory.getLogger(RequestCountIntegrationTest.class);

    @Test
    void singleDomainHttp01IssuanceRequestCounts() {
        try (Pebble pebble = Pebble.builder().nonceRejectPercent(0).authzReusePercent(0).start();
             Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            KeyPair key = KeyPairs.generate();
            int start = pebble.requestCount();

            AcmeClient fresh = AcmeClient.builder(pebble.directoryUrl()).httpClient(pebble.httpClient()).build();
            AccountSession created = fresh.newAccount(key, NewAccount.agreeingToTerms());
            TestIssuance.issue(created, OrderRequest.of("count-new.anvil.test"), TestIssuance.http01(responder));
            List<String> newAccountRequests = pebble.requestLog().subList(start, pebble.requestCount());

            int mid = pebble.requestCount();
            AcmeClient known = AcmeClient.builder(pebble.directoryUrl()).httpClient(pebble.httpClient()).build();
            AccountSession login = known.login(key, created.accountUrl());
            TestIssuance.issue(login, OrderRequest.of("count-known.anvil.test"), TestIssuance.http01(responder));
            List<String> knownAccountRequests = pebble.requestLog().subList(mid, pebble.requestCount());

            LOG.info("requests, new account ({}): {}", newAccountRequests.size(), newAccountRequests);
            LOG.info("requests, known account ({}): {}", knownAccountRequests.size(), knownAccountRequests);

            // Floor: directory, nonce, [newAccount], newOrder, authz, challenge, order poll(s), finalize, order poll(s), cert.
            assertThat(newAccountRequests).filteredOn(r -> r.startsWith("HEAD")).hasSize(1);
            assertThat(newAccountRequests).filteredOn(r -> r.startsWith("GET /dir")).hasSize(1);
            assertThat(newAccountRequests.size()).isBetween(10, 13);
            assertThat(knownAccountRequests.size()).isBetween(9, 12);
            assertThat(knownAccountRequests).noneMatch(r -> r.contains("sign-me-up"));
        }
    }

    @Test
    void engineIssuanceRequestCounts() throws Exception {
        Path dir = Files.createTempDirectory("anvil-count-");
        try (Pebble pebble = Pebble.builder().nonceRejectPercent(0).authzReusePercent(0).start();
             Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            CertificateAuthority ca = CertificateAuthority.of("pebble", pebble.directoryUrl());
            TestSolvers.Http01 solver = new TestSolvers.Http01(responder);

            int start = pebble.requestCount();
            IssuanceEngine.builder(new FileStore(dir)).httpClient(pebble.httpClient()).build()
                    .issue(IssuanceRequest.of("engine-new.anvil.test").withCa(ca).withSolver(solver));
            List<String> newAccount = pebble.requestLog().subList(start, pebble.requestCount());

            // A new engine (a restarted process) on the same store: the account is known.
            int mid = pebble.requestCount();
            IssuanceEngine.builder(new FileStore(dir)).httpClient(pebble.httpClient()).build()
                    .issue(IssuanceRequest.of("engine-known.anvil.test").withCa(ca).withSolver(solver));
            List<String> knownAccount = pebble.requestLog().subList(mid, pebble.requestCount());

            LOG.info("engine requests, new account ({}): {}", newAccount.size(), newAccount);
            LOG.info("engine requests, known account ({}): {}", knownAccount.size(), knownAccount);
            assertThat(newAccount.size()).isBetween(10, 13);
            assertThat(knownAccount.size()).isBetween(9, 12);
            assertThat(knownAccount).noneMatch(r -> r.contains("sign-me-up"));
        }
    }
}
