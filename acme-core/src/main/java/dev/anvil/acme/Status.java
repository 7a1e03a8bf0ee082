package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Status of an account, order, authorization or challenge (RFC 8555 section 7.1.6). */
public enum Status {
    PENDING, READY, PROCESSING, VALID, INVALID, DEACTIVATED, EXPIRED, REVOKED,
    /** A status this client does not know; treated as not final. */
    UNKNOWN;

    @JsonCreator
    public static Status of(String value) {
        if (value == null) {
            return UNKNOWN;
        }
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return UNKNOWN;
        }
    }

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }
}
