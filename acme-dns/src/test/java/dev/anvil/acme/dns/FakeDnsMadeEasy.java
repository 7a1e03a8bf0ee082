package dev.anvil.acme.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A fake DNS Made Easy REST API v2.0 on a MockWebServer, following the documented behaviour:
 * <ul>
 *   <li>verifies {@code x-dnsme-hmac} = lowercase hex HMAC-SHA1(its own secret, the exact
 *       {@code x-dnsme-requestDate}); a wrong key or signature gives 403
 *       {@code {"error":["Unable to verify HMAC"]}};</li>
 *   <li>refuses a request date more than 30 s away from its own clock with 400
 *       {@code {"error":["Request sent with date header too far out of sync. Current date is <date>"]}}
 *       (the wording is our assumption, built around the "too far out of sync" phrase of the
 *       field notes), or, in {@link #skewAsHmacFailure} mode, with the 403 HMAC error (what the
 *       field report saw);</li>
 *   <li>sends {@code Date}, {@code x-dnsme-requestsRemaining} and {@code x-dnsme-requestLimit}
 *       on every response; counts every request in a rolling 5-minute window of {@link #limit}
 *       (150) and answers 400 {@code {"error":["Rate limit exceeded"]}} with requestsRemaining 0
 *       when it is used up;</li>
 *   <li>zones by name (404 when unknown), TXT records in memory, values stored and returned
 *       quoted; duplicates refused with 400 "... already exists".</li>
 * </ul>
 * Every created or deleted TXT value is reported to {@link #mirror} with the full list of
 * values left at the name.
 */
final class FakeDnsMadeEasy extends Dispatcher implements AutoCloseable {

    static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    static final Duration MAX_SKEW = Duration.ofSeconds(30);
    static final Duration WINDOW = Duration.ofMinutes(5);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern RECORDS = Pattern.compile("/V2\\.0/dns/managed/(\\d+)/records");
    private static final Pattern RECORD = Pattern.compile("/V2\\.0/dns/managed/(\\d+)/records/(\\d+)");

    record Rec(long id, long zoneId, String name, String value, int ttl, String gtdLocation) {
    }

    final MockWebServer server = new MockWebServer();
    private final String apiKey;
    private final String secret;

    volatile Clock clock = Clock.systemUTC();
    /** Added to the Date header only (a proxy rewriting Date, or a broken server clock). */
    volatile Duration dateHeaderError = Duration.ZERO;
    volatile boolean sendDateHeader = true;
    volatile boolean skewAsHmacFailure = false;
    /** Echo the received API key in error bodies (a careless API), to test redaction. */
    volatile boolean echoKeyInErrors = false;
    volatile int limit = 150;
    volatile BiConsumer<String, List<String>> mirror = (n, v) -> { };

    private final Deque<Instant> window = new ArrayDeque<>(); // guarded by this
    private final Deque<Integer> failures = new ArrayDeque<>(); // guarded by this
    private final Map<String, Long> zones = new LinkedHashMap<>(); // guarded by this
    private final Map<Long, Rec> records = new LinkedHashMap<>(); // guarded by this
    private long nextId = 1000;

    /** "METHOD target -> status", in order. */
    final List<String> log = new CopyOnWriteArrayList<>();
    /** Request bodies of POSTs, in order. */
    final List<JsonNode> posted = new CopyOnWriteArrayList<>();
    final AtomicInteger dateRejections = new AtomicInteger();
    final AtomicInteger hmacRejections = new AtomicInteger();
    final AtomicInteger rateLimited = new AtomicInteger();

    FakeDnsMadeEasy(String apiKey, String secret) {
        this.apiKey = apiKey;
        this.secret = secret;
        server.setDispatcher(this);
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String baseUrl() {
        return server.url("/V2.0").toString();
    }

    synchronized long addZone(String name) {
        long id = nextId++;
        zones.put(name, id);
        return id;
    }

    /** A record created out of band (another tool), stored as given. */
    synchronized Rec addRecord(String zone, String relName, String value) {
        long zid = zones.get(zone);
        Rec r = new Rec(nextId++, zid, relName, value, 300, "DEFAULT");
        records.put(r.id(), r);
        return r;
    }

    synchronized List<Rec> records(String zone, String relName) {
        Long zid = zones.get(zone);
        return records.values().stream().filter(r -> r.zoneId() == zid && r.name().equals(relName)).toList();
    }

    /** The unquoted TXT values at the name. */
    synchronized List<String> values(String zone, String relName) {
        return records(zone, relName).stream().map(r -> unquote(r.value())).toList();
    }

    /** The next requests (authenticated or not) are answered with these statuses. */
    synchronized void failNext(int... statuses) {
        for (int s : statuses) {
            failures.add(s);
        }
    }

    /** Uses up n requests of the current window. */
    synchronized void consume(int n) {
        for (int i = 0; i < n; i++) {
            window.add(clock.instant());
        }
    }

    /** Requests left in the current window. */
    synchronized int remaining() {
        Instant now = clock.instant();
        while (!window.isEmpty() && !window.peekFirst().isAfter(now.minus(WINDOW))) {
            window.removeFirst();
        }
        return Math.max(0, limit - window.size());
    }

    int requestCount() {
        return log.size();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        MockResponse response;
        synchronized (this) {
            response = handle(request);
        }
        log.add(request.getMethod() + " " + request.getTarget() + " -> " + response.getCode());
        return response;
    }

    private MockResponse handle(RecordedRequest req) {
        Instant now = clock.instant();
        while (!window.isEmpty() && !window.peekFirst().isAfter(now.minus(WINDOW))) {
            window.removeFirst();
        }
        if (window.size() >= limit) {
            rateLimited.incrementAndGet();
            return json(400, errors("Rate limit exceeded"), now);
        }
        window.add(now);
        Integer failure = failures.poll();
        if (failure != null) {
            return json(failure, errors("Internal server error"), now);
        }
        // --- authentication, as documented: key, date, HMAC of exactly the date string
        String key = req.getHeaders().get("x-dnsme-apiKey");
        String date = req.getHeaders().get("x-dnsme-requestDate");
        String hmac = req.getHeaders().get("x-dnsme-hmac");
        if (key == null || date == null || hmac == null || !key.equals(apiKey) || !validHmac(date, hmac)) {
            hmacRejections.incrementAndGet();
            return json(403, errors("Unable to verify HMAC" + (echoKeyInErrors ? " for key " + key : "")), now);
        }
        Instant sent;
        try {
            sent = ZonedDateTime.parse(date, DATE).toInstant();
        } catch (DateTimeParseException e) {
            return json(400, errors("Invalid request date: " + date), now);
        }
        if (!DATE.format(sent).equals(date)) { // zero-padded day, English names, GMT
            return json(400, errors("Invalid request date format: " + date), now);
        }
        if (Duration.between(sent, now).abs().compareTo(MAX_SKEW) > 0) {
            dateRejections.incrementAndGet();
            if (skewAsHmacFailure) {
                hmacRejections.incrementAndGet();
                return json(403, errors("Unable to verify HMAC"), now);
            }
            return json(400, errors("Request sent with date header too far out of sync. Current date is "
                    + DATE.format(now)), now);
        }
        return route(req, now);
    }

    private MockResponse route(RecordedRequest req, Instant now) {
        String path = req.getUrl().encodedPath();
        String method = req.getMethod();
        if (method.equals("GET") && path.equals("/V2.0/dns/managed/name")) {
            String name = req.getUrl().queryParameter("domainname");
            Long id = name == null ? null : zones.get(name);
            if (id == null) {
                return json(404, errors("Domain not found"), now);
            }
            ObjectNode d = MAPPER.createObjectNode().put("id", id).put("name", name).put("gtdEnabled", false);
            return json(200, d, now);
        }
        Matcher one = RECORD.matcher(path);
        if (one.matches() && method.equals("DELETE")) {
            long zid = Long.parseLong(one.group(1));
            Rec r = records.get(Long.parseLong(one.group(2)));
            if (!zones.containsValue(zid) || r == null || r.zoneId() != zid) {
                return json(404, errors("Record not found"), now);
            }
            records.remove(r.id());
            mirror(r);
            return empty(200, now);
        }
        Matcher many = RECORDS.matcher(path);
        if (many.matches()) {
            long zid = Long.parseLong(many.group(1));
            if (!zones.containsValue(zid)) {
                return json(404, errors("Domain not found"), now);
            }
            if (method.equals("GET")) {
                String name = req.getUrl().queryParameter("recordName");
                String type = req.getUrl().queryParameter("type");
                ArrayNode data = MAPPER.createArrayNode();
                records.values().stream().filter(r -> r.zoneId() == zid)
                        .filter(r -> name == null || r.name().equals(name))
                        .filter(r -> type == null || type.equals("TXT"))
                        .forEach(r -> data.add(toJson(r)));
                ObjectNode page = MAPPER.createObjectNode().put("totalRecords", data.size()).put("totalPages", 1)
                        .put("page", 0);
                page.set("data", data);
                return json(200, page, now);
            }
            if (method.equals("POST")) {
                JsonNode body;
                try {
                    body = MAPPER.readTree(req.getBody().string(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    return json(400, errors("Invalid JSON"), now);
                }
                posted.add(body);
                if (!body.path("type").asText().equals("TXT") || !body.has("name") || !body.has("value")
                        || !body.path("ttl").canConvertToInt() || !body.path("gtdLocation").asText().equals("DEFAULT")) {
                    return json(400, errors("Invalid record: " + body), now);
                }
                String value = body.get("value").asText();
                String stored = value.startsWith("\"") ? value : "\"" + value + "\"";
                String name = body.get("name").asText();
                boolean dup = records.values().stream().anyMatch(r -> r.zoneId() == zid && r.name().equals(name)
                        && r.value().equals(stored));
                if (dup) {
                    return json(400, errors("Record with this type (TXT), name, and value already exists."), now);
                }
                Rec r = new Rec(nextId++, zid, name, stored, body.get("ttl").asInt(), "DEFAULT");
                records.put(r.id(), r);
                mirror(r);
                return json(201, toJson(r), now);
            }
        }
        return json(404, errors("Not found: " + method + " " + path), now);
    }

    private void mirror(Rec changed) {
        String zone = zones.entrySet().stream().filter(e -> e.getValue() == changed.zoneId())
                .map(Map.Entry::getKey).findFirst().orElseThrow();
        String fqdn = changed.name().isEmpty() ? zone : changed.name() + "." + zone;
        List<String> values = new ArrayList<>();
        records.values().stream().filter(r -> r.zoneId() == changed.zoneId() && r.name().equals(changed.name()))
                .forEach(r -> values.add(unquote(r.value())));
        mirror.accept(fqdn, values);
    }

    private static ObjectNode toJson(Rec r) {
        return MAPPER.createObjectNode().put("id", r.id()).put("name", r.name()).put("type", "TXT")
                .put("value", r.value()).put("ttl", r.ttl()).put("gtdLocation", r.gtdLocation())
                .put("source", 1).put("sourceId", r.zoneId()).put("dynamicDns", false).put("failover", false)
                .put("monitor", false).put("hardLink", false).put("failed", false);
    }

    static String unquote(String v) {
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }

    private boolean validHmac(String date, String hmac) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            String expected = HexFormat.of().formatHex(mac.doFinal(date.getBytes(StandardCharsets.UTF_8)));
            return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                    hmac.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode errors(String... messages) {
        ObjectNode o = MAPPER.createObjectNode();
        ArrayNode a = o.putArray("error");
        for (String m : messages) {
            a.add(m);
        }
        return o;
    }

    private MockResponse json(int code, JsonNode body, Instant now) {
        return headers(new MockResponse.Builder().code(code), now)
                .setHeader("Content-Type", "application/json").body(body.toString()).build();
    }

    private MockResponse empty(int code, Instant now) {
        return headers(new MockResponse.Builder().code(code), now).build();
    }

    private MockResponse.Builder headers(MockResponse.Builder b, Instant now) {
        if (sendDateHeader) {
            b.setHeader("Date", DATE.format(now.plus(dateHeaderError)));
        }
        int remaining = Math.max(0, limit - window.size());
        return b.setHeader("x-dnsme-requestsRemaining", remaining).setHeader("x-dnsme-requestLimit", limit);
    }

    @Override
    public void close() {
        server.close();
    }
}
