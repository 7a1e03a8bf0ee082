package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** A problem document (RFC 7807), with ACME's identifier and subproblems (RFC 8555 section 6.7). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Problem(String type, String title, String detail, Integer status, String instance,
                      Identifier identifier, List<Problem> subproblems) {

    /** The prefix of ACME's own error types (RFC 8555 section 6.7). */
    public static final String ACME_PREFIX = "urn:ietf:params:acme:error:";

    public Problem {
        subproblems = subproblems == null ? List.of() : List.copyOf(subproblems);
    }

    /** The ACME error name ("badNonce", "rateLimited", ...) or null for other types. */
    public String acmeType() {
        return type != null && type.startsWith(ACME_PREFIX) ? type.substring(ACME_PREFIX.length()) : null;
    }

    public boolean is(String acmeType) {
        return acmeType.equals(acmeType());
    }

    /** One line for humans: type, detail, identifier and the subproblems. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append(acmeType() != null ? acmeType() : (type == null ? "about:blank" : type));
        if (detail != null && !detail.isBlank()) {
            b.append(": ").append(detail);
        } else if (title != null) {
            b.append(": ").append(title);
        }
        if (identifier != null) {
            b.append(" [").append(identifier.value()).append(']');
        }
        for (Problem sub : subproblems) {
            b.append("; ").append(sub.describe());
        }
        return b.toString();
    }
}
