package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** An account resource (RFC 8555 section 7.1.2); {@code url} is its location, not part of the JSON. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Account(String url, Status status, List<String> contact, Boolean termsOfServiceAgreed,
                      String orders) {

    public Account {
        contact = contact == null ? List.of() : List.copyOf(contact);
    }

    Account withUrl(String location) {
        return new Account(location, status, contact, termsOfServiceAgreed, orders);
    }
}
