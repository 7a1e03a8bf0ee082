package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ChallengeTokensTest {

    @Test
    void acceptsBase64UrlUpToTheLimit() {
        assertThat(ChallengeTokens.isValid(Challenges.token())).isTrue();
        assertThat(ChallengeTokens.isValid("a")).isTrue();
        assertThat(ChallengeTokens.isValid("A-z_09")).isTrue();
        assertThat(ChallengeTokens.isValid("x".repeat(ChallengeTokens.MAX_LENGTH))).isTrue();
        assertThat(ChallengeTokens.requireValid("abc_-")).isEqualTo("abc_-");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../../etc/passwd", "a/b", "/", "a\\b", "\\", "%2e%2e", "a.b", "a b", "a+b", "a=",
            "tok\u0000en", "tok\nen", "ünïcode", "a?b", "a#b", "~root", "C:", "*"})
    void refusesEverythingElse(String hostile) {
        assertThat(ChallengeTokens.isValid(hostile)).isFalse();
        assertThatThrownBy(() -> ChallengeTokens.requireValid(hostile)).isInstanceOf(InvalidTokenException.class)
                .hasMessageContaining("outside base64url")
                // the message never carries raw control characters or backslashes from the input
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n", "\u0000"));
    }

    @Test
    void refusesEmptyNullAndOversizedWithTheReason() {
        assertThatThrownBy(() -> ChallengeTokens.requireValid("")).isInstanceOf(InvalidTokenException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> ChallengeTokens.requireValid(null)).isInstanceOf(InvalidTokenException.class)
                .hasMessageContaining("missing");
        String big = "a".repeat(ChallengeTokens.MAX_LENGTH + 1);
        assertThat(ChallengeTokens.isValid(big)).isFalse();
        assertThatThrownBy(() -> ChallengeTokens.requireValid(big)).isInstanceOf(InvalidTokenException.class)
                .hasMessageContaining("513 characters long").hasMessageContaining("...")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(200));
        assertThat(new InvalidTokenException("x")).isInstanceOf(IllegalArgumentException.class);
    }
}
