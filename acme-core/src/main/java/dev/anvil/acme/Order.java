package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * An order resource (RFC 8555 section 7.1.3; profile and replaces from the profiles extension
 * and RFC 9773). {@code url} is the order's location and {@code retryAfter} the server's
 * Retry-After when it sent one; neither is part of the JSON.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Order(String url, Status status, Instant expires, List<Identifier> identifiers,
                    Instant notBefore, Instant notAfter, Problem error, List<String> authorizations,
                    @JsonProperty("finalize") String finalizeUrl,
                    @JsonProperty("certificate") String certificateUrl,
                    String profile, String replaces, Instant retryAfter) {

    public Order {
        identifiers = identifiers == null ? List.of() : List.copyOf(identifiers);
        authorizations = authorizations == null ? List.of() : List.copyOf(authorizations);
    }

    Order located(String location, Instant retry) {
        return new Order(location, status, expires, identifiers, notBefore, notAfter, error, authorizations,
                finalizeUrl, certificateUrl, profile, replaces, retry);
    }
}
