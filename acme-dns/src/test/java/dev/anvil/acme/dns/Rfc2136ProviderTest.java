package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.acme.dns.testing.Bind9;
import dev.anvil.acme.testing.Pebble;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link Rfc2136Provider} against a real BIND 9 with TSIG keys of every algorithm. */
class Rfc2136ProviderTest {

    private static Bind9 bind;

    @BeforeAll
    static void startBind() {
        Bind9.Builder b = Bind9.builder().zone("anvil.test").key("anvil-key", "hmac-sha256", true);
        for (TsigAlgorithm a : TsigAlgorithm.values()) {
            b.key("key-" + a, a.toString(), true);
        }
        bind = b.key("readonly-key", "hmac-sha256", false).start();
    }

    @AfterAll
    static void stopBind() {
        if (bind != null) {
            bind.close();
        }
    }

    private static Rfc2136Provider provider() {
        return Rfc2136Provider.builder(bind.address()).tsigKey(bind.key().name(), bind.key().secret()).build();
    }

    private static String randomSecret() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    @Test
    void findsTheZoneBySoaFromAnyNameBelowIt() {
        Rfc2136Provider p = provider();
        assertThat(p.findZone("_acme-challenge.www.anvil.test")).isEqualTo("anvil.test");
        assertThat(p.findZone("_acme-challenge.anvil.test.")).isEqualTo("anvil.test");
        assertThat(p.findZone("ANVIL.test")).isEqualTo("anvil.test");
    }

    @Test
    void aZoneTheServerDoesNotHaveIsAClearPermanentError() {
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> provider().findZone("_acme-challenge.www.nope.example"));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageContaining("no zone on " + bind.address() + " holds _acme-challenge.www.nope.example");
    }

    @Test
    void addsAndRemovesSingleValuesSoTwoChallengesCanShareAName() {
        Rfc2136Provider p = provider();
        String name = "_acme-challenge.shared.anvil.test";
        p.addTxt("anvil.test", name, "value-wildcard", Duration.ofSeconds(60));
        p.addTxt("anvil.test", name, "value-apex", Duration.ofSeconds(60));
        p.addTxt("anvil.test", name, "value-apex", Duration.ofSeconds(60)); // idempotent
        assertThat(bind.txt(name)).containsExactlyInAnyOrder("value-wildcard", "value-apex");

        p.removeTxt("anvil.test", name, "value-wildcard");
        assertThat(bind.txt(name)).containsExactly("value-apex");
        p.removeTxt("anvil.test", name, "value-wildcard"); // absent: no error
        p.removeTxt("anvil.test", name, "value-apex");
        assertThat(bind.txt(name)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(TsigAlgorithm.class)
    void everyTsigAlgorithmWorks(TsigAlgorithm algorithm) {
        Bind9.Key key = bind.keys().stream().filter(k -> k.name().equals("key-" + algorithm)).findFirst().orElseThrow();
        Rfc2136Provider p = Rfc2136Provider.builder(bind.address()).tsigKey(key.name(), key.secret())
                .algorithm(TsigAlgorithm.of(key.algorithm())).build();
        String name = "_acme-challenge." + algorithm.toString().replace("hmac-", "") + ".anvil.test";
        assertThat(p.findZone(name)).isEqualTo("anvil.test");
        p.addTxt("anvil.test", name, "v", Duration.ofSeconds(30));
        assertThat(bind.txt(name)).containsExactly("v");
        p.removeTxt("anvil.test", name, "v");
        assertThat(bind.txt(name)).isEmpty();
    }

    @Test
    void aWrongSecretIsRejectedClearlyAndNotRetried() {
        String secret = randomSecret();
        Rfc2136Provider p = Rfc2136Provider.builder(bind.address()).tsigKey(bind.key().name(), secret).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt("anvil.test", "_acme-challenge.anvil.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).startsWith(Rfc2136Provider.KEY_REJECTED).contains("BADSIG").doesNotContain(secret);
        // Zone discovery is signed too, so a bad key shows up at the first call.
        assertThatThrownBy(() -> p.findZone("_acme-challenge.anvil.test")).isInstanceOf(DnsProviderException.class)
                .hasMessageStartingWith(Rfc2136Provider.KEY_REJECTED);
        assertThat(p.toString()).doesNotContain(secret);
        assertThat(bind.txt("_acme-challenge.anvil.test")).isEmpty();
    }

    @Test
    void aWrongKeyNameOrAlgorithmIsRejectedClearly() {
        Rfc2136Provider wrongName = Rfc2136Provider.builder(bind.address()).tsigKey("no-such-key", bind.key().secret())
                .build();
        assertThatThrownBy(() -> wrongName.addTxt("anvil.test", "_acme-challenge.anvil.test", "v", Duration.ofSeconds(60)))
                .isInstanceOf(DnsProviderException.class).hasMessageStartingWith(Rfc2136Provider.KEY_REJECTED)
                .hasMessageContaining("BADKEY");
        Rfc2136Provider wrongAlgorithm = Rfc2136Provider.builder(bind.address())
                .tsigKey(bind.key().name(), bind.key().secret()).algorithm(TsigAlgorithm.HMAC_SHA512).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> wrongAlgorithm.addTxt("anvil.test", "_acme-challenge.anvil.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageStartingWith(Rfc2136Provider.KEY_REJECTED);
    }

    @Test
    void aKeyWithoutUpdateRightsIsRefused() {
        Bind9.Key readonly = bind.keys().stream().filter(k -> !k.granted()).findFirst().orElseThrow();
        Rfc2136Provider p = Rfc2136Provider.builder(bind.address()).tsigKey(readonly.name(), readonly.secret()).build();
        assertThat(p.findZone("_acme-challenge.anvil.test")).isEqualTo("anvil.test");
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt("anvil.test", "_acme-challenge.anvil.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isFalse();
        assertThat(e).hasMessageStartingWith(Rfc2136Provider.REFUSED).hasMessageContaining("REFUSED");
    }

    @Test
    void anUnreachableServerIsATransientError() {
        int closed = Pebble.freeTcpAndUdpPort();
        Rfc2136Provider p = Rfc2136Provider.builder("127.0.0.1:" + closed).tsigKey("k", randomSecret())
                .timeout(Duration.ofMillis(300)).build();
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt("anvil.test", "_acme-challenge.anvil.test", "v", Duration.ofSeconds(60)));
        assertThat(e.retryable()).isTrue();
        assertThat(e).hasMessageContaining("adding TXT at _acme-challenge.anvil.test in zone anvil.test on 127.0.0.1:"
                + closed + " failed");
    }

    @Test
    void badInputIsRejectedBeforeAnythingIsSent() {
        String secret = "not base64 at all: " + randomSecret();
        assertThatThrownBy(() -> Rfc2136Provider.builder(bind.address()).tsigKey("k", secret))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid base64")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret));
        assertThatThrownBy(() -> provider().addTxt("anvil.test", "_acme-challenge.other.example", "v", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not in zone anvil.test");
        assertThatThrownBy(() -> provider().addTxt("anvil.test", "_acme-challenge.bad name.anvil.test", "v", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("' '");
        assertThatThrownBy(() -> TsigAlgorithm.of("hmac-md5")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hmac-sha256");
    }
}
