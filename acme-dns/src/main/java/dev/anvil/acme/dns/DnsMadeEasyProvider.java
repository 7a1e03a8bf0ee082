package dev.anvil.acme.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.acme.dns.HttpApiSupport.Reply;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dns-01 TXT records through the <a href="https://api-docs.dnsmadeeasy.com/">DNS Made Easy
 * REST API v2.0</a>.
 *
 * <p><b>Authentication.</b> Every request carries {@code x-dnsme-apiKey}, {@code x-dnsme-requestDate}
 * (an RFC 1123 date such as {@code Tue, 24 Nov 2026 10:00:00 GMT}) and {@code x-dnsme-hmac}, the
 * lowercase hex HMAC-SHA1 of exactly that date string keyed with the secret key. Whitespace around
 * the key and the secret (a stray space or newline from copy and paste) is trimmed; whitespace
 * inside either is refused when the provider is built.
 *
 * <p><b>Clock skew.</b> DNS Made Easy refuses request dates about 30 s away from its own clock.
 * The provider learns the offset between the local clock and the server's from the {@code Date}
 * header of every response and signs with the corrected time. When a request is refused for its
 * date anyway (the first request of a skewed machine), the provider corrects from that response's
 * {@code Date} header and re-signs <em>once</em>; if that is refused too, the error says
 * {@code clock skew: local clock differs from DNS Made Easy by N s}. A 403 "Unable to verify
 * HMAC" while the request date was off by 5 s or more is treated the same way (one re-sign);
 * otherwise it means {@code wrong API key or secret (check for stray spaces)}.
 *
 * <p><b>Rate limit.</b> DNS Made Easy allows 150 requests per rolling 5 minutes and reports
 * {@code x-dnsme-requestsRemaining} / {@code x-dnsme-requestLimit} on each response. Below
 * {@link Builder#rateLimitLowWater(int) the low-water mark} (default 10 remaining) requests are
 * spaced out: {@code (5 min / limit) x (lowWater - remaining)} apart, at most
 * {@link Builder#maxPacingDelay(Duration)}. When the limit is exhausted (400 with
 * {@code requestsRemaining: 0}) the call fails with a retryable {@link DnsProviderException} whose
 * {@link DnsProviderException#retryAfter()} is the server's Retry-After or
 * {@link Builder#rateLimitRetryAfter(Duration) a default hint} (30 s); it never loops.
 *
 * <p><b>Records.</b> Zones are found with {@code GET /dns/managed/name?domainname=} walking up
 * the labels of the record name (404: try the parent) and their ids are cached. TXT values are
 * sent quoted ({@code "value":"\"abc\""}), the form DNS Made Easy stores and returns them in;
 * values read back are compared unquoted, so records created bare by other tools match too.
 * Only records whose value equals the given one are deleted, never the other TXT records at the
 * name. Creating a value that already exists is a no-op.
 *
 * <p>5xx answers and transport failures are retryable {@link DnsProviderException}s; everything
 * else that fails is not. Thread-safe. The API key and secret never appear in logs,
 * {@link #toString()} or exception messages.
 */
public final class DnsMadeEasyProvider implements DnsProvider {

    /** Production API. */
    public static final String PRODUCTION_URL = "https://api.dnsmadeeasy.com/V2.0";
    /** Sandbox API (separate account and keys). */
    public static final String SANDBOX_URL = "https://api.sandbox.dnsmadeeasy.com/V2.0";

    /** The request date format: RFC 1123 with a zero-padded day, English names, always GMT. */
    static final DateTimeFormatter REQUEST_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    /** DNS Made Easy's rolling rate-limit window. */
    static final Duration WINDOW = Duration.ofMinutes(5);
    static final int DEFAULT_LIMIT = 150;

    /** A 403 "Unable to verify HMAC" with the request date off by at least this much is re-signed once. */
    static final Duration RESIGN_ON_HMAC_SKEW = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(DnsMadeEasyProvider.class);
    private static final String NAME = "DNS Made Easy";
    private static final MediaType JSON = MediaType.get("application/json");
    private static final Pattern DATE_REJECTED = Pattern.compile(
            "(?i)(out of sync|clock skew|request ?date.{0,40}(invalid|expired|too (far|old|new)|skew)"
                    + "|date.{0,20}too far)");
    private static final Pattern ALREADY_EXISTS = Pattern.compile("(?i)already exists");

    private final HttpUrl baseUrl;
    private final String apiKey;
    private final String secretKey;
    private final SecretKeySpec macKey;
    private final OkHttpClient http;
    private final Clock clock;
    private final Sleeper sleeper;
    private final int lowWater;
    private final Duration maxPacingDelay;
    private final Duration rateLimitRetryAfter;

    /** Zone apex -> DNS Made Easy domain id. */
    private final Map<String, Long> zoneIds = new ConcurrentHashMap<>();
    /** Record name -> zone apex, for repeated lookups of one name (present, then clean up). */
    private final Map<String, String> zoneOfName = HttpApiSupport.boundedCache(4096);

    /** Server clock minus local clock, learned from Date headers. */
    private volatile long offsetMillis;
    private volatile long warnedOffsetSeconds;

    /** Serializes pacing, so concurrent callers are spaced out too; never held during a request. */
    private final Object paceLock = new Object();
    private volatile int remaining = -1;
    private volatile int limit = -1;
    private Instant lastRequestAt; // guarded by paceLock

    private DnsMadeEasyProvider(Builder b) {
        this.baseUrl = b.baseUrl;
        this.apiKey = b.apiKey;
        this.secretKey = b.secretKey;
        this.macKey = new SecretKeySpec(b.secretKey.getBytes(StandardCharsets.UTF_8), "HmacSHA1");
        this.http = b.http != null ? b.http : dev.anvil.acme.AcmeClient.defaultHttpClient();
        this.clock = b.clock;
        this.sleeper = b.sleeper;
        this.lowWater = b.lowWater;
        this.maxPacingDelay = b.maxPacingDelay;
        this.rateLimitRetryAfter = b.rateLimitRetryAfter;
    }

    /**
     * A builder for the production API. Surrounding whitespace in the key and secret is trimmed.
     *
     * @throws IllegalArgumentException when either is empty or has whitespace inside (the message
     *     never contains the credential)
     */
    public static Builder builder(String apiKey, String secretKey) {
        return new Builder(apiKey, secretKey);
    }

    // ------------------------------------------------------------------ DnsProvider

    @Override
    public String findZone(String name) {
        String n = HttpApiSupport.normalize(name);
        String cached = zoneOfName.get(n);
        if (cached != null) {
            return cached;
        }
        List<String> tried = new ArrayList<>();
        for (String candidate : HttpApiSupport.zoneCandidates(n)) {
            if (zoneIds.containsKey(candidate) || lookUpZoneId(candidate) != null) {
                zoneOfName.put(n, candidate);
                LOG.debug("{}: {} is in zone {}", NAME, n, candidate);
                return candidate;
            }
            tried.add(candidate);
        }
        throw new DnsProviderException(NAME + ": no managed zone holds " + n + " (looked up " + String.join(", ", tried)
                + "); add the domain to DNS Made Easy, or check that these API keys belong to the account"
                + " that manages it (sandbox and production accounts are separate)");
    }

    @Override
    public void addTxt(String zone, String name, String value, Duration ttl) {
        Objects.requireNonNull(value, "value");
        String z = HttpApiSupport.normalize(zone);
        String n = HttpApiSupport.normalize(name);
        String rel = HttpApiSupport.relative(n, z);
        long id = zoneId(z);
        for (JsonNode rec : listTxt(id, rel)) {
            if (HttpApiSupport.unquoteTxt(rec.path("value").asText()).equals(value)) {
                LOG.debug("{}: TXT {} already has this value (record {})", NAME, n, rec.path("id").asText());
                return;
            }
        }
        ObjectNode body = HttpApiSupport.MAPPER.createObjectNode();
        body.put("name", rel);
        body.put("type", "TXT");
        body.put("value", HttpApiSupport.quoteTxt(value));
        body.put("ttl", ttlSeconds(ttl));
        body.put("gtdLocation", "DEFAULT");
        String what = "POST /dns/managed/" + id + "/records (TXT " + n + ")";
        Reply r = send("POST", url("dns/managed/" + id + "/records"), body, what);
        if (r.ok()) {
            LOG.info("{}: added TXT {} in zone {} (record {})", NAME, n, z, idOf(r.json()));
            return;
        }
        if (r.status() == 400 && ALREADY_EXISTS.matcher(errorText(r)).find()) {
            LOG.debug("{}: TXT {} with this value already exists", NAME, n);
            return;
        }
        if (r.status() == 404) {
            zoneIds.remove(z);
        }
        throw failure(r, what);
    }

    @Override
    public void removeTxt(String zone, String name, String value) {
        Objects.requireNonNull(value, "value");
        String z = HttpApiSupport.normalize(zone);
        String n = HttpApiSupport.normalize(name);
        String rel = HttpApiSupport.relative(n, z);
        long id = zoneId(z);
        int removed = 0;
        for (JsonNode rec : listTxt(id, rel)) {
            if (!HttpApiSupport.unquoteTxt(rec.path("value").asText()).equals(value)) {
                continue;
            }
            String recordId = rec.path("id").asText();
            if (recordId.isEmpty()) {
                throw new DnsProviderException(NAME + ": a TXT record at " + n + " has no id", true, null, null);
            }
            String what = "DELETE /dns/managed/" + id + "/records/" + recordId + " (TXT " + n + ")";
            Reply r = send("DELETE", url("dns/managed/" + id + "/records/" + recordId), null, what);
            if (r.ok() || r.status() == 404) {
                removed++;
                continue;
            }
            throw failure(r, what);
        }
        LOG.info("{}: removed {} TXT record(s) with the value at {}", NAME, removed, n);
    }

    // ------------------------------------------------------------------ diagnostics

    /** The offset (server minus local clock) learned from DNS Made Easy's Date headers; zero before the first response. */
    public Duration clockOffset() {
        return Duration.ofMillis(offsetMillis);
    }

    /** The last {@code x-dnsme-requestsRemaining} seen, or -1 before the first response. */
    public int requestsRemaining() {
        return remaining;
    }

    @Override
    public String toString() {
        return "DnsMadeEasyProvider[" + baseUrl + "]";
    }

    // ------------------------------------------------------------------ zones and records

    private long zoneId(String zone) {
        Long id = zoneIds.get(zone);
        if (id != null) {
            return id;
        }
        id = lookUpZoneId(zone);
        if (id == null) {
            throw new DnsProviderException(NAME + ": no managed zone named " + zone
                    + "; check the zone name and that these API keys belong to the account that manages it");
        }
        return id;
    }

    /** GET /dns/managed/name?domainname=zone: the id, or null on 404. Caches the id. */
    private Long lookUpZoneId(String zone) {
        String what = "GET /dns/managed/name?domainname=" + zone;
        HttpUrl u = url("dns/managed/name").newBuilder().addQueryParameter("domainname", zone).build();
        Reply r = send("GET", u, null, what);
        if (r.status() == 404) {
            return null;
        }
        if (!r.ok()) {
            throw failure(r, what);
        }
        JsonNode json = r.json();
        if (json == null || !json.path("id").canConvertToLong()) {
            throw new DnsProviderException(NAME + " " + what + ": answer has no domain id: " + r.bodySnippet(),
                    true, null, null);
        }
        long id = json.path("id").asLong();
        zoneIds.put(zone, id);
        return id;
    }

    /** The TXT records named exactly rel (relative to the zone). */
    private List<JsonNode> listTxt(long zoneId, String rel) {
        String what = "GET /dns/managed/" + zoneId + "/records?recordName=" + rel + "&type=TXT";
        HttpUrl u = url("dns/managed/" + zoneId + "/records").newBuilder()
                .addQueryParameter("recordName", rel).addQueryParameter("type", "TXT").build();
        Reply r = send("GET", u, null, what);
        if (!r.ok()) {
            if (r.status() == 404) {
                zoneIds.values().removeIf(v -> v == zoneId);
                zoneOfName.clear();
            }
            throw failure(r, what);
        }
        JsonNode json = r.json();
        JsonNode data = json == null ? null : json.get("data");
        if (data == null || !data.isArray()) {
            throw new DnsProviderException(NAME + " " + what + ": answer has no record list: " + r.bodySnippet(),
                    true, null, null);
        }
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode rec : data) {
            if ("TXT".equalsIgnoreCase(rec.path("type").asText("TXT"))
                    && rel.equalsIgnoreCase(rec.path("name").asText(""))) {
                out.add(rec);
            }
        }
        return out;
    }

    private static int ttlSeconds(Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            return 120;
        }
        return (int) Math.max(1, Math.min(ttl.toSeconds(), 86_400L * 7));
    }

    private static String idOf(JsonNode json) {
        return json == null ? "?" : json.path("id").asText("?");
    }

    private HttpUrl url(String path) {
        return baseUrl.newBuilder().addPathSegments(path).build();
    }

    // ------------------------------------------------------------------ signed requests

    /**
     * Sends one signed request. Handles transport failures, the date re-sign, bad HMAC, the rate
     * limit and 5xx by throwing; any other answer is returned for the caller to judge.
     */
    private Reply send(String method, HttpUrl url, JsonNode body, String what) {
        boolean resigned = false;
        while (true) {
            pace();
            Instant requestDate = clock.instant().plusMillis(offsetMillis).truncatedTo(ChronoUnit.SECONDS);
            String date = REQUEST_DATE.format(requestDate);
            Request.Builder rb = new Request.Builder().url(url)
                    .header("x-dnsme-apiKey", apiKey)
                    .header("x-dnsme-requestDate", date)
                    .header("x-dnsme-hmac", hmac(date))
                    .header("Accept", "application/json");
            rb.method(method, body == null ? null
                    : RequestBody.create(body.toString().getBytes(StandardCharsets.UTF_8), JSON));
            Reply r = HttpApiSupport.execute(http, rb.build(), clock, NAME, what);
            Instant serverDate = r.serverDate();
            learn(r, serverDate);
            LOG.debug("{} {} -> {} (requests remaining {}/{}, clock offset {} ms)", NAME, what, r.status(),
                    remaining, limit, offsetMillis);
            if (r.ok()) {
                return r;
            }
            if (isRateLimited(r)) {
                Instant retryAt = r.retryAfter(clock.instant());
                if (retryAt == null) {
                    retryAt = clock.instant().plus(rateLimitRetryAfter);
                }
                throw new DnsProviderException(NAME + " " + what + ": rate limit exhausted (" + limitText()
                        + " requests per rolling 5 minutes); retry after " + retryAt, true, retryAt, null);
            }
            String errors = errorText(r);
            if (r.status() >= 400 && r.status() < 500 && DATE_REJECTED.matcher(errors).find()) {
                if (!resigned && serverDate != null) {
                    resigned = true;
                    LOG.info("{}: request date {} refused as out of sync; re-signing once with the time of"
                            + " DNS Made Easy's Date header (local clock {} it)", NAME, date, describeOffset(offsetMillis));
                    continue;
                }
                throw skewError(what, r, serverDate, date, resigned, errors);
            }
            if (r.status() == 403 && errors.toLowerCase(Locale.ROOT).contains("hmac")) {
                Duration skew = serverDate == null ? Duration.ZERO : Duration.between(requestDate, serverDate).abs();
                if (!resigned && skew.compareTo(RESIGN_ON_HMAC_SKEW) >= 0) {
                    resigned = true;
                    LOG.info("{}: 403 Unable to verify HMAC with the request date {} s off DNS Made Easy's clock;"
                            + " re-signing once with the corrected date", NAME, skew.toSeconds());
                    continue;
                }
                throw new DnsProviderException(NAME + " " + what + ": HTTP 403 " + errors
                        + ": wrong API key or secret (check for stray spaces); sandbox and production keys differ"
                        + (resigned ? "; the request was also re-signed once after correcting a clock skew of "
                                + Math.abs(offsetMillis / 1000) + " s" : ""), false, null, null);
            }
            if (r.status() >= 500) {
                throw new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errors,
                        true, r.retryAfter(clock.instant()), null);
            }
            return r;
        }
    }

    private DnsProviderException skewError(String what, Reply r, Instant serverDate, String sentDate,
            boolean resigned, String errors) {
        if (serverDate == null) {
            return new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errors
                    + ": clock skew: DNS Made Easy refused the request date " + sentDate + " and sent no Date header"
                    + " to correct from; synchronize the local clock (NTP)", false, null, null);
        }
        long diff = Math.round(Duration.between(r.receivedAt(), serverDate.plusMillis(500)).toMillis() / 1000.0);
        return new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errors
                + ": clock skew: local clock differs from DNS Made Easy by " + Math.abs(diff) + " s (local clock is "
                + (diff > 0 ? "behind" : "ahead") + "; request date sent " + sentDate + ", server Date "
                + r.headers().get("Date") + (resigned ? "; re-signed once with the corrected date and still refused" : "")
                + "); synchronize the local clock (NTP)", false, null, null);
    }

    /** "is 90 s behind" (server ahead) or "is 90 s ahead of". */
    private static String describeOffset(long serverMinusLocalMillis) {
        long s = Math.round(serverMinusLocalMillis / 1000.0);
        return "is " + Math.abs(s) + " s " + (s >= 0 ? "behind" : "ahead of");
    }

    private boolean isRateLimited(Reply r) {
        if (r.status() == 429) {
            return true;
        }
        String rem = r.headers().get("x-dnsme-requestsRemaining");
        return r.status() == 400 && rem != null && rem.trim().equals("0");
    }

    private String limitText() {
        return limit > 0 ? Integer.toString(limit) : Integer.toString(DEFAULT_LIMIT);
    }

    /** Learns the clock offset and the rate-limit state from a response. */
    private void learn(Reply r, Instant serverDate) {
        if (serverDate != null) {
            // The Date header is truncated to the second: assume the middle of that second.
            long offset = Duration.between(r.receivedAt(), serverDate.plusMillis(500)).toMillis();
            offsetMillis = offset;
            long s = offset / 1000;
            if (Math.abs(s) >= 10 && Math.abs(s - warnedOffsetSeconds) >= 5) {
                warnedOffsetSeconds = s;
                LOG.warn("{}: local clock {} DNS Made Easy's; signing requests with the corrected time"
                        + " (synchronize the clock with NTP)", NAME, describeOffset(offset));
            }
        }
        Integer rem = intHeader(r, "x-dnsme-requestsRemaining");
        Integer lim = intHeader(r, "x-dnsme-requestLimit");
        if (rem != null) {
            remaining = rem;
        }
        if (lim != null && lim > 0) {
            limit = lim;
        }
    }

    private static Integer intHeader(Reply r, String name) {
        String v = r.headers().get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Spaces requests out when few remain in the rate-limit window. */
    private void pace() {
        synchronized (paceLock) {
            int rem = remaining;
            if (rem >= 0 && rem < lowWater && lastRequestAt != null) {
                int lim = limit > 0 ? limit : DEFAULT_LIMIT;
                Duration spacing = WINDOW.dividedBy(lim).multipliedBy(lowWater - (long) rem);
                if (spacing.compareTo(maxPacingDelay) > 0) {
                    spacing = maxPacingDelay;
                }
                Duration wait = spacing.minus(Duration.between(lastRequestAt, clock.instant()));
                if (!wait.isNegative() && !wait.isZero()) {
                    LOG.debug("{}: {} of {} requests left in the window; waiting {} ms", NAME, rem, lim, wait.toMillis());
                    try {
                        sleeper.sleep(wait);
                    } catch (InterruptedException e) {
                        throw HttpApiSupport.interrupted(NAME + ": interrupted while pacing requests", e);
                    }
                }
            }
            lastRequestAt = clock.instant();
        }
    }

    private String hmac(String date) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(macKey);
            return HexFormat.of().formatHex(mac.doFinal(date.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 unavailable", e);
        }
    }

    /** DNS Made Easy's {"error":["..."]} as one string, or the body's start. Secrets redacted. */
    private String errorText(Reply r) {
        JsonNode json = r.json();
        String text;
        if (json != null && json.get("error") != null) {
            JsonNode e = json.get("error");
            if (e.isArray()) {
                List<String> parts = new ArrayList<>();
                e.forEach(x -> parts.add(x.asText()));
                text = String.join("; ", parts);
            } else {
                text = e.asText();
            }
        } else {
            text = r.bodySnippet();
        }
        return HttpApiSupport.redact(text, apiKey, secretKey);
    }

    private DnsProviderException failure(Reply r, String what) {
        return new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errorText(r),
                r.status() >= 500 || r.status() == 429, r.retryAfter(clock.instant()), null);
    }

    // ------------------------------------------------------------------ builder

    /** Pauses the calling thread (injectable for tests). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /** Settings of a {@link DnsMadeEasyProvider}. */
    public static final class Builder {
        private final String apiKey;
        private final String secretKey;
        private HttpUrl baseUrl = HttpUrl.get(PRODUCTION_URL);
        private OkHttpClient http;
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = d -> Thread.sleep(d.toMillis(), 0);
        private int lowWater = 10;
        private Duration maxPacingDelay = Duration.ofSeconds(20);
        private Duration rateLimitRetryAfter = Duration.ofSeconds(30);

        private Builder(String apiKey, String secretKey) {
            this.apiKey = HttpApiSupport.cleanCredential(apiKey, "DNS Made Easy API key");
            this.secretKey = HttpApiSupport.cleanCredential(secretKey, "DNS Made Easy secret key");
        }

        /** The API base URL, e.g. {@link #SANDBOX_URL}; default {@link #PRODUCTION_URL}. */
        public Builder baseUrl(String url) {
            HttpUrl parsed = HttpUrl.parse(Objects.requireNonNull(url, "url").trim());
            if (parsed == null) {
                throw new IllegalArgumentException("not an http(s) URL: " + url);
            }
            this.baseUrl = parsed;
            return this;
        }

        /** Uses the sandbox API ({@link #SANDBOX_URL}); the sandbox has its own account and keys. */
        public Builder sandbox() {
            return baseUrl(SANDBOX_URL);
        }

        /** The HTTP client (proxies, timeouts, trust); default: {@link dev.anvil.acme.AcmeClient#defaultHttpClient()}. */
        public Builder httpClient(OkHttpClient client) {
            this.http = Objects.requireNonNull(client, "client");
            return this;
        }

        /** The local clock requests are dated with (before the learned skew correction). */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /** Below this many remaining requests in the window, requests are spaced out. Default 10; 0 disables. */
        public Builder rateLimitLowWater(int requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("rateLimitLowWater must not be negative: " + requests);
            }
            this.lowWater = requests;
            return this;
        }

        /** The longest pause between two requests when pacing. Default 20 s. */
        public Builder maxPacingDelay(Duration max) {
            if (max == null || max.isNegative()) {
                throw new IllegalArgumentException("maxPacingDelay must not be negative");
            }
            this.maxPacingDelay = max;
            return this;
        }

        /** The retry hint when the rate limit is exhausted and the server sent no Retry-After. Default 30 s. */
        public Builder rateLimitRetryAfter(Duration hint) {
            if (hint == null || hint.isNegative() || hint.isZero()) {
                throw new IllegalArgumentException("rateLimitRetryAfter must be positive");
            }
            this.rateLimitRetryAfter = hint;
            return this;
        }

        /** Test hook: how the provider pauses when pacing. */
        Builder sleeper(Sleeper s) {
            this.sleeper = Objects.requireNonNull(s, "sleeper");
            return this;
        }

        public DnsMadeEasyProvider build() {
            return new DnsMadeEasyProvider(this);
        }

        @Override
        public String toString() {
            return "DnsMadeEasyProvider.Builder[" + baseUrl + "]";
        }
    }
}
