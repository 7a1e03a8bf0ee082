package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.AcmeRetriesExhaustedException;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Status;
import dev.anvil.acme.retry.Attempt;
import dev.anvil.acme.retry.Backoff;
import dev.anvil.acme.retry.Cause;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.testing.Pebble;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link Dns01Solver} with an in-memory provider: names, retries through the backoff, shared names. */
class Dns01SolverTest {

    /** A zone "example.test" in memory; scripted failures are thrown before the call does anything. */
    static final class FakeProvider implements DnsProvider {
        final Map<String, List<String>> records = new ConcurrentHashMap<>();
        final Map<String, Deque<RuntimeException>> failures = new ConcurrentHashMap<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public synchronized String findZone(String name) {
            calls.add("findZone " + name);
            failMaybe("findZone");
            return "example.test";
        }

        @Override
        public synchronized void addTxt(String zone, String name, String value, Duration ttl) {
            calls.add("addTxt " + name + " " + value);
            failMaybe("addTxt");
            List<String> values = records.computeIfAbsent(name, n -> new ArrayList<>());
            if (!values.contains(value)) {
                values.add(value);
            }
        }

        @Override
        public synchronized void removeTxt(String zone, String name, String value) {
            calls.add("removeTxt " + name + " " + value);
            failMaybe("removeTxt");
            records.getOrDefault(name, new ArrayList<>()).remove(value);
        }

        /** The next call of the method throws this, before doing anything. */
        FakeProvider fail(String method, RuntimeException e) {
            failures.computeIfAbsent(method, m -> new ArrayDeque<>()).add(e);
            return this;
        }

        private void failMaybe(String method) {
            RuntimeException e = failures.getOrDefault(method, new ArrayDeque<>()).poll();
            if (e != null) {
                throw e;
            }
        }

        @Override
        public String toString() {
            return "FakeProvider";
        }
    }

    /** Records every attempt and answers 1 ms (the solver raises it to its 100 ms floor) until {@code giveUpAt}. */
    static final class RecordingBackoff implements Backoff {
        final List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
        final int giveUpAt;

        RecordingBackoff(int giveUpAt) {
            this.giveUpAt = giveUpAt;
        }

        @Override
        public Optional<Duration> next(Attempt attempt) {
            attempts.add(attempt);
            return attempt.number() >= giveUpAt ? Optional.empty() : Optional.of(Duration.ofMillis(1));
        }
    }

    static ChallengeContext context(String name, boolean wildcard, String token) {
        Challenge c = new Challenge(Challenge.DNS_01, "https://ca.test/chall/" + token, Status.PENDING, token, null,
                null, null);
        return new ChallengeContext(new Identifier(Identifier.DNS, name), wildcard, c, token + ".thumb", "thumb");
    }

    private static Dns01Solver solver(DnsProvider provider, Backoff backoff) {
        return Dns01Solver.builder(provider).propagation(PropagationChecker.disabled()).followCnames(false)
                .backoff(backoff).build();
    }

    @Test
    void answersDnsIdentifiersOnly() {
        Dns01Solver s = solver(new FakeProvider(), new RecordingBackoff(5));
        assertThat(s.types()).containsExactly("dns-01");
        assertThat(s.supports(Identifier.dns("example.test"), "dns-01")).isTrue();
        assertThat(s.supports(Identifier.ip("192.0.2.1"), "dns-01")).isFalse();
        assertThat(s.supports(Identifier.dns("example.test"), "http-01")).isFalse();
    }

