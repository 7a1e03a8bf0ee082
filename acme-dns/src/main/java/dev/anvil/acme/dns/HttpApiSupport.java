package dev.anvil.acme.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.acme.AcmeInterruptedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import okhttp3.Headers;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Shared plumbing of the HTTP API providers ({@link DnsMadeEasyProvider}, {@link CloudflareProvider}):
 * name handling, TXT quoting, credential hygiene, one capped request/response.
 */
final class HttpApiSupport {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** Responses larger than this are refused (a zone or record listing is a few KiB). */
    static final int MAX_BODY_BYTES = 1 << 20;

    private HttpApiSupport() {
    }

    // ------------------------------------------------------------------ credentials

    /**
     * Trims whitespace (including no-break spaces, zero-width spaces and a byte order mark,
     * which copy and paste from a web page or a file brings along) from both ends of a
     * credential, and refuses one that is empty or has whitespace or control characters
     * inside. Messages never contain the credential.
     */
    static String cleanCredential(String value, String what) {
        Objects.requireNonNull(value, what);
        int start = 0;
        int end = value.length();
        while (start < end && isStray(value.charAt(start))) {
            start++;
        }
        while (end > start && isStray(value.charAt(end - 1))) {
            end--;
        }
        String trimmed = value.substring(start, end);
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException(what + " contains a space, control or non-ASCII character at"
                        + " position " + (i + 1) + " of " + trimmed.length() + "; check how it was copied");
            }
        }
        return trimmed;
    }

    private static boolean isStray(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\uFEFF' || c == '\u200B'
                || Character.isISOControl(c);
    }

    /** Replaces every occurrence of the secrets in text (server error bodies are echoed into messages). */
    static String redact(String text, String... secrets) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String s : secrets) {
            if (s != null && s.length() >= 4) {
                out = out.replace(s, "[redacted]");
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ names

    /** Lowercase, without a trailing dot. */
    static String normalize(String name) {
        Objects.requireNonNull(name, "name");
        String n = name.trim().toLowerCase(Locale.ROOT);
        while (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.isEmpty() || n.startsWith(".") || n.contains("..")) {
            throw new IllegalArgumentException("not a DNS name: '" + name + "'");
        }
        return n;
    }

    /**
     * The names a zone apex may have, most specific first: the name itself, then each parent
     * down to two labels (a single-label name is tried only when the name has one label).
     */
    static List<String> zoneCandidates(String name) {
        List<String> out = new ArrayList<>();
        String n = name;
        while (true) {
            out.add(n);
            int dot = n.indexOf('.');
            if (dot < 0) {
                break;
            }
            String parent = n.substring(dot + 1);
            if (parent.indexOf('.') < 0) {
                break; // do not ask for a top-level domain
            }
            n = parent;
        }
        return out;
    }

    /** The name relative to its zone ("" at the apex). */
    static String relative(String name, String zone) {
        if (name.equals(zone)) {
            return "";
        }
        if (!name.endsWith("." + zone)) {
            throw new IllegalArgumentException(name + " is not in zone " + zone);
        }
        return name.substring(0, name.length() - zone.length() - 1);
    }

    // ------------------------------------------------------------------ TXT values

    /** The value as one quoted TXT character-string, with {@code "} and {@code \} escaped. */
    static String quoteTxt(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /**
     * The text of a TXT value as an API returns it: quoted ({@code "abc"}), split into several
     * quoted strings ({@code "ab" "c"}), or bare. Anything that does not parse as quoted strings
     * is returned unchanged.
     */
    static String unquoteTxt(String raw) {
        if (raw == null) {
            return "";
        }
        String s = raw.trim();
        if (s.length() < 2 || s.charAt(0) != '"') {
            return raw;
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            if (s.charAt(i) != '"') {
                return raw;
            }
            i++;
            boolean closed = false;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    out.append(s.charAt(i + 1));
                    i += 2;
                } else if (c == '"') {
                    closed = true;
                    i++;
                    break;
                } else {
                    out.append(c);
                    i++;
                }
            }
            if (!closed) {
                return raw;
            }
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
        return out.toString();
    }

    // ------------------------------------------------------------------ HTTP

    /** One answered request: status, headers, the body (capped) and when it arrived (local clock). */
    record Reply(int status, Headers headers, String body, Instant receivedAt) {

        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The server's Date header, or null when absent or unparsable. */
        Instant serverDate() {
            String d = headers.get("Date");
            if (d == null) {
                return null;
            }
            try {
                return ZonedDateTime.parse(d.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (DateTimeParseException e) {
                return null;
            }
        }

        /** The body as JSON, or null when it is empty or not JSON. */
        JsonNode json() {
            if (body == null || body.isBlank()) {
                return null;
            }
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                return null;
            }
        }

        /** Retry-After (seconds or an HTTP date) as an instant, or null. */
        Instant retryAfter(Instant now) {
            String v = headers.get("Retry-After");
            if (v == null || v.isBlank()) {
                return null;
            }
            v = v.trim();
            try {
                long seconds = Long.parseLong(v);
                return now.plusSeconds(Math.max(0, Math.min(seconds, 86_400)));
            } catch (NumberFormatException notSeconds) {
                try {
                    return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                } catch (DateTimeParseException e) {
                    return null;
                }
            }
        }

        /** The start of the body for messages (one line, at most 300 characters). */
        String bodySnippet() {
            if (body == null || body.isBlank()) {
                return "(empty body)";
            }
            String oneLine = body.strip().replaceAll("\\s+", " ");
            return oneLine.length() <= 300 ? oneLine : oneLine.substring(0, 300) + "...";
        }
    }

    /**
     * Executes the request and reads the whole (capped) body. Transport failures become a
     * retryable {@link DnsProviderException} naming {@code what}; an interrupt becomes
     * {@link AcmeInterruptedException}.
     */
    static Reply execute(OkHttpClient http, Request request, Clock clock, String provider, String what) {
        try (Response response = http.newCall(request).execute()) {
            String body;
            try (ResponseBody rb = response.body(); InputStream in = rb.byteStream()) {
                byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
                if (bytes.length > MAX_BODY_BYTES) {
                    throw new DnsProviderException(provider + " " + what + ": response larger than "
                            + MAX_BODY_BYTES + " bytes", true, null, null);
                }
                body = new String(bytes, StandardCharsets.UTF_8);
            }
            return new Reply(response.code(), response.headers(), body, clock.instant());
        } catch (InterruptedIOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw interrupted(provider + " " + what + " interrupted", e);
            }
            throw new DnsProviderException(provider + " " + what + " failed: timeout (" + e.getMessage() + ")",
                    true, null, e);
        } catch (IOException e) {
            throw new DnsProviderException(provider + " " + what + " failed: " + e, true, null, e);
        }
    }

    static AcmeInterruptedException interrupted(String message, Exception cause) {
        InterruptedException ie = cause instanceof InterruptedException i ? i : new InterruptedException(message);
        if (ie != cause && cause != null) {
            ie.initCause(cause);
        }
        Thread.currentThread().interrupt();
        return new AcmeInterruptedException(message, ie);
    }

    static String seconds(Duration d) {
        return d.toSeconds() + " s";
    }

    // ------------------------------------------------------------------ caches

    /** A small thread-safe LRU map. */
    static <K, V> Map<K, V> boundedCache(int max) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > max;
            }
        });
    }
}
