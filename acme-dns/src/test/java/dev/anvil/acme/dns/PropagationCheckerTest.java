package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.AcmeException;
import dev.anvil.acme.dns.testing.Bind9;
import dev.anvil.acme.testing.Pebble;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;

/**
 * {@link PropagationChecker} against real BIND servers. The zone lists three name servers:
 * ns1 (the primary that gets updates), ns2 (a second BIND with the same zone that never gets
 * them) and ns3 (an address where nothing listens). The mapping given to the checker decides
 * which of them really answer for ns2 and ns3, so one setup serves "all in sync" and "lagging".
 */
class PropagationCheckerTest {

    private static Bind9 primary;
    private static Bind9 stale;
    private static int nobody;
    private static Rfc2136Provider dns;

    @BeforeAll
    static void start() {
        Bind9.Builder zone = Bind9.builder().zone("anvil.test").nameserver("ns2").nameserver("ns3")
                .record("_acme-challenge.delegated CNAME _acme-challenge.validation")
                .record("_acme-challenge.loop1 CNAME _acme-challenge.loop2")
                .record("_acme-challenge.loop2 CNAME _acme-challenge.loop1");
        primary = zone.start();
        stale = zone.start();
        nobody = Pebble.freeTcpAndUdpPort();
        dns = Rfc2136Provider.builder(primary.address()).tsigKey(primary.key().name(), primary.key().secret()).build();
    }

    @AfterAll
    static void stop() {
        if (primary != null) {
            primary.close();
        }
        if (stale != null) {
            stale.close();
        }
    }

    /** Every name server is the primary: in sync. */
    private static PropagationChecker.Builder inSync() {
        return PropagationChecker.builder().resolver(primary.address()).authoritativePort(primary.port())
                .interval(Duration.ofMillis(100)).timeout(Duration.ofSeconds(10));
    }

    /** ns2 is the stale BIND, ns3 an address nobody answers on. */
    private static PropagationChecker.Builder lagging() {
        return inSync().queryTimeout(Duration.ofMillis(300)).authoritativeServers((ns, address) -> switch (ns) {
            case "ns2.anvil.test" -> new InetSocketAddress(address, stale.port());
            case "ns3.anvil.test" -> new InetSocketAddress(address, nobody);
            default -> new InetSocketAddress(address, primary.port());
        });
    }

    @Test
    void returnsOnceEveryServerServesTheValue() {
        String name = "_acme-challenge.ready.anvil.test";
        dns.addTxt("anvil.test", name, "ready-value", Duration.ofSeconds(60));
        long t0 = System.nanoTime();
        inSync().build().await(name, "ready-value", null);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
    }

