package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.ChallTestSrv;
import dev.anvil.acme.testing.Pebble;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real issuance from Pebble with dns-01 answered through {@link DnsMadeEasyProvider} while the
 * local clock is 90 s behind DNS Made Easy's. The fake DNS Made Easy mirrors every TXT change
 * into pebble-challtestsrv, Pebble's resolver, so the VA sees what the API holds: challtestsrv
 * only appends (set-txt) or drops every value of a name (clear-txt), so each change re-publishes
 * the full remaining list. The wildcard and the apex share {@code _acme-challenge.dme.anvil.test}:
 * both values must be served at once, and cleaning up one must leave the other.
 */
class DnsMadeEasyIssuanceIntegrationTest {

    static final String KEY = "a3f1e2d4-1111-2222-3333-444455556666";
    static final String SECRET = "b7c6d5e4-7777-8888-9999-aaaabbbbcccc";

    @TempDir
    Path dir;

    @Test
    void issuesAWildcardAndApexCertificateThroughDnsMadeEasyWithTheClock90SecondsOff() throws Exception {
        try (Pebble pebble = Pebble.start(); FakeDnsMadeEasy dme = new FakeDnsMadeEasy(KEY, SECRET)) {
            ChallTestSrv cts = pebble.challTestSrv();
            Map<String, Integer> mostValuesAtOnce = new ConcurrentHashMap<>();
            dme.mirror = (fqdn, values) -> {
                cts.clearTxt(fqdn + ".");
                values.forEach(v -> cts.setTxt(fqdn + ".", v));
                mostValuesAtOnce.merge(fqdn, values.size(), Math::max);
            };
            dme.addZone("dme.anvil.test");

            Clock skewed = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-90));
            DnsMadeEasyProvider provider = DnsMadeEasyProvider.builder(KEY, SECRET).baseUrl(dme.baseUrl())
                    .clock(skewed).build();
            Dns01Solver solver = Dns01Solver.builder(provider)
                    .propagation(PropagationChecker.disabled()) // challtestsrv is Pebble's resolver, not the world's
                    .followCnames(false)
                    .clock(skewed)
                    .build();
            IssuanceEngine engine = IssuanceEngine.builder(new FileStore(dir)).httpClient(pebble.httpClient())
                    .clock(skewed).build();
            IssuanceRequest request = IssuanceRequest.of("dme.anvil.test", "*.dme.anvil.test")
                    .withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()))
                    .withSolver(solver);

            IssuedCertificate issued = engine.issue(request);

            X509Certificate leaf = issued.leaf();
            assertThat(leaf.getSubjectAlternativeNames()).extracting(san -> (String) san.get(1))
                    .containsExactlyInAnyOrder("dme.anvil.test", "*.dme.anvil.test");
            // both challenge values were served together at the shared name, then removed one by one
            assertThat(mostValuesAtOnce).containsEntry("_acme-challenge.dme.anvil.test", 2);
            assertThat(dme.log).filteredOn(l -> l.startsWith("POST")).hasSize(2).allMatch(l -> l.endsWith("-> 201"));
            assertThat(dme.log).filteredOn(l -> l.startsWith("DELETE")).hasSize(2).allMatch(l -> l.endsWith("-> 200"));
            assertThat(dme.values("dme.anvil.test", "_acme-challenge")).isEmpty();
            assertThat(cts.lookupTxt("_acme-challenge.dme.anvil.test")).isEmpty();
            // the skew cost one refused request per thread that raced before the first answer, no more
            assertThat(dme.dateRejections.get()).isBetween(1, 2);
            assertThat(dme.hmacRejections.get()).isZero();
            assertThat(provider.clockOffset().toSeconds()).isBetween(89L, 91L);
            List<String> refused = dme.log.stream().filter(l -> l.endsWith("-> 400") || l.endsWith("-> 403")).toList();
            assertThat(refused).hasSize(dme.dateRejections.get());
        }
    }
}
