package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An authorization resource (RFC 8555 section 7.1.4). {@code url} is its location and
 * {@code retryAfter} the server's Retry-After, if sent; neither is part of the JSON.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Authorization(String url, Identifier identifier, Status status, Instant expires,
                            List<Challenge> challenges, boolean wildcard, Instant retryAfter) {

    public Authorization {
        challenges = challenges == null ? List.of() : List.copyOf(challenges);
    }

    /** The challenge of the given type ("http-01", "dns-01", "tls-alpn-01"), if the server offers it. */
    public Optional<Challenge> challenge(String type) {
        return challenges.stream().filter(c -> type.equals(c.type())).findFirst();
    }

    /** The DNS name being validated: for a wildcard authorization, the base name without "*.". */
    public String domain() {
        return identifier == null ? null : identifier.value();
    }

    Authorization located(String location, Instant retry) {
        return new Authorization(location, identifier, status, expires, challenges, wildcard, retry);
    }
}
