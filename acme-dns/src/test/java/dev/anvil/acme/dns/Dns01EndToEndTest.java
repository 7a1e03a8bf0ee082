package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.dns.testing.Bind9;
import dev.anvil.acme.dns.testing.PowerDns;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.MemoryStore;
import dev.anvil.acme.testing.Pebble;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Real issuance: the engine with {@link Dns01Solver} against a real Pebble whose VA resolves
 * through our DNS server (BIND updated by RFC 2136, or PowerDNS updated through its API), for a
 * wildcard and its apex in one order: two different TXT values at the same name at once.
 */
class Dns01EndToEndTest {

    /** Passes calls through and records them, to show both values were published at one name. */
    static final class Recording implements DnsProvider {
        final DnsProvider delegate;
        final List<String> added = new CopyOnWriteArrayList<>();
        final List<String> removed = new CopyOnWriteArrayList<>();

        Recording(DnsProvider delegate) {
            this.delegate = delegate;
        }

        @Override
        public String findZone(String name) {
            return delegate.findZone(name);
        }

        @Override
        public void addTxt(String zone, String name, String value, Duration ttl) {
            delegate.addTxt(zone, name, value, ttl);
            added.add(name + " " + value);
        }

        @Override
        public void removeTxt(String zone, String name, String value) {
            delegate.removeTxt(zone, name, value);
            removed.add(name + " " + value);
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }

    private static IssuedCertificate issue(Pebble pebble, DnsProvider provider, PropagationChecker checker,
                                           String... names) {
        Dns01Solver solver = Dns01Solver.builder(provider).propagation(checker).build();
        IssuanceEngine engine = IssuanceEngine.builder(new MemoryStore()).httpClient(pebble.httpClient()).build();
        return engine.issue(IssuanceRequest.of(names).withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()))
                .withSolver(solver));
    }

    private static List<String> sans(X509Certificate cert) throws Exception {
        return cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList();
    }

    @Test
    void rfc2136OnBindIssuesAWildcardWithItsApexAndADelegatedName() throws Exception {
        try (Bind9 bind = Bind9.builder().zone("anvil.test")
                .record("_acme-challenge.delegated CNAME _acme-challenge.validation").start();
             Pebble pebble = Pebble.builder().dnsServer(bind.address()).start()) {
            Recording dns = new Recording(Rfc2136Provider.builder(bind.address())
                    .tsigKey(bind.key().name(), bind.key().secret()).build());
            PropagationChecker checker = PropagationChecker.builder().resolver(bind.address())
                    .authoritativePort(bind.port()).interval(Duration.ofMillis(250)).timeout(Duration.ofSeconds(30))
                    .build();

            IssuedCertificate issued = issue(pebble, dns, checker, "*.anvil.test", "anvil.test", "delegated.anvil.test");

            assertThat(sans(issued.leaf())).containsExactlyInAnyOrder("*.anvil.test", "anvil.test", "delegated.anvil.test");
            List<String> atApex = dns.added.stream().filter(a -> a.startsWith("_acme-challenge.anvil.test ")).toList();
            assertThat(atApex).hasSize(2).doesNotHaveDuplicates();
            assertThat(dns.added).anyMatch(a -> a.startsWith("_acme-challenge.validation.anvil.test "))
                    .noneMatch(a -> a.startsWith("_acme-challenge.delegated.anvil.test "));
            assertThat(dns.removed).containsExactlyInAnyOrderElementsOf(dns.added);
            assertThat(bind.txt("_acme-challenge.anvil.test")).isEmpty();
            assertThat(bind.txt("_acme-challenge.validation.anvil.test")).isEmpty();
        }
    }

    @Test
    void powerDnsIssuesAWildcardWithItsApex() throws Exception {
        try (PowerDns pdns = PowerDns.start()) {
            pdns.createZone("anvil.test");
            try (Pebble pebble = Pebble.builder().dnsServer("127.0.0.1:" + pdns.dnsPort()).start()) {
                Recording dns = new Recording(PowerDnsProvider.builder(pdns.apiUrl(), pdns.apiKey()).build());
                PropagationChecker checker = PropagationChecker.builder().resolver(pdns.dnsAddress())
                        .authoritativePort(pdns.dnsPort()).interval(Duration.ofMillis(250))
                        .timeout(Duration.ofSeconds(30)).build();

                IssuedCertificate issued = issue(pebble, dns, checker, "*.anvil.test", "anvil.test");

                assertThat(sans(issued.leaf())).containsExactlyInAnyOrder("*.anvil.test", "anvil.test");
                assertThat(dns.added).hasSize(2).doesNotHaveDuplicates()
                        .allMatch(a -> a.startsWith("_acme-challenge.anvil.test "));
                assertThat(dns.removed).containsExactlyInAnyOrderElementsOf(dns.added);
                assertThat(pdns.txt("_acme-challenge.anvil.test")).isEmpty();
            }
        }
    }
}
