package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.acme.dns.FakeCloudflare.Failure;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CloudflareProviderTest {

    static final String TOKEN = "YQSn-xWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7T";
    static final String READ_ONLY = "ReadOnly0000000000000000000000000000000x";
    static final String NAME = "_acme-challenge.example.com";
    static final Instant NOW = Instant.parse("2026-11-24T10:00:00Z");

    FakeCloudflare cf;
    String zoneId;

    @BeforeEach
    void start() {
        cf = new FakeCloudflare(TOKEN, READ_ONLY);
        zoneId = cf.addZone("example.com");
    }

    @AfterEach
    void stop() {
        cf.close();
    }

    CloudflareProvider provider(String token) {
        return CloudflareProvider.builder(token).baseUrl(cf.baseUrl()).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
    }

    @Test
    void addsListsAndRemovesOnlyTheExactContent() {
        cf.addRecord("example.com", NAME, "left-by-another-tool");
        cf.addRecord("example.com", "other.example.com", "unrelated");
        CloudflareProvider p = provider(TOKEN);

        String zone = p.findZone(NAME);
        assertThat(zone).isEqualTo("example.com");
        p.addTxt(zone, NAME, "apex-value", Duration.ofSeconds(120));
        p.addTxt(zone, NAME, "apex-value-2", Duration.ofSeconds(30)); // a prefix match must not count
        assertThat(cf.contents(NAME)).containsExactly("left-by-another-tool", "apex-value", "apex-value-2");

        JsonNode post = cf.posted.get(0);
        assertThat(post.path("type").asText()).isEqualTo("TXT");
        assertThat(post.path("name").asText()).isEqualTo(NAME);
        assertThat(post.path("content").asText()).isEqualTo("apex-value");
        assertThat(post.path("ttl").asInt()).isEqualTo(120);
        assertThat(cf.posted.get(1).path("ttl").asInt()).isEqualTo(60); // clamped to Cloudflare's minimum
        assertThat(cf.targets()).contains("GET /client/v4/zones/" + zoneId + "/dns_records?type=TXT&name=" + NAME
                + "&per_page=100");
        assertThat(cf.log).allMatch(l -> l.endsWith("-> 200"));

        p.removeTxt(zone, NAME, "apex-value");
        assertThat(cf.contents(NAME)).containsExactly("left-by-another-tool", "apex-value-2");
        assertThat(cf.contents("other.example.com")).containsExactly("unrelated");
        p.removeTxt(zone, NAME, "absent"); // no error
        assertThat(cf.targets()).filteredOn(t -> t.startsWith("DELETE")).hasSize(1);
    }

    @Test
    void quotedContentFromCloudflareStillMatches() {
        cf.quoteContent = true;
        CloudflareProvider p = provider(TOKEN);
        p.addTxt("example.com", NAME, "v1", null);
        p.addTxt("example.com", NAME, "v1", null); // listed as "\"v1\"": recognised, no second POST
        assertThat(cf.posted).hasSize(1);
        p.removeTxt("example.com", NAME, "v1");
        assertThat(cf.contents(NAME)).isEmpty();
    }

    @Test
    void walksUpTheLabelsToFindTheZone() {
        String sub = cf.addZone("sub.example.com");
        CloudflareProvider p = provider(TOKEN);
        assertThat(p.findZone("_acme-challenge.www.example.com")).isEqualTo("example.com");
        assertThat(cf.targets()).containsExactly(
                "GET /client/v4/zones?name=_acme-challenge.www.example.com",
                "GET /client/v4/zones?name=www.example.com",
                "GET /client/v4/zones?name=example.com");
        assertThat(p.findZone("_acme-challenge.a.sub.example.com")).isEqualTo("sub.example.com");
        p.addTxt("sub.example.com", "_acme-challenge.a.sub.example.com", "v", null);
        assertThat(cf.targets()).contains("POST /client/v4/zones/" + sub + "/dns_records");

        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.findZone("_acme-challenge.nothere.org"));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("no zone holds _acme-challenge.nothere.org").contains("nothere.org")
                .contains("Zone.Zone Read");
        assertThat(cf.targets()).noneMatch(t -> t.endsWith("name=org"));
    }

    @Test
    void pinnedZoneIdNeedsNoZoneLookup() {
        CloudflareProvider p = CloudflareProvider.builder(TOKEN).baseUrl(cf.baseUrl())
                .zoneId("example.com", zoneId).build();
        assertThat(p.findZone("_acme-challenge.www.example.com")).isEqualTo("example.com");
        p.addTxt("example.com", "_acme-challenge.www.example.com", "v", null);
        assertThat(cf.targets()).noneMatch(t -> t.startsWith("GET /client/v4/zones?"));
        assertThat(cf.contents("_acme-challenge.www.example.com")).containsExactly("v");
    }

    @Test
    void creatingARecordThatAlreadyExistsIsSuccess() {
        CloudflareProvider p = provider(TOKEN);
        cf.addRecord("example.com", NAME, "v");
        cf.listingLags = true; // another client created it a moment ago: the listing does not show it yet
        p.addTxt("example.com", NAME, "v", null);
        assertThat(cf.log).anyMatch(l -> l.startsWith("POST") && l.endsWith("-> 400")); // 81058
        cf.listingLags = false;
        assertThat(cf.contents(NAME)).containsExactly("v");

        cf.failNext(new Failure("POST", 400, null, 81057, "Record already exists."));
        p.addTxt("example.com", NAME, "w", null);
    }

    @Test
    void invalidTokenIsAClearNonRetryableError() {
        CloudflareProvider p = provider("not-a-valid-token-0123456789");
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("API token rejected or lacks Zone.DNS edit permission")
                .contains("9109: Invalid access token").contains("HTTP 403");
        assertThat(cf.log).hasSize(1); // not treated as "no zone here, try the parent"
    }

    @Test
    void tokenWithoutDnsEditIsAClearNonRetryableError() {
        CloudflareProvider p = provider(READ_ONLY);
        String zone = p.findZone(NAME);
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt(zone, NAME, "v", null));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("API token rejected or lacks Zone.DNS edit permission")
                .contains("10000: Authentication error");
    }

    @Test
    void authenticationErrorCodeMapsEvenWithoutA403() {
        CloudflareProvider p = provider(TOKEN);
        cf.failNext(new Failure(null, 400, null, 10000, "Authentication error"));
        assertThatThrownBy(() -> p.findZone(NAME)).isInstanceOf(DnsProviderException.class)
                .hasMessageContaining("API token rejected or lacks Zone.DNS edit permission");
    }

    @Test
    void rateLimitedIsRetryableWithRetryAfter() {
        CloudflareProvider p = provider(TOKEN);
        cf.failNext(new Failure(null, 429, "17", 971, "Please wait and consider throttling your request speed"));
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isTrue();
        assertThat(e.retryAfter()).contains(NOW.plusSeconds(17));
        assertThat(e.getMessage()).contains("429").contains("971: Please wait");
        assertThat(p.findZone(NAME)).isEqualTo("example.com");
    }

    @Test
    void serverErrorsAreRetryable() {
        CloudflareProvider p = provider(TOKEN);
        cf.failNext(new Failure(null, 500, null, 10002, "Internal server error"));
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME));
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("HTTP 500").contains("10002: Internal server error");

        // an edge error page, not JSON
        cf.failNext(new Failure("POST", 502, "5", 0, null, "<html><title>502 Bad Gateway</title></html>"));
        DnsProviderException e2 = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt("example.com", NAME, "v", null));
        assertThat(e2.retryable()).isTrue();
        assertThat(e2.retryAfter()).contains(NOW.plusSeconds(5));
        assertThat(e2.getMessage()).contains("HTTP 502").contains("502 Bad Gateway");
        p.addTxt("example.com", NAME, "v", null);
        assertThat(cf.contents(NAME)).containsExactly("v");
    }

    @Test
    void unsuccessfulAnswersListCodesAndMessages() {
        CloudflareProvider p = provider(TOKEN);
        cf.failNext(new Failure("POST", 400, null, 1004, "DNS Validation Error"));
        DnsProviderException e = catchThrowableOfType(DnsProviderException.class,
                () -> p.addTxt("example.com", NAME, "v", null));
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("success=false").contains("1004: DNS Validation Error")
                .contains("POST /zones/" + zoneId + "/dns_records");
    }

    @Test
    void recordAlreadyDeletedByOthersIsNotAnError() {
        CloudflareProvider p = provider(TOKEN);
        cf.addRecord("example.com", NAME, "v");
        cf.failNext(new Failure("DELETE", 404, null, 81044, "Record does not exist."));
        p.removeTxt("example.com", NAME, "v");
    }

    @Test
    void tokenNeverAppearsInToStringOrErrorMessages() {
        cf.echoToken = true;
        List<Throwable> errors = new ArrayList<>();
        String wrong = "wrongToken1234567890";
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> provider(wrong).findZone(NAME)));
        CloudflareProvider p = provider(TOKEN);
        cf.failNext(new Failure(null, 429, "3", 971, "slow down"));
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME)));
        cf.failNext(new Failure(null, 503, null, 0, null, "<html>upstream " + TOKEN + "</html>"));
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.findZone(NAME)));
        errors.add(catchThrowableOfType(DnsProviderException.class, () -> p.findZone("x.nothere.org")));
        errors.add(catchThrowableOfType(DnsProviderException.class,
                () -> provider(READ_ONLY).addTxt("example.com", NAME, "v", null)));
        assertThat(errors).doesNotContainNull();
        assertThat(errors.get(0).getMessage()).contains("[redacted]");
        assertThat(errors.get(2).getMessage()).contains("[redacted]");
        for (Throwable t : errors) {
            assertThat(t.getMessage() + t).doesNotContain(TOKEN).doesNotContain(wrong).doesNotContain(READ_ONLY);
        }
        assertThat(p.toString()).doesNotContain(TOKEN).contains(cf.baseUrl());
        assertThatThrownBy(() -> CloudflareProvider.builder("abc def")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("abc");
        CloudflareProvider trimmed = CloudflareProvider.builder(" " + TOKEN + "\n").baseUrl(cf.baseUrl()).build();
        assertThat(trimmed.findZone(NAME)).isEqualTo("example.com");
    }
}
