package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Http01ResponderTest {

    private static final String P = Http01Responder.PATH_PREFIX;

    @Test
    void statefulServesRegisteredTokensAsTextUntilUnregistered() {
        Http01Responder r = Http01Responder.stateful();
        String token = Challenges.token();
        String ka = token + "." + Challenges.thumbprint();
        assertThat(r.respond("GET", P + token).status()).isEqualTo(404);

        r.register(token, ka);
        Http01Response ok = r.respond("GET", P + token);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo(ka);
        assertThat(ok.bytes()).hasSize(ka.length());
        assertThat(ok.sendBody()).isTrue();
        assertThat(ok.headers()).containsEntry("Content-Type", "text/plain").containsEntry("Cache-Control", "no-store");
        assertThat(r.keyAuthorization(token)).contains(ka);

        r.unregister(token);
        assertThat(r.respond("GET", P + token).status()).isEqualTo(404);
        assertThat(r.keyAuthorization(token)).isEmpty();
    }

    @Test
    void headAnswersTheSameWithoutBody() {
        Http01Responder r = Http01Responder.stateful();
        String token = Challenges.token();
        String ka = token + "." + Challenges.thumbprint();
        r.register(token, ka);
        Http01Response head = r.respond("HEAD", P + token);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.sendBody()).isFalse();
        assertThat(head.contentLength()).isEqualTo(ka.length());
        assertThat(r.respond("HEAD", P + Challenges.token()).sendBody()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "get", "CONNECT"})
    void onlyGetAndHead(String method) {
        Http01Responder r = Http01Responder.stateless(Challenges.thumbprint());
        Http01Response res = r.respond(method, P + Challenges.token());
        assertThat(res.status()).isEqualTo(405);
        assertThat(res.headers()).containsEntry("Allow", "GET, HEAD");
        assertThat(res.body()).doesNotContain(".");
        assertThat(r.respond(null, P + Challenges.token()).status()).isEqualTo(405);
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../../etc/passwd", "%2e%2e", "%2e%2e%2fetc%2fpasswd", "a/b", "a\\b", "..\\..\\win.ini",
            "", "tok.en", "tok%00", "tok en", "x/", "/"})
    void hostileTokensAre400AndNeverAnswered(String hostile) {
        Http01Responder stateless = Http01Responder.stateless(Challenges.thumbprint());
        Http01Response res = stateless.respond("GET", P + hostile);
        assertThat(res.status()).isEqualTo(400);
        assertThat(res.body()).startsWith("invalid ACME challenge token").doesNotContain(hostile.isEmpty() ? "\u0000" : hostile);
        assertThatThrownBy(() -> stateless.keyAuthorization(hostile)).isInstanceOf(InvalidTokenException.class);
        assertThatThrownBy(() -> stateless.register(hostile, hostile + "." + Challenges.thumbprint()))
                .isInstanceOf(InvalidTokenException.class);
    }

    @Test
    void oversizedTokenIs400() {
        Http01Responder r = Http01Responder.stateless(Challenges.thumbprint());
        assertThat(r.respond("GET", P + "a".repeat(ChallengeTokens.MAX_LENGTH)).status()).isEqualTo(200);
        assertThat(r.respond("GET", P + "a".repeat(ChallengeTokens.MAX_LENGTH + 1)).status()).isEqualTo(400);
        assertThat(r.respond("GET", P + "a".repeat(1_000_000)).status()).isEqualTo(400);
    }

    @Test
    void otherPathsAre404AndQueryIsIgnored() {
        Http01Responder r = Http01Responder.stateless(Challenges.thumbprint());
        String token = Challenges.token();
        assertThat(r.respond("GET", "/").status()).isEqualTo(404);
        assertThat(r.respond("GET", "/.well-known/acme-challenge").status()).isEqualTo(404);
        assertThat(r.respond("GET", "/.well-known/other/" + token).status()).isEqualTo(404);
        assertThat(r.respond("GET", "/x" + P + token).status()).isEqualTo(404);
        assertThat(r.respond("GET", null).status()).isEqualTo(404);
        assertThat(r.respond("POST", "/").status()).isEqualTo(404);
        assertThat(r.respond("GET", P + token + "?x=1").body()).startsWith(token + ".");
        assertThat(Http01Responder.isChallengePath(P + token)).isTrue();
        assertThat(Http01Responder.isChallengePath("/index.html")).isFalse();
    }

    @Test
    void statelessAnswersAnyWellFormedTokenWithThePrimaryThumbprint() {
        String primary = Challenges.thumbprint();
        String other = Challenges.thumbprint();
        Http01Responder r = Http01Responder.stateless(primary, other);
        assertThat(r.isStateless()).isTrue();
        assertThat(r.thumbprints()).containsExactly(primary, other);
        String token = Challenges.token();
        assertThat(r.respond("GET", P + token).body()).isEqualTo(token + "." + primary);

        // Hybrid: a token registered for the other account is answered with that account's thumbprint.
        String registered = Challenges.token();
        r.register(registered, registered + "." + other);
        assertThat(r.respond("GET", P + registered).body()).isEqualTo(registered + "." + other);
        r.unregister(registered);
        assertThat(r.respond("GET", P + registered).body()).isEqualTo(registered + "." + primary);
    }

    @Test
    void statelessWithAnEmptySourceIs404() {
        Http01Responder r = Http01Responder.stateless(List::of);
        assertThat(r.respond("GET", P + Challenges.token()).status()).isEqualTo(404);
    }

    @Test
    void refusesMalformedRegistrationsAndConfiguration() {
        Http01Responder r = Http01Responder.stateful();
        String token = Challenges.token();
        assertThatThrownBy(() -> r.register(token, "other." + Challenges.thumbprint()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<token>.<43-character thumbprint>");
        assertThatThrownBy(() -> r.register(token, token + ".short")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Http01Responder.stateless()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one");
        assertThatThrownBy(() -> Http01Responder.stateless("not-a-thumbprint"))
                .isInstanceOf(IllegalArgumentException.class);
        r.unregister("../x"); // ignored, never registered
        r.unregister(Challenges.token());
    }

    @Test
    void registrationsAreCountedAcrossConcurrentOrders() throws Exception {
        Http01Responder r = Http01Responder.stateful();
        String shared = Challenges.token();
        String ka = shared + "." + Challenges.thumbprint();
        r.register(shared, ka);
        r.register(shared, ka); // a second order presenting the same (reused) authorization
        r.unregister(shared);
        assertThat(r.respond("GET", P + shared).body()).isEqualTo(ka);
        r.unregister(shared);
        assertThat(r.respond("GET", P + shared).status()).isEqualTo(404);

        // Many orders at once: every token is answered while registered and gone afterwards.
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                results.add(pool.submit(() -> {
                    String t = Challenges.token();
                    String k = t + "." + Challenges.thumbprint();
                    r.register(t, k);
                    boolean ok = r.respond("GET", P + t).body().equals(k);
                    r.unregister(t);
                    return ok && r.respond("GET", P + t).status() == 404;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void recordsWhatWasServedOnlyForTokensASolverHolds() {
        Http01Responder r = Http01Responder.stateless(Challenges.thumbprint());
        String watched = Challenges.token();
        r.watch(watched);
        r.respond("GET", P + watched, "192.0.2.7");
        r.respond("GET", P + watched, "192.0.2.8");
        assertThat(r.lastServed(watched)).hasValueSatisfying(s -> {
            assertThat(s.count()).isEqualTo(2);
            assertThat(s.remote()).isEqualTo("192.0.2.8");
            assertThat(s.body()).startsWith(watched + ".");
        });
        String random = Challenges.token();
        r.respond("GET", P + random, "192.0.2.9");
        assertThat(r.lastServed(random)).isEmpty();
        r.unregister(watched);
        assertThat(r.isTracked(watched)).isFalse();
        // kept (bounded) after release, so a diagnosis that comes after cleanUp still knows
        assertThat(r.lastServed(watched)).hasValueSatisfying(s -> assertThat(s.count()).isEqualTo(2));
        r.respond("GET", P + watched, "192.0.2.10");
        assertThat(r.lastServed(watched)).hasValueSatisfying(s -> assertThat(s.count()).isEqualTo(2));
        for (int i = 0; i < 300; i++) {
            String t = Challenges.token();
            r.watch(t);
            r.respond("GET", P + t);
            r.unregister(t);
        }
        assertThat(r.lastServed(watched)).as("the oldest records are evicted").isEmpty();
    }
}
