package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.InetAddress;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class IdentifierTest {

    // ---- DNS names ----------------------------------------------------------------------------

    @Test
    void dnsNamesAreLowercasedAndLoseTheTrailingDot() {
        assertThat(Identifier.dns("WWW.Example.COM")).isEqualTo(new Identifier("dns", "www.example.com"));
        assertThat(Identifier.dns("example.com.").value()).isEqualTo("example.com");
        assertThat(Identifier.dns("  example.com  ").value()).isEqualTo("example.com");
        assertThat(Identifier.dns("Example.COM.").type()).isEqualTo(Identifier.DNS);
    }

    @Test
    void unicodeNamesBecomePunycode() {
        assertThat(Identifier.dns("bücher.example").value()).isEqualTo("xn--bcher-kva.example");
        assertThat(Identifier.dns("BÜCHER.example").value()).isEqualTo("xn--bcher-kva.example");
        assertThat(Identifier.dns("*.bücher.example").value()).isEqualTo("*.xn--bcher-kva.example");
        // Already-ASCII punycode stays as it is.
        assertThat(Identifier.dns("xn--bcher-kva.example").value()).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void wildcardPrefixIsKept() {
        Identifier w = Identifier.dns("*.Example.com.");
        assertThat(w.value()).isEqualTo("*.example.com");
        assertThat(w.isWildcard()).isTrue();
        assertThat(Identifier.dns("www.example.com").isWildcard()).isFalse();
        assertThat(Identifier.ip("192.0.2.1").isWildcard()).isFalse();
        // Only a DNS identifier can be a wildcard, whatever its value says.
        assertThat(new Identifier("ip", "*.example.com").isWildcard()).isFalse();
    }

    @Test
    void longestValidNameIsAccepted() {
        String label63 = "a".repeat(63);
        String name = label63 + "." + label63 + "." + label63 + "." + "b".repeat(61); // 253 characters
        assertThat(name).hasSize(253);
        assertThat(Identifier.dns(name).value()).isEqualTo(name);
        assertThat(Identifier.dns(label63 + ".com").value()).isEqualTo(label63 + ".com");
    }

    static Stream<Arguments> invalidNames() {
        String label63 = "a".repeat(63);
        String name254 = label63 + "." + label63 + "." + label63 + "." + "b".repeat(62);
        String wildcard255 = "*." + label63 + "." + label63 + "." + label63 + "." + "b".repeat(61);
        return Stream.of(
                Arguments.of("", "empty"),
                Arguments.of("   ", "empty"),
                Arguments.of("exa mple.com", "exa mple.com"),
                Arguments.of("a..b", "a..b"),
                Arguments.of("a".repeat(64) + ".com", "a".repeat(64)),
                Arguments.of(name254, "253"),
                Arguments.of(wildcard255, "253"),
                Arguments.of("-a.com", "-a.com"),
                Arguments.of("a-.com", "a-.com"),
                Arguments.of("exa_mple.com", "exa_mple.com"),
                Arguments.of("*.*.a.com", "*.*.a.com"),
                Arguments.of("a.*.com", "a.*.com"),
                Arguments.of("*", "'*'"),
                Arguments.of("*.", "'*.'"),
                Arguments.of("*.com", "two labels"),
                Arguments.of("localhost", "two labels"),
                Arguments.of("a\u0000b.com", "\\u0000"),
                Arguments.of("a\tb.com", "\\u0009"),
                Arguments.of("exa\nmple.com", "\\u000a"),
                Arguments.of("../x", "../x"),
                Arguments.of(".example.com", ".example.com"),
                Arguments.of("example.com..", "example.com.."),
                Arguments.of("example.com/path", "example.com/path"),
                Arguments.of("user@example.com", "user@example.com"),
                // An IP address is not a DNS name, even with a trailing dot.
                Arguments.of("192.0.2.1", "all-numeric"),
                Arguments.of("192.0.2.1.", "all-numeric"),
                Arguments.of("example.123", "all-numeric"));
    }

    @ParameterizedTest
    @MethodSource("invalidNames")
    void invalidNamesAreRejectedWithAClearMessage(String name, String mentioned) {
        assertThatThrownBy(() -> Identifier.dns(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(mentioned)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u0000", "\t", "\n"));
    }

    @Test
    void invalidNameMessagesSayWhatIsWrong() {
        assertThatThrownBy(() -> Identifier.dns(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain name is empty");
        assertThatThrownBy(() -> Identifier.dns("localhost")).hasMessageContaining("invalid domain name 'localhost'");
        assertThatThrownBy(() -> Identifier.dns("a".repeat(64) + ".com")).hasMessageStartingWith("invalid domain name");
    }

    // ---- IP addresses -------------------------------------------------------------------------

    @Test
    void ipv4IsKeptAsADottedQuad() {
        assertThat(Identifier.ip("192.0.2.1")).isEqualTo(new Identifier("ip", "192.0.2.1"));
        assertThat(Identifier.ip(" 10.0.0.255 ").value()).isEqualTo("10.0.0.255");
        assertThat(Identifier.ip("0.0.0.0").value()).isEqualTo("0.0.0.0");
    }

    static Stream<Arguments> ipv6() {
        return Stream.of(
                Arguments.of("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
                Arguments.of("2001:DB8::1", "2001:db8::1"),
                Arguments.of("::1", "::1"),
                Arguments.of("[::1]", "::1"),
                Arguments.of("[2001:db8::0:1]", "2001:db8::1"),
                Arguments.of("0:0:0:0:0:0:0:0", "::"),
                Arguments.of("1:0:0:0:0:0:0:0", "1::"),
                // The longest run of zero groups is compressed...
                Arguments.of("fe80:0:0:1:0:0:0:1", "fe80:0:0:1::1"),
                Arguments.of("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
                // ...the first one on ties...
                Arguments.of("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
                // ...and a single zero group never is.
                Arguments.of("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
                Arguments.of("2001:db8:0:1:0:1:0:1", "2001:db8:0:1:0:1:0:1"),
                // Leading zeros go, hex is lowercase.
                Arguments.of("2001:0DB8:00AB:000C:0001:0010:0100:1000", "2001:db8:ab:c:1:10:100:1000"));
    }

    @ParameterizedTest
    @MethodSource("ipv6")
    void ipv6IsInRfc5952Form(String input, String canonical) {
        Identifier id = Identifier.ip(input);
        assertThat(id.type()).isEqualTo(Identifier.IP);
        assertThat(id.value()).isEqualTo(canonical);
    }

    @Test
    void ipFromAnInetAddress() throws Exception {
        InetAddress v6 = InetAddress.getByAddress(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        assertThat(Identifier.ip(v6)).isEqualTo(new Identifier("ip", "2001:db8::1"));
        InetAddress v4 = InetAddress.getByAddress(new byte[] {(byte) 198, 51, 100, 7});
        assertThat(Identifier.ip(v4)).isEqualTo(new Identifier("ip", "198.51.100.7"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4/24", "0x1.2.3.4", "+1.2.3.4",
            "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "::1%eth0", "fe80::1%1", "[::1", "::1]", "[1.2.3.4",
            "example.com", "not-an-ip.invalid", "localhost"})
    void invalidIpsAreRejected(String address) {
        assertThatThrownBy(() -> Identifier.ip(address))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not an IP address");
    }

    @Test
    void nullIpIsRejected() {
        assertThatThrownBy(() -> Identifier.ip((String) null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noDnsLookupIsMade() {
        // A lookup of a .invalid name would take a resolver round trip (or a timeout); parsing takes microseconds.
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            for (int i = 0; i < 50; i++) {
                String host = "not-an-ip-" + i + ".invalid";
                assertThatThrownBy(() -> Identifier.ip(host))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(host);
                assertThat(Identifier.of(host)).isEqualTo(new Identifier("dns", host));
                assertThat(Identifier.dns(host).value()).isEqualTo(host);
            }
        });
    }

    // ---- of() ---------------------------------------------------------------------------------

    @Test
    void ofPicksIpOrDns() {
        assertThat(Identifier.of("192.0.2.1")).isEqualTo(new Identifier("ip", "192.0.2.1"));
        assertThat(Identifier.of("2001:db8:0:0::1")).isEqualTo(new Identifier("ip", "2001:db8::1"));
        assertThat(Identifier.of("[2001:db8::1]")).isEqualTo(new Identifier("ip", "2001:db8::1"));
        assertThat(Identifier.of(" 192.0.2.1 ")).isEqualTo(new Identifier("ip", "192.0.2.1"));
        assertThat(Identifier.of("WWW.Example.com.")).isEqualTo(new Identifier("dns", "www.example.com"));
        assertThat(Identifier.of("*.example.com")).isEqualTo(new Identifier("dns", "*.example.com"));
        assertThat(Identifier.of("bücher.example")).isEqualTo(new Identifier("dns", "xn--bcher-kva.example"));
    }

    @Test
    void ofRejectsWhatIsNeither() {
        assertThatThrownBy(() -> Identifier.of("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifier.of(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifier.of("[example.com]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifier.of("256.1.1.1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifier.of("1.2.3.4.")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifier.of("exa_mple.com")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void constructorRequiresTypeAndValue() {
        assertThatThrownBy(() -> new Identifier(null, "x")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Identifier("dns", null)).isInstanceOf(NullPointerException.class);
    }
}
