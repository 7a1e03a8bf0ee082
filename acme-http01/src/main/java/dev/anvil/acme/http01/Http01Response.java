package dev.anvil.acme.http01;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What to answer an http-01 request: a status, a short ASCII text body and whether to send
 * it (not for HEAD). Every answer is {@code text/plain}, never cached, never sniffed; a 405
 * also says which methods are allowed. Adapters copy {@link #headers()} and {@link #bytes()}.
 */
public record Http01Response(int status, String body, boolean sendBody) {

    public static final String CONTENT_TYPE = "text/plain";

    public Http01Response {
        Objects.requireNonNull(body, "body");
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("HTTP status out of range: " + status);
        }
    }

    /** The body bytes (US-ASCII: key authorizations and our messages are ASCII). */
    public byte[] bytes() {
        return body.getBytes(StandardCharsets.US_ASCII);
    }

    /** Length of {@link #bytes()}: the Content-Length, also for HEAD. */
    public int contentLength() {
        return bytes().length;
    }

    /** Headers to set besides Content-Length. */
    public Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", CONTENT_TYPE);
        h.put("Cache-Control", "no-store");
        h.put("X-Content-Type-Options", "nosniff");
        if (status == 405) {
            h.put("Allow", "GET, HEAD");
        }
        return h;
    }

    public boolean isOk() {
        return status == 200;
    }
}
