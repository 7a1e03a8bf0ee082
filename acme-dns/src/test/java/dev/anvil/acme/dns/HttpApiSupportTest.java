package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HttpApiSupportTest {

    @Test
    void zoneCandidatesWalkUpButNeverAskForATopLevelDomain() {
        assertThat(HttpApiSupport.zoneCandidates("_acme-challenge.www.example.co.uk"))
                .containsExactly("_acme-challenge.www.example.co.uk", "www.example.co.uk", "example.co.uk", "co.uk");
        assertThat(HttpApiSupport.zoneCandidates("example.com")).containsExactly("example.com");
        assertThat(HttpApiSupport.zoneCandidates("localhost")).containsExactly("localhost");
    }

    @Test
    void namesAreNormalizedAndRelativeToTheirZone() {
        assertThat(HttpApiSupport.normalize(" _ACME-Challenge.Example.COM. ")).isEqualTo("_acme-challenge.example.com");
        assertThat(HttpApiSupport.relative("_acme-challenge.www.example.com", "example.com"))
                .isEqualTo("_acme-challenge.www");
        assertThat(HttpApiSupport.relative("example.com", "example.com")).isEmpty();
        assertThatThrownBy(() -> HttpApiSupport.relative("_acme-challenge.badexample.com", "example.com"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HttpApiSupport.normalize("a..b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void txtValuesRoundTripThroughQuoting() {
        assertThat(HttpApiSupport.quoteTxt("abc")).isEqualTo("\"abc\"");
        assertThat(HttpApiSupport.quoteTxt("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(HttpApiSupport.unquoteTxt(HttpApiSupport.quoteTxt("a\"b\\c"))).isEqualTo("a\"b\\c");
        assertThat(HttpApiSupport.unquoteTxt("\"abc\"")).isEqualTo("abc");
        assertThat(HttpApiSupport.unquoteTxt("\"ab\" \"cd\"")).isEqualTo("abcd"); // split long value
        assertThat(HttpApiSupport.unquoteTxt("bare")).isEqualTo("bare");
        assertThat(HttpApiSupport.unquoteTxt("\"unterminated")).isEqualTo("\"unterminated");
    }

    @Test
    void credentialsAreTrimmedAndCheckedWithoutBeingEchoed() {
        assertThat(HttpApiSupport.cleanCredential("\uFEFF key-123 \n", "key")).isEqualTo("key-123");
        assertThat(HttpApiSupport.cleanCredential("\u00a0key-123\u200b", "key")).isEqualTo("key-123");
        assertThatThrownBy(() -> HttpApiSupport.cleanCredential("key\n123", "API key"))
                .hasMessageContaining("API key").hasMessageContaining("position 4 of 7").hasMessageNotContaining("key\n123");
        assertThatThrownBy(() -> HttpApiSupport.cleanCredential("kéy", "API key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("kéy");
        assertThat(HttpApiSupport.redact("error for key abcd1234: denied", "abcd1234")).isEqualTo("error for key [redacted]: denied");
    }
}
