package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.dns.testing.PowerDns;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link PowerDnsProvider} against a real pdns_server (gsqlite3 backend), checked over DNS. */
class PowerDnsProviderTest {

    private static PowerDns pdns;

    @BeforeAll
    static void start() {
        pdns = PowerDns.start();
        pdns.createZone("anvil.test", new String[] {"_acme-challenge.cname", "CNAME", "elsewhere.anvil.test."});
        pdns.createZone("sub.anvil.test");
    }

    @AfterAll
    static void stop() {
        if (pdns != null) {
            pdns.close();
        }
    }

    private static PowerDnsProvider provider() {
        return PowerDnsProvider.builder(pdns.apiUrl(), pdns.apiKey()).build();
    }

    @Test
    void findsTheLongestMatchingZone() {
        PowerDnsProvider p = provider();
        assertThat(p.findZone("_acme-challenge.www.anvil.test")).isEqualTo("anvil.test");
        assertThat(p.findZone("_acme-challenge.www.sub.anvil.test")).isEqualTo("sub.anvil.test");
        assertThat(p.findZone("sub.anvil.test.")).isEqualTo("sub.anvil.test");
        // "/api/v1" in the URL is accepted as well
        assertThat(PowerDnsProvider.builder(pdns.apiUrl() + "/api/v1", pdns.apiKey()).build()
                .findZone("_acme-challenge.anvil.test")).isEqualTo("anvil.test");
    }

    @Test
    void aZoneThatDoesNotExistIsAClearPermanentError() {
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> provider().findZone("_acme-challenge.www.nope.example"));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageContaining("no zone on PowerDNS").hasMessageContaining("holds _acme-challenge.www.nope.example")
                .hasMessageContaining("anvil.test, sub.anvil.test");
        DnsProviderException e2 = catchThrowableOfType(DnsProviderException.class,
                () -> provider().addTxt("nope.example", "_acme-challenge.nope.example", "v", Duration.ofSeconds(60)));
        assertThat(e2).hasMessageContaining("zone nope.example does not exist on PowerDNS");
    }

    @Test
    void addsAndRemovesSingleValuesKeepingTheOthers() {
        PowerDnsProvider p = provider();
        String name = "_acme-challenge.shared.anvil.test";
        p.addTxt("anvil.test", name, "value-wildcard", Duration.ofSeconds(60));
        p.addTxt("anvil.test", name, "value-apex", Duration.ofSeconds(60));
        p.addTxt("anvil.test", name, "value-apex", Duration.ofSeconds(60)); // idempotent
        assertThat(pdns.txt(name)).containsExactlyInAnyOrder("value-wildcard", "value-apex");

        p.removeTxt("anvil.test", name, "value-wildcard");
        assertThat(pdns.txt(name)).containsExactly("value-apex");
        p.removeTxt("anvil.test", name, "value-wildcard"); // absent: no error, no change
        p.removeTxt("anvil.test", name, "value-apex"); // last one: the RRset is deleted
        assertThat(pdns.txt(name)).isEmpty();
        assertThat(pdns.log()).doesNotContain(pdns.apiKey());
    }

    @Test
    void parallelAddsAtOneNameDoNotOverwriteEachOther() throws Exception {
        PowerDnsProvider p = provider();
        String name = "_acme-challenge.parallel.sub.anvil.test";
        Thread[] threads = new Thread[4];
        for (int i = 0; i < threads.length; i++) {
            String v = "parallel-" + i;
            threads[i] = new Thread(() -> p.addTxt("sub.anvil.test", name, v, Duration.ofSeconds(60)));
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertThat(pdns.txt(name)).containsExactlyInAnyOrder("parallel-0", "parallel-1", "parallel-2", "parallel-3");
    }

    @Test
    void aWrongApiKeyIsRejectedClearlyWithoutEchoingIt() {
        String wrong = "wrong-key-" + System.nanoTime();
        PowerDnsProvider p = PowerDnsProvider.builder(pdns.apiUrl(), wrong).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.findZone("_acme-challenge.anvil.test"));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("PowerDNS rejected the API key (HTTP 401)").doesNotContain(wrong)
                .doesNotContain(pdns.apiKey());
        assertThat(p.toString()).doesNotContain(wrong);
    }

    @Test
    void theServersValidationErrorIsSurfaced() {
        // PowerDNS refuses a TXT next to a CNAME with 422 {"error": "... Conflicts with pre-existing RRset"}.
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> provider()
                .addTxt("anvil.test", "_acme-challenge.cname.anvil.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageContaining("PowerDNS refused adding TXT at _acme-challenge.cname.anvil.test (HTTP 422)")
                .hasMessageContaining("onflicts");
    }

    @Test
    void thePropagationCheckSeesTheValueOnPowerDns() {
        String name = "_acme-challenge.checked.anvil.test";
        provider().addTxt("anvil.test", name, "checked-value", Duration.ofSeconds(60));
        PropagationChecker.builder().resolver(pdns.dnsAddress()).authoritativePort(pdns.dnsPort())
                .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(20)).build()
                .await(name, "checked-value", null);
    }
}
