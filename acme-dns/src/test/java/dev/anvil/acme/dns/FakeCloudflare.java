package dev.anvil.acme.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A fake Cloudflare API v4 on a MockWebServer: the {success, errors[{code,message}], messages,
 * result} envelope on every answer; zones by exact name; TXT records in memory with 32-hex ids;
 * duplicates refused with 400 code 81058 "An identical record already exists."; deleting an
 * unknown record gives 404 code 81044. Tokens: {@link #editToken} may do everything,
 * {@link #readToken} only read (writes get 403 code 10000 "Authentication error"), any other
 * token gets 403 code 9109 "Invalid access token", and a malformed Authorization header gets 400
 * code 6003 with error_chain 6111. Queued failures ({@link #failNext}) answer the next requests.
 */
final class FakeCloudflare extends Dispatcher implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern RECORDS = Pattern.compile("/client/v4/zones/([0-9a-f]{32})/dns_records");
    private static final Pattern RECORD = Pattern.compile("/client/v4/zones/([0-9a-f]{32})/dns_records/([0-9a-f]{32})");

    record Rec(String id, String zoneId, String name, String content, int ttl) {
    }

    /** A canned answer for the next request with this method (null: any), with a body or an error. */
    record Failure(String method, int status, String retryAfter, int code, String message, String rawBody) {
        Failure(String method, int status, String retryAfter, int code, String message) {
            this(method, status, retryAfter, code, message, null);
        }
    }

    final MockWebServer server = new MockWebServer();
    final String editToken;
    final String readToken;
    /** The record listing does not show records yet (another client created one a moment ago). */
    volatile boolean listingLags = false;
    /** Return TXT content wrapped in quotes, as Cloudflare may. */
    volatile boolean quoteContent = false;
    /** Echo the Authorization header in error messages (a careless API), to test redaction. */
    volatile boolean echoToken = false;

    private final Map<String, String> zones = new LinkedHashMap<>(); // name -> id, guarded by this
    private final Map<String, Rec> records = new LinkedHashMap<>(); // guarded by this
    private final Deque<Failure> failures = new ArrayDeque<>(); // guarded by this
    final List<String> log = new CopyOnWriteArrayList<>();
    final List<JsonNode> posted = new CopyOnWriteArrayList<>();

    FakeCloudflare(String editToken, String readToken) {
        this.editToken = editToken;
        this.readToken = readToken;
        server.setDispatcher(this);
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String baseUrl() {
        return server.url("/client/v4").toString();
    }

    static String newId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    synchronized String addZone(String name) {
        String id = newId();
        zones.put(name, id);
        return id;
    }

    synchronized Rec addRecord(String zone, String fqdn, String content) {
        Rec r = new Rec(newId(), zones.get(zone), fqdn, content, 300);
        records.put(r.id(), r);
        return r;
    }

    synchronized List<String> contents(String fqdn) {
        return records.values().stream().filter(r -> r.name().equals(fqdn)).map(Rec::content).toList();
    }

    synchronized void failNext(Failure f) {
        failures.add(f);
    }

    List<String> targets() {
        return log.stream().map(l -> l.substring(0, l.indexOf(" -> "))).toList();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        MockResponse r;
        synchronized (this) {
            r = handle(request);
        }
        log.add(request.getMethod() + " " + request.getTarget() + " -> " + r.getCode());
        return r;
    }

    private MockResponse handle(RecordedRequest req) {
        Failure f = failures.stream().filter(x -> x.method() == null || x.method().equals(req.getMethod()))
                .findFirst().orElse(null);
        if (f != null) {
            failures.remove(f);
            MockResponse.Builder b = f.rawBody() != null
                    ? new MockResponse.Builder().code(f.status()).setHeader("Content-Type", "text/html").body(f.rawBody())
                    : envelope(f.status(), false, null, error(f.code(), f.message()));
            if (f.retryAfter() != null) {
                b.setHeader("Retry-After", f.retryAfter());
            }
            return b.build();
        }
        String auth = req.getHeaders().get("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            ObjectNode e = error(6003, "Invalid request headers");
            e.putArray("error_chain").add(error(6111, "Invalid format for Authorization header"));
            return envelope(400, false, null, e).build();
        }
        String token = auth.substring(7);
        boolean write = !req.getMethod().equals("GET");
        if (!token.equals(editToken) && !token.equals(readToken)) {
            return envelope(403, false, null, error(9109, "Invalid access token"
                    + (echoToken ? ": " + token : ""))).build();
        }
        if (write && !token.equals(editToken)) {
            return envelope(403, false, null, error(10000, "Authentication error")).build();
        }
        return route(req);
    }

    private MockResponse route(RecordedRequest req) {
        String path = req.getUrl().encodedPath();
        String method = req.getMethod();
        if (method.equals("GET") && path.equals("/client/v4/zones")) {
            String name = req.getUrl().queryParameter("name");
            ArrayNode result = MAPPER.createArrayNode();
            zones.forEach((n, id) -> {
                if (name == null || name.equals(n)) {
                    result.addObject().put("id", id).put("name", n).put("status", "active");
                }
            });
            return envelope(200, true, result).build();
        }
        Matcher one = RECORD.matcher(path);
        if (one.matches() && method.equals("DELETE")) {
            Rec r = records.get(one.group(2));
            if (r == null || !r.zoneId().equals(one.group(1))) {
                return envelope(404, false, null, error(81044, "Record does not exist.")).build();
            }
            records.remove(r.id());
            return envelope(200, true, MAPPER.createObjectNode().put("id", r.id())).build();
        }
        Matcher many = RECORDS.matcher(path);
        if (many.matches()) {
            String zid = many.group(1);
            if (!zones.containsValue(zid)) {
                return envelope(404, false, null, error(7003, "Could not route to " + path
                        + ", perhaps your object identifier is invalid?")).build();
            }
            if (method.equals("GET")) {
                String type = req.getUrl().queryParameter("type");
                String name = req.getUrl().queryParameter("name");
                ArrayNode result = MAPPER.createArrayNode();
                records.values().stream().filter(r -> r.zoneId().equals(zid)).filter(r -> !listingLags)
                        .filter(r -> type == null || type.equals("TXT"))
                        .filter(r -> name == null || name.equals(r.name()))
                        .forEach(r -> result.add(toJson(r)));
                return envelope(200, true, result).build();
            }
            if (method.equals("POST")) {
                JsonNode body;
                try {
                    body = MAPPER.readTree(req.getBody().string(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    return envelope(400, false, null, error(9207, "Request body is invalid.")).build();
                }
                posted.add(body);
                if (!"TXT".equals(body.path("type").asText()) || body.path("name").asText().isEmpty()
                        || body.path("content").asText().isEmpty()) {
                    return envelope(400, false, null, error(1004, "DNS Validation Error")).build();
                }
                int ttl = body.path("ttl").asInt(1);
                if (ttl != 1 && (ttl < 60 || ttl > 86400)) {
                    return envelope(400, false, null, error(1004, "DNS Validation Error")).build();
                }
                String name = body.get("name").asText();
                String content = body.get("content").asText();
                if (records.values().stream().anyMatch(r -> r.zoneId().equals(zid) && r.name().equals(name)
                        && r.content().equals(content))) {
                    return envelope(400, false, null, error(81058, "An identical record already exists.")).build();
                }
                Rec r = new Rec(newId(), zid, name, content, ttl);
                records.put(r.id(), r);
                return envelope(200, true, toJson(r)).build();
            }
        }
        return envelope(404, false, null, error(7000, "No route for that URI")).build();
    }

    private ObjectNode toJson(Rec r) {
        String zoneName = zones.entrySet().stream().filter(e -> e.getValue().equals(r.zoneId()))
                .map(Map.Entry::getKey).findFirst().orElse("");
        return MAPPER.createObjectNode().put("id", r.id()).put("zone_id", r.zoneId()).put("zone_name", zoneName)
                .put("name", r.name()).put("type", "TXT")
                .put("content", quoteContent ? "\"" + r.content() + "\"" : r.content())
                .put("proxiable", false).put("proxied", false).put("ttl", r.ttl());
    }

    private static ObjectNode error(int code, String message) {
        return MAPPER.createObjectNode().put("code", code).put("message", message);
    }

    private static MockResponse.Builder envelope(int status, boolean success, JsonNode result, ObjectNode... errors) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("success", success);
        ArrayNode e = o.putArray("errors");
        for (ObjectNode x : errors) {
            e.add(x);
        }
        o.putArray("messages");
        if (result == null) {
            o.putNull("result");
        } else {
            o.set("result", result);
        }
        return new MockResponse.Builder().code(status).setHeader("Content-Type", "application/json")
                .body(o.toString());
    }

    @Override
    public void close() {
        server.close();
    }
}