    @Test
    void waitsWhileTheNameIsMissingAndReturnsWhenItAppears() throws Exception {
        String name = "_acme-challenge.later.anvil.test";
        CompletableFuture<Void> publish = CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            dns.addTxt("anvil.test", name, "later-value", Duration.ofSeconds(60));
        });
        long t0 = System.nanoTime();
        inSync().build().await(name, "later-value", null);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(600);
        publish.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aTimeoutNamesTheLaggingServersAndWhatTheyAnswered() {
        String name = "_acme-challenge.partial.anvil.test";
        dns.addTxt("anvil.test", name, "partial-value", Duration.ofSeconds(60));
        long t0 = System.nanoTime();
        DnsPropagationException e = catchThrowableOfType(DnsPropagationException.class,
                () -> lagging().timeout(Duration.ofMillis(1500)).build().await(name, "partial-value", null));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(ms).isBetween(1400L, 6000L);
        assertThat(e.name()).isEqualTo(name);
        assertThat(e.laggingServers()).hasSize(2);
        assertThat(e.laggingServers().get(0)).isEqualTo("ns2.anvil.test (127.0.0.1:" + stale.port() + "): NXDOMAIN");
        assertThat(e.laggingServers().get(1)).startsWith("ns3.anvil.test (127.0.0.1:" + nobody + "): ");
        assertThat(e.getMessage()).contains("partial-value").contains("zone anvil.test")
                .contains("ns2.anvil.test (127.0.0.1:" + stale.port() + "): NXDOMAIN")
                .contains("ns3.anvil.test").doesNotContain("ns1.anvil.test");
    }

    @Test
    void anotherValueAtTheNameIsNotEnough() {
        String name = "_acme-challenge.other.anvil.test";
        dns.addTxt("anvil.test", name, "someone-elses-value", Duration.ofSeconds(60));
        DnsPropagationException e = catchThrowableOfType(DnsPropagationException.class,
                () -> inSync().timeout(Duration.ofMillis(500)).build().await(name, "our-value", null));
        assertThat(e.laggingServers()).containsExactlyInAnyOrder(
                "ns1.anvil.test (127.0.0.1:" + primary.port() + "): TXT without the value (1 other value)",
                "ns2.anvil.test (127.0.0.1:" + primary.port() + "): TXT without the value (1 other value)",
                "ns3.anvil.test (127.0.0.1:" + primary.port() + "): TXT without the value (1 other value)");
    }

    @Test
    void theCallersDeadlineWinsOverTheTimeout() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> inSync().timeout(Duration.ofSeconds(60)).build()
                .await("_acme-challenge.never.anvil.test", "x", Instant.now().plusMillis(400)))
                .isInstanceOf(DnsPropagationException.class).hasMessageContaining("NXDOMAIN");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
    }

    @Test
    void followsTheCnameAtTheChallengeName() {
        PropagationChecker checker = inSync().build();
        assertThat(checker.followCnames("_acme-challenge.delegated.anvil.test"))
                .isEqualTo("_acme-challenge.validation.anvil.test");
        assertThat(checker.followCnames("_acme-challenge.plain.anvil.test")).isEqualTo("_acme-challenge.plain.anvil.test");
        assertThatThrownBy(() -> checker.followCnames("_acme-challenge.loop1.anvil.test"))
                .isInstanceOf(AcmeException.class).hasMessageContaining("CNAME loop");

        dns.addTxt("anvil.test", "_acme-challenge.validation.anvil.test", "delegated-value", Duration.ofSeconds(60));
        checker.await("_acme-challenge.delegated.anvil.test", "delegated-value", null);
        DnsPropagationException e = catchThrowableOfType(DnsPropagationException.class, () -> inSync()
                .timeout(Duration.ofMillis(300)).build().await("_acme-challenge.delegated.anvil.test", "nope", null));
        assertThat(e.name()).isEqualTo("_acme-challenge.validation.anvil.test");
        assertThat(e).hasMessageContaining("_acme-challenge.delegated.anvil.test (CNAME to "
                + "_acme-challenge.validation.anvil.test)");
    }

    @Test
    void readsTruncatedAnswersOverTcp() throws Exception {
        String name = "_acme-challenge.big.anvil.test";
        for (int i = 0; i < 20; i++) {
            dns.addTxt("anvil.test", name, "value-" + i + "-" + "x".repeat(40), Duration.ofSeconds(60));
        }
        // Proof that UDP alone would not do: a plain 512-byte UDP answer is truncated.
        org.xbill.DNS.SimpleResolver udp = new org.xbill.DNS.SimpleResolver(primary.socketAddress());
        udp.setIgnoreTruncation(true);
        Message m = udp.send(Message.newQuery(org.xbill.DNS.Record.newRecord(
                org.xbill.DNS.Name.fromString(name + "."), Type.TXT, org.xbill.DNS.DClass.IN)));
        assertThat(m.getHeader().getFlag(Flags.TC)).isTrue();

        inSync().build().await(name, "value-19-" + "x".repeat(40), null);
    }

    @Test
    void disabledNeverWaits() {
        long t0 = System.nanoTime();
        PropagationChecker off = PropagationChecker.builder().enabled(false).resolver(primary.address()).build();
        off.await("_acme-challenge.never.anvil.test", "x", null);
        assertThat(off.isEnabled()).isFalse();
        assertThat(PropagationChecker.disabled().isEnabled()).isFalse();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(500);
    }

    @Test
    void anUnreachableResolverIsReportedWhenTimeRunsOut() {
        DnsPropagationException e = catchThrowableOfType(DnsPropagationException.class, () -> PropagationChecker
                .builder().resolver("127.0.0.1:" + nobody).queryTimeout(Duration.ofMillis(200))
                .interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(600)).build()
                .await("_acme-challenge.x.anvil.test", "v", null));
        assertThat(e).hasMessageContaining("CNAME lookup of _acme-challenge.x.anvil.test via resolver 127.0.0.1:"
                + nobody + " failed");
    }

    @Test
    void settingsAreValidated() {
        assertThatThrownBy(() -> PropagationChecker.builder().interval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PropagationChecker.builder().authoritativePort(0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> inSync().build().await("_acme-challenge.bad name.anvil.test", "v", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("' '");
    }
}
