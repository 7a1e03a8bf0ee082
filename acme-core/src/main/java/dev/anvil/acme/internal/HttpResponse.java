package dev.anvil.acme.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** One fully read HTTP response: the capped body and the headers ACME cares about. */
public record HttpResponse(String url, int status, String contentType, byte[] body, String location,
                           String replayNonce, Instant retryAfter, List<Link> links) {

    /** A Link header entry (RFC 8288): target and relation. */
    public record Link(String url, String rel) {
    }

    public boolean isSuccess() {
        return status >= 200 && status < 300;
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public List<String> links(String rel) {
        return links.stream().filter(l -> l.rel().equalsIgnoreCase(rel)).map(Link::url).toList();
    }

    public Optional<String> link(String rel) {
        return links(rel).stream().findFirst();
    }

    /** The media type without parameters, lowercase; empty when absent. */
    public String mediaType() {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
    }
}
