package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DnsNamesTest {

    @Test
    void normalizesCaseAndTheTrailingDot() {
        assertThat(DnsNames.normalize("_ACME-Challenge.WWW.Example.COM.")).isEqualTo("_acme-challenge.www.example.com");
        assertThat(DnsNames.normalize("xn--bcher-kva.example")).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void rejectsWhatIsNotAHostNameWithAMessageNamingTheProblem() {
        assertThatThrownBy(() -> DnsNames.normalize("a b.example")).hasMessageContaining("contains ' ' in label 'a b'");
        assertThatThrownBy(() -> DnsNames.normalize("a*.example")).hasMessageContaining("'*'");
        assertThatThrownBy(() -> DnsNames.normalize("a/b.example")).hasMessageContaining("'/'");
        assertThatThrownBy(() -> DnsNames.normalize("b\u00fccher.example")).hasMessageContaining("non-ASCII character 'ü'");
        assertThatThrownBy(() -> DnsNames.normalize("a\r\nb.example")).hasMessageContaining("a\\u000d\\u000ab.example")
                .hasMessageContaining("control character U+000D");
        assertThatThrownBy(() -> DnsNames.normalize("a..example")).hasMessageContaining("empty label");
        assertThatThrownBy(() -> DnsNames.normalize(".")).hasMessageContaining("root");
        assertThatThrownBy(() -> DnsNames.normalize(" ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> DnsNames.normalize(null)).hasMessageContaining("empty");
        assertThatThrownBy(() -> DnsNames.normalize("a-.example")).hasMessageContaining("starts or ends with '-'");
        assertThatThrownBy(() -> DnsNames.normalize("x".repeat(64) + ".example")).hasMessageContaining("longer than 63");
        String longName = ("x".repeat(60) + ".").repeat(5) + "example";
        assertThatThrownBy(() -> DnsNames.normalize(longName)).hasMessageContaining("longer than 253");
        assertThatThrownBy(() -> DnsNames.normalize("a b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void relatesNamesToZones() {
        assertThat(DnsNames.isAtOrBelow("_acme-challenge.example.com", "example.com")).isTrue();
        assertThat(DnsNames.isAtOrBelow("example.com", "example.com")).isTrue();
        assertThat(DnsNames.isAtOrBelow("badexample.com", "example.com")).isFalse();
        assertThat(DnsNames.relative("_acme-challenge.www.example.com", "example.com")).isEqualTo("_acme-challenge.www");
        assertThat(DnsNames.relative("example.com", "example.com")).isEqualTo("@");
        assertThatThrownBy(() -> DnsNames.relative("example.org", "example.com"))
                .hasMessageContaining("'example.org' is not in zone 'example.com'");
    }
}
