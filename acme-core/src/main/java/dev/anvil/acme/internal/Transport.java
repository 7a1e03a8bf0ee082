package dev.anvil.acme.internal;

import dev.anvil.acme.AcmeNetworkException;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.AcmeUserActionRequiredException;
import dev.anvil.acme.Problem;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plain HTTP for ACME: one request, one fully read and capped response. Enforces HTTPS on every
 * URL the CA hands out (unless plain HTTP is explicitly allowed) and turns I/O failures into
 * {@link AcmeNetworkException}. Knows nothing of JWS or nonces.
 */
public final class Transport {

    private static final Logger LOG = LoggerFactory.getLogger("dev.anvil.acme.http");
    public static final MediaType JOSE_JSON = MediaType.get("application/jose+json");

    private final OkHttpClient http;
    private final String userAgent;
    private final boolean allowHttp;
    private final long maxBodyBytes;
    private final Clock clock;

    public Transport(OkHttpClient http, String userAgent, boolean allowHttp, long maxBodyBytes, Clock clock) {
        this.http = http;
        this.userAgent = userAgent;
        this.allowHttp = allowHttp;
        this.maxBodyBytes = maxBodyBytes;
        this.clock = clock;
    }

    public Clock clock() {
        return clock;
    }

    public HttpResponse get(String url, String accept) {
        return execute(request(url).header("Accept", accept).get().build());
    }

    public HttpResponse head(String url) {
        return execute(request(url).head().build());
    }

    /** POSTs a JWS; the body is bytes so the Content-Type stays exactly application/jose+json (no charset). */
    public HttpResponse post(String url, String joseJson, String accept) {
        return execute(request(url).header("Accept", accept).post(RequestBody.create(joseJson.getBytes(StandardCharsets.UTF_8), JOSE_JSON)).build());
    }

    /** Rejects a URL that is not absolute HTTPS (or HTTP when allowed). */
    public String checkUrl(String url, String what) {
        if (url == null || url.isBlank()) {
            throw new AcmeProtocolException("the server sent no " + what + " URL");
        }
        HttpUrl parsed = HttpUrl.parse(url);
        if (parsed == null) {
            throw new AcmeProtocolException("the server sent a malformed " + what + " URL: " + url);
        }
        if (!parsed.isHttps() && !allowHttp) {
            throw new AcmeProtocolException("the server sent a non-HTTPS " + what + " URL: " + url
                    + " (allow plain HTTP explicitly with AcmeClient.Builder.allowInsecureHttp for test servers only)");
        }
        return url;
    }

    private Request.Builder request(String url) {
        HttpUrl parsed = HttpUrl.parse(checkUrl(url, "request"));
        return new Request.Builder().url(parsed).header("User-Agent", userAgent);
    }

    private HttpResponse execute(Request request) {
        String url = request.url().toString();
        LOG.debug("-> {} {}", request.method(), url);
        try (Response response = http.newCall(request).execute()) {
            byte[] body = readCapped(response, url);
            HttpResponse r = new HttpResponse(url, response.code(), response.header("Content-Type"), body,
                    resolve(request.url(), response.header("Location"), "Location"),
                    response.header("Replay-Nonce"),
                    parseRetryAfter(response.header("Retry-After"), clock),
                    links(request.url(), response.headers("Link")));
            LOG.debug("<- {} {} {}{}", response.code(), request.method(), url,
                    r.retryAfter() == null ? "" : " (Retry-After " + r.retryAfter() + ")");
            return r;
        } catch (InterruptedIOException e) {
            if (Thread.currentThread().isInterrupted()) {
                LOG.debug("<- interrupted {} {}", request.method(), url);
            }
            throw new AcmeNetworkException(request.method(), url, e);
        } catch (IOException e) {
            LOG.debug("<- {} {} failed: {}", request.method(), url, e.toString());
            throw new AcmeNetworkException(request.method(), url, e);
        }
    }