    @Test
    void namesWithInvalidCharactersAreRejectedClearly() {
        FakeProvider p = new FakeProvider();
        Dns01Solver s = solver(p, new RecordingBackoff(5));
        assertThatThrownBy(() -> s.present(context("exa mple.test", false, "t1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dns-01 cannot be solved for 'exa mple.test'").hasMessageContaining("' '");
        assertThatThrownBy(() -> s.present(context("bad..example.test", false, "t2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty label");
        assertThatThrownBy(() -> s.present(context("ex\u00e4mple.test", false, "t3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-ASCII").hasMessageContaining("punycode");
        assertThatThrownBy(() -> s.present(context("evil\nexample.test", false, "t4")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("evil\\u000aexample.test")
                .hasMessageContaining("control character");
        assertThatThrownBy(() -> s.present(context("-lead.example.test", false, "t5")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("starts or ends with '-'");
        assertThatThrownBy(() -> s.present(context("x".repeat(64) + ".example.test", false, "t6")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("longer than 63");
        ChallengeContext ip = new ChallengeContext(Identifier.ip("192.0.2.1"), false, context("a.test", false, "t7")
                .challenge(), "k", "thumb");
        assertThatThrownBy(() -> s.present(ip)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a DNS identifier");
        assertThat(p.calls).isEmpty();
    }

    @Test
    void aWildcardAndItsApexShareTheNameAndEachCleansUpOnlyItsValue() {
        FakeProvider p = new FakeProvider();
        Dns01Solver s = solver(p, new RecordingBackoff(5));
        ChallengeContext wildcard = context("www.example.test", true, "wild");
        ChallengeContext apex = context("www.example.test", false, "apex");
        s.present(wildcard);
        s.present(apex);
        s.awaitReady(wildcard, Instant.now().plusSeconds(5));
        String name = "_acme-challenge.www.example.test";
        assertThat(p.records.get(name)).containsExactly(wildcard.dnsTxtValue(), apex.dnsTxtValue());

        s.cleanUp(apex);
        assertThat(p.records.get(name)).containsExactly(wildcard.dnsTxtValue());
        s.cleanUp(wildcard);
        assertThat(p.records.get(name)).isEmpty();
        s.cleanUp(wildcard); // nothing left to do: no provider call
        assertThat(p.calls.stream().filter(c -> c.startsWith("removeTxt"))).hasSize(2);
    }

    @Test
    void transientFailuresAreRetriedThroughTheBackoff() {
        FakeProvider p = new FakeProvider();
        Instant retryAt = Instant.now().plusSeconds(7);
        p.fail("findZone", new DnsProviderException("HTTP 503", true, null, null))
                .fail("findZone", new DnsProviderException("HTTP 429", true, retryAt, null))
                .fail("findZone", new DnsProviderException("connection reset", true, null, new IOException("reset")));
        RecordingBackoff backoff = new RecordingBackoff(10);
        Dns01Solver s = solver(p, backoff);

        long t0 = System.nanoTime();
        s.present(context("retry.example.test", false, "r"));
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(p.calls).containsExactly("findZone _acme-challenge.retry.example.test",
                "findZone _acme-challenge.retry.example.test", "findZone _acme-challenge.retry.example.test",
                "findZone _acme-challenge.retry.example.test",
                "addTxt _acme-challenge.retry.example.test " + context("retry.example.test", false, "r").dnsTxtValue());
        assertThat(backoff.attempts).extracting(Attempt::number).containsExactly(1, 2, 3);
        assertThat(backoff.attempts).extracting(Attempt::cause)
                .containsExactly(Cause.SERVER_ERROR, Cause.RATE_LIMITED, Cause.TRANSPORT);
        assertThat(backoff.attempts.get(1).retryAfter()).isEqualTo(retryAt);
        assertThat(backoff.attempts.get(2).error()).hasMessage("connection reset");
        // Never a hot loop: a 1 ms backoff is raised to 100 ms per retry.
        assertThat(ms).isGreaterThanOrEqualTo(300);
    }

    @Test
    void permanentFailuresAreNotRetried() {
        FakeProvider p = new FakeProvider();
        DnsProviderException denied = new DnsProviderException("API key rejected");
        p.fail("findZone", denied);
        RecordingBackoff backoff = new RecordingBackoff(10);
        Dns01Solver s = solver(p, backoff);
        assertThatThrownBy(() -> s.present(context("denied.example.test", false, "d"))).isSameAs(denied);
        assertThat(backoff.attempts).isEmpty();
        assertThat(p.calls).hasSize(1);
    }

    @Test
    void theBackoffDecidesWhenToGiveUp() {
        FakeProvider p = new FakeProvider();
        for (int i = 0; i < 5; i++) {
            p.fail("findZone", new DnsProviderException("HTTP 502 #" + i, true, null, null));
        }
        RecordingBackoff backoff = new RecordingBackoff(3);
        Dns01Solver s = solver(p, backoff);
        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> s.present(context("down.example.test", false, "x")));
        assertThat(e.attempts()).isEqualTo(3);
        assertThat(e).hasMessageContaining("finding the zone of _acme-challenge.down.example.test")
                .hasMessageContaining("HTTP 502 #2");
        assertThat(p.calls).hasSize(3);
    }

    @Test
    void anAddThatFailedIsStillCleanedUpButAZoneNeverFoundIsNot() {
        ChallengeContext c = context("half.example.test", false, "h");
        // The add may have reached the server before the error (a timeout after it applied it).
        FakeProvider p = new FakeProvider().fail("addTxt", new DnsProviderException("add failed for good"));
        Dns01Solver s = solver(p, new RecordingBackoff(10));
        assertThatThrownBy(() -> s.present(c)).hasMessage("add failed for good");
        s.cleanUp(c);
        assertThat(p.calls).last().isEqualTo("removeTxt _acme-challenge.half.example.test " + c.dnsTxtValue());

        FakeProvider q = new FakeProvider().fail("findZone", new DnsProviderException("no such zone"));
        Dns01Solver s2 = solver(q, new RecordingBackoff(10));
        assertThatThrownBy(() -> s2.present(c)).hasMessage("no such zone");
        s2.cleanUp(c);
        assertThat(q.calls).containsExactly("findZone _acme-challenge.half.example.test");

        FakeProvider r = new FakeProvider().fail("removeTxt", new DnsProviderException("remove failed for good"));
        Dns01Solver s3 = solver(r, new RecordingBackoff(10));
        s3.present(c);
        assertThatThrownBy(() -> s3.cleanUp(c)).hasMessage("remove failed for good");
    }

    @Test
    void failedCnameLookupsAreRetriedThenReported() {
        int nobody = Pebble.freeTcpAndUdpPort();
        PropagationChecker unreachable = PropagationChecker.builder().resolver("127.0.0.1:" + nobody)
                .queryTimeout(Duration.ofMillis(150)).build();
        RecordingBackoff backoff = new RecordingBackoff(2);
        FakeProvider p = new FakeProvider();
        Dns01Solver s = Dns01Solver.builder(p).propagation(unreachable).backoff(backoff).build();
        AcmeRetriesExhaustedException e = catchThrowableOfType(AcmeRetriesExhaustedException.class,
                () -> s.present(context("cname.example.test", false, "c")));
        assertThat(e.getCause()).isInstanceOf(DnsLookupException.class);
        assertThat(backoff.attempts).extracting(Attempt::cause).containsOnly(Cause.TRANSPORT);
        assertThat(p.calls).isEmpty();
    }

    @Test
    void diagnoseSaysWhereTheValueWent() {
        FakeProvider p = new FakeProvider();
        Dns01Solver s = solver(p, new RecordingBackoff(5));
        ChallengeContext c = context("diag.example.test", true, "g");
        s.present(c);
        assertThat(s.diagnose(c, null)).contains("*.diag.example.test").contains(c.dnsTxtValue())
                .contains("_acme-challenge.diag.example.test").contains("zone example.test").contains("FakeProvider")
                .contains("propagation not checked");
        s.cleanUp(c);
        assertThat(s.diagnose(c, null)).isNull();
    }
}
