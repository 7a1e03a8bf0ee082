package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.KeyType;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ThumbprintsTest {

    @Test
    void matchesTheRfc7638Example() throws Exception {
        // RFC 7638 section 3.1
        String n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        String e = "AQAB";
        PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                new BigInteger(1, Base64.getUrlDecoder().decode(n)), new BigInteger(1, Base64.getUrlDecoder().decode(e))));
        assertThat(Thumbprints.of(key)).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384", "RSA_2048"})
    void agreesWithCoresThumbprintForEveryAccountKeyType(KeyType type) {
        // Many keys so coordinates with leading zero bytes (which must be kept) are covered too.
        int rounds = type.algorithm().equals("EC") ? 64 : 2;
        AcmeClient client = AcmeClient.builder("https://ca.test/dir").build();
        for (int i = 0; i < rounds; i++) {
            KeyPair kp = KeyPairs.generate(type);
            assertThat(Thumbprints.of(kp.getPublic()))
                    .isEqualTo(client.login(kp, "https://ca.test/acct/1").thumbprint())
                    .matches("[A-Za-z0-9_-]{43}");
        }
    }

    @Test
    void validatesThumbprintText() {
        String t = Challenges.thumbprint();
        assertThat(Thumbprints.requireValid(t)).isEqualTo(t);
        assertThatThrownBy(() -> Thumbprints.requireValid(t + "=")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("43 base64url");
        assertThatThrownBy(() -> Thumbprints.requireValid("tok." + t)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Thumbprints.requireValid(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Thumbprints.of(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
