package dev.anvil.acme;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What to send to newAccount (RFC 8555 section 7.3): contacts, agreement to the terms of
 * service and, for CAs that require it, external account binding. Immutable; each
 * {@code with...} returns a copy.
 */
public record NewAccount(List<String> contacts, boolean termsOfServiceAgreed, ExternalAccountBinding externalAccountBinding) {

    public NewAccount {
        contacts = contacts == null ? List.of() : contacts.stream().map(NewAccount::contactUri).toList();
    }

    /** An account that agrees to the CA's terms of service, with no contact. */
    public static NewAccount agreeingToTerms() {
        return new NewAccount(List.of(), true, null);
    }

    /** Adds a contact: an email address ("mailto:" is added when missing) or any URI the CA accepts. */
    public NewAccount withContact(String contact) {
        List<String> all = new ArrayList<>(contacts);
        all.add(contact);
        return new NewAccount(all, termsOfServiceAgreed, externalAccountBinding);
    }

    public NewAccount withExternalAccountBinding(ExternalAccountBinding eab) {
        return new NewAccount(contacts, termsOfServiceAgreed, eab);
    }

    static String contactUri(String contact) {
        if (contact == null || contact.isBlank()) {
            throw new IllegalArgumentException("contact is empty");
        }
        String c = contact.trim();
        if (!c.contains(":")) {
            c = "mailto:" + c;
        }
        if (c.toLowerCase(Locale.ROOT).startsWith("mailto:")) {
            String address = c.substring(7);
            // RFC 8555 section 7.3: one address per URI, no header fields.
            if (!address.matches("[^@\\s,?]+@[^@\\s,?]+\\.[^@\\s,?]+")) {
                throw new IllegalArgumentException("invalid email contact '" + contact + "'");
            }
        }
        return c;
    }
}
