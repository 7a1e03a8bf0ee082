package dev.anvil.acme.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.acme.dns.HttpApiSupport.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dns-01 TXT records through the <a href="https://developers.cloudflare.com/api/">Cloudflare API v4</a>
 * with an API token ({@code Authorization: Bearer}).
 *
 * <p>The token needs <b>Zone &rarr; DNS &rarr; Edit</b> on the zones it serves, and
 * <b>Zone &rarr; Zone &rarr; Read</b> for the zone lookup ({@code GET /zones?name=}, walking up the
 * labels of the record name; ids are cached). A token without Zone Read can still be used by
 * pinning zone ids with {@link Builder#zoneId(String, String)}.
 *
 * <p>Records: {@code GET /zones/{id}/dns_records?type=TXT&name=<fqdn>} (values compared exactly,
 * ignoring surrounding quotes, which Cloudflare may add to TXT content), {@code POST} to create
 * (an "already exists" answer, codes 81057/81058, counts as success), {@code DELETE
 * /zones/{id}/dns_records/{rid}} for each record with exactly this value, never the others.
 * TTLs are clamped to Cloudflare's 60 s to 86400 s.
 *
 * <p>Errors: 401/403 and the codes 9109 ("Invalid access token"), 10000 ("Authentication
 * error") and 6111 ("Invalid format for Authorization header", under 6003) say the token was
 * rejected or lacks the permission (not retryable); 429 (with its
 * Retry-After), 5xx and transport failures are retryable {@link DnsProviderException}s; any other
 * {@code success: false} lists Cloudflare's {@code code: message} pairs. Thread-safe; the token
 * never appears in logs, {@link #toString()} or exception messages.
 */
public final class CloudflareProvider implements DnsProvider {

    /** The API base. */
    public static final String DEFAULT_URL = "https://api.cloudflare.com/client/v4";

    private static final Logger LOG = LoggerFactory.getLogger(CloudflareProvider.class);
    private static final String NAME = "Cloudflare";
    private static final MediaType JSON = MediaType.get("application/json");
    private static final Set<Integer> AUTH_CODES = Set.of(9109, 10000, 9106, 9103, 6111, 6103);
    private static final Set<Integer> EXISTS_CODES = Set.of(81057, 81058);
    private static final Set<Integer> NOT_FOUND_CODES = Set.of(81044, 1032);

    private final HttpUrl baseUrl;
    private final String token;
    private final OkHttpClient http;
    private final Clock clock;
    /** Zone apex -> zone id. */
    private final Map<String, String> zoneIds = new ConcurrentHashMap<>();
    private final Set<String> pinned;
    private final Map<String, String> zoneOfName = HttpApiSupport.boundedCache(4096);

    private CloudflareProvider(Builder b) {
        this.baseUrl = b.baseUrl;
        this.token = b.token;
        this.http = b.http != null ? b.http : dev.anvil.acme.AcmeClient.defaultHttpClient();
        this.clock = b.clock;
        this.zoneIds.putAll(b.pinnedZones);
        this.pinned = Set.copyOf(b.pinnedZones.keySet());
    }

    /**
     * A builder with an API token (not a Global API Key). Surrounding whitespace is trimmed.
     *
     * @throws IllegalArgumentException when the token is empty or has whitespace inside (the
     *     message never contains the token)
     */
    public static Builder builder(String apiToken) {
        return new Builder(apiToken);
    }

    // ------------------------------------------------------------------ DnsProvider

    @Override
    public String findZone(String name) {
        String n = HttpApiSupport.normalize(name);
        String cached = zoneOfName.get(n);
        if (cached != null) {
            return cached;
        }
        List<String> candidates = HttpApiSupport.zoneCandidates(n);
        for (String candidate : candidates) {
            if (pinned.contains(candidate)) { // pinned zones need no lookup (and no Zone.Zone Read)
                zoneOfName.put(n, candidate);
                return candidate;
            }
        }
        List<String> tried = new ArrayList<>();
        for (String candidate : candidates) {
            if (zoneIds.containsKey(candidate) || lookUpZoneId(candidate) != null) {
                zoneOfName.put(n, candidate);
                LOG.debug("{}: {} is in zone {}", NAME, n, candidate);
                return candidate;
            }
            tried.add(candidate);
        }
        throw new DnsProviderException(NAME + ": no zone holds " + n + " (looked up " + String.join(", ", tried)
                + "); add the domain to Cloudflare, or give the API token Zone.Zone Read on it"
                + " (a token only sees the zones it is scoped to)");
    }

    @Override
    public void addTxt(String zone, String name, String value, Duration ttl) {
        Objects.requireNonNull(value, "value");
        String z = HttpApiSupport.normalize(zone);
        String n = HttpApiSupport.normalize(name);
        HttpApiSupport.relative(n, z); // checks that the name is in the zone
        String id = zoneId(z);
        for (JsonNode rec : listTxt(id, n)) {
            if (HttpApiSupport.unquoteTxt(rec.path("content").asText()).equals(value)) {
                LOG.debug("{}: TXT {} already has this value (record {})", NAME, n, rec.path("id").asText());
                return;
            }
        }
        ObjectNode body = HttpApiSupport.MAPPER.createObjectNode();
        body.put("type", "TXT");
        body.put("name", n);
        body.put("content", value);
        body.put("ttl", ttlSeconds(ttl));
        String what = "POST /zones/" + id + "/dns_records (TXT " + n + ")";
        Reply r = send("POST", url("zones/" + id + "/dns_records"), body, what);
        JsonNode json = r.json();
        if (r.ok() && success(json)) {
            LOG.info("{}: added TXT {} in zone {} (record {})", NAME, n, z, json.path("result").path("id").asText("?"));
            return;
        }
        if (hasCode(json, EXISTS_CODES)) {
            LOG.debug("{}: TXT {} with this value already exists", NAME, n);
            return;
        }
        throw failure(r, json, what);
    }

    @Override
    public void removeTxt(String zone, String name, String value) {
        Objects.requireNonNull(value, "value");
        String z = HttpApiSupport.normalize(zone);
        String n = HttpApiSupport.normalize(name);
        HttpApiSupport.relative(n, z);
        String id = zoneId(z);
        int removed = 0;
        for (JsonNode rec : listTxt(id, n)) {
            if (!HttpApiSupport.unquoteTxt(rec.path("content").asText()).equals(value)) {
                continue;
            }
            String rid = rec.path("id").asText();
            if (rid.isEmpty()) {
                throw new DnsProviderException(NAME + ": a TXT record at " + n + " has no id", true, null, null);
            }
            String what = "DELETE /zones/" + id + "/dns_records/" + rid + " (TXT " + n + ")";
            Reply r = send("DELETE", url("zones/" + id + "/dns_records/" + rid), null, what);
            JsonNode json = r.json();
            if ((r.ok() && success(json)) || r.status() == 404 || hasCode(json, NOT_FOUND_CODES)) {
                removed++;
                continue;
            }
            throw failure(r, json, what);
        }
        LOG.info("{}: removed {} TXT record(s) with the value at {}", NAME, removed, n);
    }

    @Override
    public String toString() {
        return "CloudflareProvider[" + baseUrl + "]";
    }

    // ------------------------------------------------------------------ zones and records

    private String zoneId(String zone) {
        String id = zoneIds.get(zone);
        if (id != null) {
            return id;
        }
        id = lookUpZoneId(zone);
        if (id == null) {
            throw new DnsProviderException(NAME + ": no zone named " + zone
                    + " is visible to this API token; check the zone name and the token's zone resources");
        }
        return id;
    }

    /** GET /zones?name=zone: the id, or null when the result is empty. Caches the id. */
    private String lookUpZoneId(String zone) {
        String what = "GET /zones?name=" + zone;
        HttpUrl u = url("zones").newBuilder().addQueryParameter("name", zone).build();
        Reply r = send("GET", u, null, what);
        JsonNode json = r.json();
        if (!r.ok() || !success(json)) {
            throw failure(r, json, what);
        }
        JsonNode result = json.get("result");
        if (result == null || !result.isArray()) {
            throw new DnsProviderException(NAME + " " + what + ": answer has no result list: " + r.bodySnippet(),
                    true, null, null);
        }
        for (JsonNode z : result) {
            if (zone.equalsIgnoreCase(z.path("name").asText()) && !z.path("id").asText().isEmpty()) {
                String id = z.path("id").asText();
                zoneIds.put(zone, id);
                return id;
            }
        }
        return null;
    }

    /** The TXT records named exactly fqdn. */
    private List<JsonNode> listTxt(String zoneId, String fqdn) {
        String what = "GET /zones/" + zoneId + "/dns_records?type=TXT&name=" + fqdn;
        HttpUrl u = url("zones/" + zoneId + "/dns_records").newBuilder()
                .addQueryParameter("type", "TXT").addQueryParameter("name", fqdn)
                .addQueryParameter("per_page", "100").build();
        Reply r = send("GET", u, null, what);
        JsonNode json = r.json();
        if (!r.ok() || !success(json)) {
            if (r.status() == 404) {
                zoneIds.entrySet().removeIf(e -> e.getValue().equals(zoneId) && !pinned.contains(e.getKey()));
                zoneOfName.clear();
            }
            throw failure(r, json, what);
        }
        JsonNode result = json.get("result");
        if (result == null || !result.isArray()) {
            throw new DnsProviderException(NAME + " " + what + ": answer has no result list: " + r.bodySnippet(),
                    true, null, null);
        }
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode rec : result) {
            if ("TXT".equalsIgnoreCase(rec.path("type").asText("TXT"))
                    && fqdn.equalsIgnoreCase(HttpApiSupport.normalize(rec.path("name").asText(fqdn)))) {
                out.add(rec);
            }
        }
        return out;
    }

    private static int ttlSeconds(Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            return 120;
        }
        return (int) Math.max(60, Math.min(ttl.toSeconds(), 86_400));
    }

    private HttpUrl url(String path) {
        return baseUrl.newBuilder().addPathSegments(path).build();
    }

    // ------------------------------------------------------------------ requests

    /**
     * Sends one request. Transport failures, token problems, 429 and 5xx throw; any other answer
     * is returned for the caller to judge.
     */
    private Reply send(String method, HttpUrl url, JsonNode body, String what) {
        Request.Builder rb = new Request.Builder().url(url)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        rb.method(method, body == null ? null
                : RequestBody.create(body.toString().getBytes(StandardCharsets.UTF_8), JSON));
        Reply r = HttpApiSupport.execute(http, rb.build(), clock, NAME, what);
        LOG.debug("{} {} -> {}", NAME, what, r.status());
        JsonNode json = r.json();
        if (r.status() == 401 || r.status() == 403 || hasCode(json, AUTH_CODES)) {
            throw new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errorList(r, json)
                    + ": API token rejected or lacks Zone.DNS edit permission (the token needs Zone.DNS Edit,"
                    + " and Zone.Zone Read for the zone lookup, on this zone)", false, null, null);
        }
        if (r.status() == 429) {
            Instant retryAt = r.retryAfter(clock.instant());
            throw new DnsProviderException(NAME + " " + what + ": HTTP 429 rate limited " + errorList(r, json)
                    + (retryAt == null ? "" : "; retry after " + retryAt), true, retryAt, null);
        }
        if (r.status() >= 500) {
            throw new DnsProviderException(NAME + " " + what + ": HTTP " + r.status() + " " + errorList(r, json),
                    true, r.retryAfter(clock.instant()), null);
        }
        return r;
    }

    private static boolean success(JsonNode json) {
        return json != null && json.path("success").asBoolean(false);
    }

    private static boolean hasCode(JsonNode json, Set<Integer> codes) {
        if (json == null || !json.path("errors").isArray()) {
            return false;
        }
        for (JsonNode e : json.get("errors")) {
            if (codes.contains(e.path("code").asInt(-1))) {
                return true;
            }
            for (JsonNode c : e.path("error_chain")) {
                if (codes.contains(c.path("code").asInt(-1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** "code: message; code: message" from the envelope, or the body's start. Token redacted. */
    private String errorList(Reply r, JsonNode json) {
        String text;
        if (json != null && json.path("errors").isArray() && json.get("errors").size() > 0) {
            List<String> parts = new ArrayList<>();
            for (JsonNode e : json.get("errors")) {
                StringBuilder sb = new StringBuilder();
                sb.append(e.path("code").asText("?")).append(": ").append(e.path("message").asText(""));
                for (JsonNode c : e.path("error_chain")) {
                    sb.append(" (").append(c.path("code").asText("?")).append(": ")
                            .append(c.path("message").asText("")).append(')');
                }
                parts.add(sb.toString());
            }
            text = String.join("; ", parts);
        } else if (json != null && json.has("success")) {
            text = "(no errors listed)";
        } else {
            text = r.bodySnippet();
        }
        return HttpApiSupport.redact(text, token);
    }

    private DnsProviderException failure(Reply r, JsonNode json, String what) {
        boolean malformed = r.ok() && (json == null || !json.has("success"));
        return new DnsProviderException(NAME + " " + what + ": " + (malformed ? "malformed answer (HTTP " + r.status()
                + "): " + r.bodySnippet() : "HTTP " + r.status() + ", success=false: " + errorList(r, json)),
                malformed, null, null);
    }

    // ------------------------------------------------------------------ builder

    /** Settings of a {@link CloudflareProvider}. */
    public static final class Builder {
        private final String token;
        private HttpUrl baseUrl = HttpUrl.get(DEFAULT_URL);
        private OkHttpClient http;
        private Clock clock = Clock.systemUTC();
        private final Map<String, String> pinnedZones = new ConcurrentHashMap<>();

        private Builder(String token) {
            this.token = HttpApiSupport.cleanCredential(token, "Cloudflare API token");
        }

        /** The API base URL; default {@link #DEFAULT_URL}. */
        public Builder baseUrl(String url) {
            HttpUrl parsed = HttpUrl.parse(Objects.requireNonNull(url, "url").trim());
            if (parsed == null) {
                throw new IllegalArgumentException("not an http(s) URL: " + url);
            }
            this.baseUrl = parsed;
            return this;
        }

        /** The HTTP client (proxies, timeouts, trust); default: {@link dev.anvil.acme.AcmeClient#defaultHttpClient()}. */
        public Builder httpClient(OkHttpClient client) {
            this.http = Objects.requireNonNull(client, "client");
            return this;
        }

        /** The clock Retry-After is measured with. */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /**
         * Pins a zone's id (from the dashboard's Overview page), so the zone is never looked up:
         * lets a token without Zone.Zone Read work.
         */
        public Builder zoneId(String zone, String id) {
            String z = HttpApiSupport.normalize(zone);
            String i = Objects.requireNonNull(id, "id").trim();
            if (!i.matches("[A-Za-z0-9]+")) {
                throw new IllegalArgumentException("not a Cloudflare zone id: " + id);
            }
            pinnedZones.put(z, i);
            return this;
        }

        public CloudflareProvider build() {
            return new CloudflareProvider(this);
        }

        @Override
        public String toString() {
            return "CloudflareProvider.Builder[" + baseUrl + "]";
        }
    }
}
