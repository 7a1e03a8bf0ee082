package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.dns.testing.Bind9;
import dev.anvil.acme.solver.ChallengeContext;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Dns01Solver} with {@link Rfc2136Provider} and the propagation check on a real BIND 9. */
class Dns01SolverBindTest {

    private static Bind9 bind;

    @BeforeAll
    static void start() {
        bind = Bind9.builder().zone("anvil.test")
                .record("_acme-challenge.delegated CNAME _acme-challenge.validation").start();
    }

    @AfterAll
    static void stop() {
        if (bind != null) {
            bind.close();
        }
    }

    private static Dns01Solver solver(DnsProvider provider) {
        return Dns01Solver.builder(provider).propagation(PropagationChecker.builder().resolver(bind.address())
                .authoritativePort(bind.port()).interval(Duration.ofMillis(100)).timeout(Duration.ofSeconds(5)).build())
                .build();
    }

    private static Rfc2136Provider provider() {
        return Rfc2136Provider.builder(bind.address()).tsigKey(bind.key().name(), bind.key().secret()).build();
    }

    @Test
    void followsTheCnameAndPublishesAtItsTarget() {
        Dns01Solver s = solver(provider());
        ChallengeContext c = Dns01SolverTest.context("delegated.anvil.test", false, "deleg");
        s.present(c);
        assertThat(bind.txt("_acme-challenge.validation.anvil.test")).containsExactly(c.dnsTxtValue());
        s.awaitReady(c, Instant.now().plusSeconds(5));
        assertThat(s.diagnose(c, null)).contains("_acme-challenge.validation.anvil.test (CNAME target of"
                + " _acme-challenge.delegated.anvil.test)");
        s.cleanUp(c);
        assertThat(bind.txt("_acme-challenge.validation.anvil.test")).isEmpty();
    }

    @Test
    void aWildcardAndItsApexAreBothServedUntilEachIsCleanedUp() {
        Dns01Solver s = solver(provider());
        ChallengeContext wildcard = Dns01SolverTest.context("pair.anvil.test", true, "w");
        ChallengeContext apex = Dns01SolverTest.context("pair.anvil.test", false, "a");
        s.present(wildcard);
        s.present(apex);
        s.awaitReady(wildcard, null);
        s.awaitReady(apex, null);
        assertThat(bind.txt("_acme-challenge.pair.anvil.test"))
                .containsExactlyInAnyOrder(wildcard.dnsTxtValue(), apex.dnsTxtValue());
        s.cleanUp(wildcard);
        assertThat(bind.txt("_acme-challenge.pair.anvil.test")).containsExactly(apex.dnsTxtValue());
        s.cleanUp(apex);
        assertThat(bind.txt("_acme-challenge.pair.anvil.test")).isEmpty();
    }

    @Test
    void aWrongSecretFailsPresentAtOnceWithoutRetries() {
        Dns01SolverTest.RecordingBackoff backoff = new Dns01SolverTest.RecordingBackoff(5);
        Dns01Solver s = Dns01Solver.builder(Rfc2136Provider.builder(bind.address()).tsigKey(bind.key().name(),
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").build()).propagation(PropagationChecker.builder()
                .resolver(bind.address()).build()).backoff(backoff).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> s.present(Dns01SolverTest.context("wrong.anvil.test", false, "x")));
        assertThat(e).hasMessageStartingWith(Rfc2136Provider.KEY_REJECTED);
        assertThat(backoff.attempts).isEmpty();
    }

    @Test
    void aZoneThatDoesNotExistFailsPresentClearly() {
        Dns01Solver s = solver(provider());
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> s.present(Dns01SolverTest.context("www.nope.example", false, "n")));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageContaining("no zone on " + bind.address() + " holds _acme-challenge.www.nope.example");
    }
}
