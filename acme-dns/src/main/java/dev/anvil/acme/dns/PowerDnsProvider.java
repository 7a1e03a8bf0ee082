package dev.anvil.acme.dns;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes TXT records through the PowerDNS Authoritative HTTP API (4.x):
 * {@code PATCH /api/v1/servers/<server>/zones/<zone>} with an RRset. PowerDNS replaces whole
 * RRsets, so adding or removing one value reads the current TXT RRset
 * ({@code GET .../zones/<zone>?rrset_name=<name>&rrset_type=TXT}), then sends REPLACE with the
 * set plus or minus that value, or DELETE when nothing is left. Changes to one name are
 * serialized within this provider, so a wildcard and its apex presented in parallel do not
 * overwrite each other; a second writer elsewhere could still race (PowerDNS offers no
 * conditional update). The zone is the longest zone name in the server's zone list that the
 * record name ends with.
 *
 * <pre>{@code
 * DnsProvider dns = PowerDnsProvider.builder("http://127.0.0.1:8081", System.getenv("PDNS_API_KEY")).build();
 * }</pre>
 *
 * The API key is sent only as {@code X-API-Key}; it never appears in {@code toString()}, logs
 * or errors. Immutable configuration, thread-safe.
 */
public final class PowerDnsProvider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(PowerDnsProvider.class);
    private static final MediaType JSON = MediaType.get("application/json");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpUrl server;
    private final String display; // the server URL without user info, for messages
    private final String apiKey;
    private final OkHttpClient http;
    private final Clock clock;
    private final Map<String, String> zoneIds = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    private PowerDnsProvider(Builder b) {
        HttpUrl.Builder u = b.baseUrl.newBuilder();
        // Accept both "http://host:8081" and "http://host:8081/api/v1".
        List<String> segments = new ArrayList<>(b.baseUrl.pathSegments());
        segments.removeIf(String::isEmpty);
        if (!(segments.size() >= 2 && segments.get(segments.size() - 2).equals("api")
                && segments.get(segments.size() - 1).equals("v1"))) {
            u.addPathSegments("api/v1");
        }
        this.server = u.addPathSegment("servers").addPathSegment(b.serverId).build();
        this.display = server.newBuilder().username("").password("").build().toString();
        this.apiKey = b.apiKey;
        this.http = b.http;
        this.clock = b.clock;
    }

    /**
     * A provider for the API at {@code apiUrl} ("http://host:8081", with or without
     * "/api/v1") authenticating with {@code apiKey} (the server's {@code api-key}).
     */
    public static Builder builder(String apiUrl, String apiKey) {
        return new Builder(apiUrl, apiKey);
    }

    @Override
    public String findZone(String name) {
        String n = DnsNames.normalize(name);
        Map<String, String> zones = listZones();
        String best = null;
        for (String zone : zones.keySet()) {
            if (DnsNames.isAtOrBelow(n, zone) && (best == null || zone.length() > best.length())) {
                best = zone;
            }
        }
        if (best == null) {
            throw new DnsProviderException("no zone on PowerDNS " + display + " holds " + n + " (zones there: "
                    + summary(zones) + ")");
        }
        LOG.debug("PowerDNS zone of {}: {}", n, best);
        return best;
    }

    /** Zone name to zone id, as listed by the server; refreshes the cache. */
    private Map<String, String> listZones() {
        JsonNode zones = call(new Request.Builder().url(server.newBuilder().addPathSegment("zones")
                .addQueryParameter("dnssec", "false").build()).get(), "listing zones");
        Map<String, String> found = new java.util.TreeMap<>();
        if (zones != null && zones.isArray()) {
            for (JsonNode z : zones) {
                String zname = z.path("name").asText("");
                String id = z.path("id").asText("");
                if (!zname.isEmpty() && !id.isEmpty()) {
                    found.put(DnsNames.normalize(zname), id);
                }
            }
        }
        zoneIds.putAll(found);
        return found;
    }

    private static String summary(Map<String, String> zones) {
        return zones.isEmpty() ? "none" : String.join(", ", zones.keySet().stream().limit(20).toList())
                + (zones.size() > 20 ? ", ..." : "");
    }

    @Override
    public void addTxt(String zone, String name, String value, Duration ttl) {
        String z = DnsNames.normalize(zone);
        String n = inZone(name, z);
        Objects.requireNonNull(value, "value");
        long ttlSeconds = Math.max(1, ttl == null ? 60 : ttl.toSeconds());
        synchronized (lock(z, n)) {
            String id = zoneId(z);
            Rrset current = currentTxt(id, z, n);
            if (current.values().contains(value)) {
                LOG.debug("PowerDNS: TXT value already at {}", n);
                return;
            }
            ArrayNode records = MAPPER.createArrayNode();
            current.records().forEach(records::add);
            records.addObject().put("content", quote(value)).put("disabled", false);
            patch(id, rrset(n, "REPLACE").put("ttl", ttlSeconds).set("records", records), "adding TXT at " + n);
            LOG.info("PowerDNS: added TXT at {} in zone {} ({} value{} now)", n, z, records.size(),
                    records.size() == 1 ? "" : "s");
        }
    }

    @Override
    public void removeTxt(String zone, String name, String value) {
        String z = DnsNames.normalize(zone);
        String n = inZone(name, z);
        Objects.requireNonNull(value, "value");
        synchronized (lock(z, n)) {
            String id = zoneId(z);
            Rrset current = currentTxt(id, z, n);
            if (!current.values().contains(value)) {
                LOG.debug("PowerDNS: TXT value not at {}; nothing to remove", n);
                return;
            }
            ArrayNode remaining = MAPPER.createArrayNode();
            for (JsonNode r : current.records()) {
                if (!unquote(r.path("content").asText("")).equals(value)) {
                    remaining.add(r);
                }
            }
            if (remaining.isEmpty()) {
                patch(id, rrset(n, "DELETE"), "deleting TXT at " + n);
            } else {
                patch(id, rrset(n, "REPLACE").put("ttl", current.ttl()).set("records", remaining),
                        "removing TXT at " + n);
            }
            LOG.info("PowerDNS: removed TXT at {} in zone {} ({} value{} left)", n, z, remaining.size(),
                    remaining.size() == 1 ? "" : "s");
        }
    }

    private Object lock(String zone, String name) {
        return locks.computeIfAbsent(zone + " " + name, k -> new Object());
    }

    private static String inZone(String name, String zone) {
        String n = DnsNames.normalize(name);
        if (!DnsNames.isAtOrBelow(n, zone)) {
            throw new IllegalArgumentException(n + " is not in zone " + zone);
        }
        return n;
    }

    private String zoneId(String zone) {
        String id = zoneIds.get(zone);
        if (id == null) {
            Map<String, String> zones = listZones();
            id = zones.get(zone);
            if (id == null) {
                throw new DnsProviderException("zone " + zone + " does not exist on PowerDNS " + display
                        + " (zones there: " + summary(zones) + ")");
            }
        }
        return id;
    }

    /** The TXT RRset at the name; PowerDNS before 4.8 ignores the filter, so filter here too. */
    private Rrset currentTxt(String zoneId, String zone, String name) {
        HttpUrl url = zoneUrl(zoneId).newBuilder().addQueryParameter("rrset_name", name + ".")
                .addQueryParameter("rrset_type", "TXT").build();
        JsonNode z = call(new Request.Builder().url(url).get(), "reading TXT at " + name + " in zone " + zone);
        List<JsonNode> records = new ArrayList<>();
        List<String> values = new ArrayList<>();
        long ttl = 60;
        if (z != null) {
            for (JsonNode rr : z.path("rrsets")) {
                String rrName = rr.path("name").asText("");
                if (!"TXT".equalsIgnoreCase(rr.path("type").asText()) || rrName.isEmpty()
                        || !DnsNames.normalize(rrName).equals(name)) {
                    continue;
                }
                ttl = rr.path("ttl").asLong(ttl);
                for (JsonNode r : rr.path("records")) {
                    records.add(r);
                    values.add(unquote(r.path("content").asText("")));
                }
            }
        }
        return new Rrset(List.copyOf(records), List.copyOf(values), ttl);
    }

    private record Rrset(List<JsonNode> records, List<String> values, long ttl) {
    }

    private ObjectNode rrset(String name, String changetype) {
        ObjectNode rr = MAPPER.createObjectNode();
        rr.put("name", name + ".").put("type", "TXT").put("changetype", changetype);
        if ("DELETE".equals(changetype)) {
            rr.putArray("records");
        }
        return rr;
    }

    private void patch(String zoneId, ObjectNode rrset, String what) {
        ObjectNode body = MAPPER.createObjectNode();
        body.putArray("rrsets").add(rrset);
        byte[] json;
        try {
            json = MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        call(new Request.Builder().url(zoneUrl(zoneId)).patch(RequestBody.create(json, JSON)), what);
    }

    private HttpUrl zoneUrl(String zoneId) {
        return server.newBuilder().addPathSegment("zones").addPathSegment(zoneId).build();
    }

    /** Sends the request; the parsed JSON body on 2xx (null when empty), a typed error otherwise. */
    private JsonNode call(Request.Builder rb, String what) {
        Request request = rb.header("X-API-Key", apiKey).header("Accept", "application/json").build();
        LOG.debug("PowerDNS {} {}", request.method(), request.url().encodedPath());
        String body;
        int code;
        String retryAfter;
        try (Response r = http.newCall(request).execute()) {
            code = r.code();
            retryAfter = r.header("Retry-After");
            body = new String(r.body().bytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DnsProviderException("PowerDNS " + what + " failed: " + redact(String.valueOf(e.getMessage()))
                    + " (" + e.getClass().getSimpleName() + ")", true, null, e);
        }
        if (code >= 200 && code < 300) {
            if (body.isBlank()) {
                return null;
            }
            try {
                return MAPPER.readTree(body);
            } catch (JsonProcessingException e) {
                // A proxy's error page with status 200: worth another try, like a 502.
                throw new DnsProviderException("PowerDNS " + what + ": HTTP " + code + " with a body that is not JSON: "
                        + snippet(body), true, null, null);
            }
        }
        throw error(code, body, retryAfter, what);
    }

    private DnsProviderException error(int code, String body, String retryAfter, String what) {
        String detail = errorText(body);
        if (code == 401 || code == 403) {
            return new DnsProviderException("PowerDNS rejected the API key (HTTP " + code + ") while " + what
                    + ": check it against the server's api-key setting");
        }
        if (code == 429) {
            return new DnsProviderException("PowerDNS rate-limited " + what + " (HTTP 429)"
                    + (detail.isEmpty() ? "" : ": " + detail), true, retryAfter(retryAfter), null);
        }
        if (code >= 500) {
            return new DnsProviderException("PowerDNS failed " + what + " (HTTP " + code + ")"
                    + (detail.isEmpty() ? "" : ": " + detail), true, retryAfter(retryAfter), null);
        }
        if (code == 404) {
            return new DnsProviderException("PowerDNS: " + what + ": not found (HTTP 404; does the zone exist, and is"
                    + " the server id right in " + display + "?)" + (detail.isEmpty() ? "" : ": " + detail));
        }
        return new DnsProviderException("PowerDNS refused " + what + " (HTTP " + code + ")"
                + (detail.isEmpty() ? "" : ": " + detail));
    }

    /** PowerDNS errors are {"error": "...", "errors": [...]}; anything else is quoted briefly. */
    private String errorText(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode n = MAPPER.readTree(body);
            if (n != null && n.hasNonNull("error")) {
                StringBuilder b = new StringBuilder(n.get("error").asText());
                for (JsonNode e : n.path("errors")) {
                    if (!e.asText().equals(n.get("error").asText())) {
                        b.append("; ").append(e.asText());
                    }
                }
                return snippet(b.toString());
            }
        } catch (JsonProcessingException notJson) {
            // fall through
        }
        return snippet(body);
    }

    private String snippet(String text) {
        String s = DnsNames.printable(text.strip().replaceAll("\\s+", " "));
        return redact(s.length() > 300 ? s.substring(0, 300) + "..." : s);
    }

    /** A proxy or a debug build could echo request headers: never pass the key on. */
    private String redact(String s) {
        return s.replace(apiKey, "<api key>");
    }

    private Instant retryAfter(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip();
        try {
            return clock.instant().plusSeconds(Math.max(0, Long.parseLong(h)));
        } catch (NumberFormatException notSeconds) {
            try {
                return ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (DateTimeParseException e) {
                return null;
            }
        }
    }

    /** TXT content as PowerDNS wants it: one quoted string, with quotes and backslashes escaped. */
    static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The value of TXT content: quoted strings ("a" "b") joined, escapes resolved. */
    static String unquote(String content) {
        String c = content.strip();
        if (!c.startsWith("\"")) {
            return c;
        }
        StringBuilder out = new StringBuilder();
        boolean inQuotes = false;
        for (int i = 0; i < c.length(); i++) {
            char ch = c.charAt(i);
            if (ch == '"') {
                inQuotes = !inQuotes;
            } else if (!inQuotes) {
                continue; // whitespace between strings
            } else if (ch == '\\' && i + 1 < c.length()) {
                char next = c.charAt(i + 1);
                if (Character.isDigit(next) && i + 3 < c.length()) {
                    out.append((char) Integer.parseInt(c.substring(i + 1, i + 4)));
                    i += 3;
                } else {
                    out.append(next);
                    i++;
                }
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "PowerDnsProvider[" + display + "]";
    }

    /** Settings of a {@link PowerDnsProvider}. */
    public static final class Builder {
        private final HttpUrl baseUrl;
        private final String apiKey;
        private String serverId = "localhost";
        private OkHttpClient http;
        private Clock clock = Clock.systemUTC();

        private Builder(String apiUrl, String apiKey) {
            HttpUrl u = apiUrl == null ? null : HttpUrl.parse(apiUrl.strip());
            if (u == null) {
                throw new IllegalArgumentException("PowerDNS API URL must be an http or https URL: '" + apiUrl + "'");
            }
            Objects.requireNonNull(apiKey, "apiKey");
            String k = apiKey.strip(); // a stray newline from a secrets file is the usual way keys break
            if (k.isEmpty()) {
                throw new IllegalArgumentException("PowerDNS API key is empty");
            }
            for (int i = 0; i < k.length(); i++) {
                char c = k.charAt(i);
                if (c < 0x21 || c > 0x7e) {
                    // OkHttp's own error would quote the whole header value, i.e. the key.
                    throw new IllegalArgumentException("PowerDNS API key contains a character not allowed in an"
                            + " HTTP header (position " + (i + 1) + ")");
                }
            }
            this.baseUrl = u;
            this.apiKey = k;
        }

        /** The server id in API paths. Default "localhost" (the only one PowerDNS Authoritative has). */
        public Builder serverId(String id) {
            if (id == null || id.isBlank() || id.contains("/")) {
                throw new IllegalArgumentException("bad PowerDNS server id: '" + id + "'");
            }
            this.serverId = id;
            return this;
        }

        /** The HTTP client: proxies, TLS trust, timeouts. Default {@link dev.anvil.acme.AcmeClient#defaultHttpClient()}. */
        public Builder httpClient(OkHttpClient client) {
            this.http = Objects.requireNonNull(client, "client");
            return this;
        }

        /** For Retry-After given in seconds. */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        public PowerDnsProvider build() {
            if (http == null) {
                http = dev.anvil.acme.AcmeClient.defaultHttpClient();
            }
            return new PowerDnsProvider(this);
        }

        @Override
        public String toString() {
            return "PowerDnsProvider.Builder[" + baseUrl.host() + ":" + baseUrl.port() + "]";
        }
    }
}
