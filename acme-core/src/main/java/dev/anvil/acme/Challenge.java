package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.Instant;

/** A challenge object (RFC 8555 sections 7.1.5 and 8); {@code retryAfter} is the header, if sent. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Challenge(String type, String url, Status status, String token, Instant validated,
                        Problem error, Instant retryAfter) {

    public static final String HTTP_01 = "http-01";
    public static final String DNS_01 = "dns-01";
    public static final String TLS_ALPN_01 = "tls-alpn-01";

    Challenge withRetryAfter(Instant retry) {
        return new Challenge(type, url, status, token, validated, error, retry);
    }
}
