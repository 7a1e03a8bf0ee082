package dev.anvil.acme;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What to send to newOrder (RFC 8555 section 7.4; "profile" from the profiles extension,
 * "replaces" from RFC 9773). Immutable; each {@code with...} returns a copy.
 */
public record OrderRequest(List<Identifier> identifiers, Instant notBefore, Instant notAfter,
                           String profile, String replaces) {

    public OrderRequest {
        if (identifiers == null || identifiers.isEmpty()) {
            throw new IllegalArgumentException("an order needs at least one identifier");
        }
        identifiers = List.copyOf(new LinkedHashSet<>(identifiers));
    }

    /** An order for names or IP addresses, each detected as such ({@link Identifier#of}). */
    public static OrderRequest of(String... namesOrAddresses) {
        return new OrderRequest(Arrays.stream(namesOrAddresses).map(Identifier::of).toList(), null, null, null, null);
    }

    public static OrderRequest of(List<Identifier> identifiers) {
        return new OrderRequest(identifiers, null, null, null, null);
    }

    public OrderRequest withValidity(Instant notBefore, Instant notAfter) {
        return new OrderRequest(identifiers, notBefore, notAfter, profile, replaces);
    }

    /** Requests a profile; it must be one the directory advertises in meta.profiles. */
    public OrderRequest withProfile(String profile) {
        return new OrderRequest(identifiers, notBefore, notAfter, profile, replaces);
    }

    /** The ARI CertID of the certificate this order replaces (RFC 9773 section 5). */
    public OrderRequest withReplaces(String certId) {
        return new OrderRequest(identifiers, notBefore, notAfter, profile, certId);
    }
}