    private byte[] readCapped(Response response, String url) throws IOException {
        ResponseBody body = response.body();
        long declared = body.contentLength();
        if (declared > maxBodyBytes) {
            throw new AcmeProtocolException("response from " + url + " declares " + declared
                    + " bytes, more than the limit of " + maxBodyBytes);
        }
        BufferedSource source = body.source();
        Buffer buffer = new Buffer();
        while (buffer.size() <= maxBodyBytes) {
            if (source.read(buffer, 8192) == -1) {
                return buffer.readByteArray();
            }
        }
        throw new AcmeProtocolException("response from " + url + " exceeds the limit of " + maxBodyBytes + " bytes");
    }

    private String resolve(HttpUrl base, String ref, String what) {
        if (ref == null) {
            return null;
        }
        HttpUrl resolved = base.resolve(ref.trim());
        if (resolved == null) {
            throw new AcmeProtocolException("the server sent a malformed " + what + " header: " + ref);
        }
        return checkUrl(resolved.toString(), what);
    }

    private List<HttpResponse.Link> links(HttpUrl base, List<String> headers) {
        List<HttpResponse.Link> out = new ArrayList<>();
        for (String header : headers) {
            for (String part : splitLinks(header)) {
                int open = part.indexOf('<');
                int close = part.indexOf('>');
                if (open < 0 || close < open) {
                    continue;
                }
                String target = part.substring(open + 1, close);
                for (String param : part.substring(close + 1).split(";")) {
                    String p = param.trim();
                    if (p.toLowerCase(Locale.ROOT).startsWith("rel=")) {
                        String rels = p.substring(4).replace("\"", "").trim();
                        HttpUrl resolved = base.resolve(target);
                        if (resolved == null) {
                            continue;
                        }
                        for (String rel : rels.split("\\s+")) {
                            out.add(new HttpResponse.Link(resolved.toString(), rel));
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Splits a Link header on the commas between entries, not those inside {@code <...>} or quotes. */
    private static List<String> splitLinks(String header) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '<') {
                depth++;
            } else if (!quoted && c == '>') {
                depth--;
            } else if (!quoted && depth == 0 && c == ',') {
                parts.add(header.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(header.substring(start));
        return parts;
    }

    /** Retry-After as delta-seconds or HTTP-date (RFC 9110 section 10.2.3); null when absent or unreadable. */
    public static Instant parseRetryAfter(String value, Clock clock) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                return clock.instant().plus(Duration.ofSeconds(Long.parseLong(v)));
            } catch (NumberFormatException | ArithmeticException | DateTimeException e) {
                return null;
            }
        }
        try {
            return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            LOG.debug("ignoring unreadable Retry-After '{}'", v);
            return null;
        }
    }

    /** Throws the typed error for a non-2xx response; returns the response otherwise. */
    public HttpResponse ensureSuccess(HttpResponse r) {
        if (r.isSuccess()) {
            return r;
        }
        Problem problem = null;
        String media = r.mediaType();
        if (media.equals("application/problem+json") || (media.equals("application/json") && r.body().length > 0)) {
            try {
                problem = Json.read(r.body(), Problem.class, r.url());
            } catch (AcmeProtocolException e) {
                LOG.debug("unreadable problem document from {}", r.url());
            }
        }
        AcmeServerException e = AcmeServerException.of(r.url(), r.status(), problem, r.retryAfter());
        if (e instanceof AcmeUserActionRequiredException) {
            e = new AcmeUserActionRequiredException(r.url(), r.status(), problem, r.retryAfter(),
                    r.link("terms-of-service").orElse(null));
        }
        LOG.debug("<- error {}", e.getMessage());
        throw e;
    }

    /** Throws unless the response's media type is one of those expected. */
    public HttpResponse expect(HttpResponse r, String... mediaTypes) {
        String media = r.mediaType();
        for (String m : mediaTypes) {
            if (m.equals(media)) {
                return r;
            }
        }
        throw new AcmeProtocolException("unexpected content type '" + r.contentType() + "' from " + r.url()
                + ", expected " + String.join(" or ", mediaTypes));
    }
}
