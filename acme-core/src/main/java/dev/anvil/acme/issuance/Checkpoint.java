package dev.anvil.acme.issuance;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.anvil.acme.Identifier;
import java.time.Instant;
import java.util.List;

/**
 * What the engine persists of an issuance in flight, after every transition: enough to
 * continue the same order with the same key after a crash. Holds the certificate key, so the
 * store must protect it; {@link #toString()} redacts it.
 *
 * @param orders how many orders this issuance created, across CAs (for audits and tests)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Checkpoint(String id, List<Identifier> identifiers, String ca, String directoryUrl, String accountUrl,
                         String orderUrl, String certificateKeyPem, String csr, IssuanceState state, int orders,
                         Instant createdAt, Instant updatedAt) {

    Checkpoint with(IssuanceState newState, Instant now) {
        return new Checkpoint(id, identifiers, ca, directoryUrl, accountUrl, orderUrl, certificateKeyPem, csr,
                newState, orders, createdAt, now);
    }

    Checkpoint atCa(String newCa, String newDirectoryUrl, String newAccountUrl, Instant now) {
        boolean sameCa = newCa.equals(ca);
        return new Checkpoint(id, identifiers, newCa, newDirectoryUrl, newAccountUrl, sameCa ? orderUrl : null,
                certificateKeyPem, csr, state, orders, createdAt, now);
    }

    Checkpoint withOrder(String newOrderUrl, Instant now) {
        return new Checkpoint(id, identifiers, ca, directoryUrl, accountUrl, newOrderUrl, certificateKeyPem, null,
                state, orders + 1, createdAt, now);
    }

    Checkpoint withCsr(String newCsr, Instant now) {
        return new Checkpoint(id, identifiers, ca, directoryUrl, accountUrl, orderUrl, certificateKeyPem, newCsr,
                state, orders, createdAt, now);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + id + " " + state + " at " + ca + ", order " + orderUrl + ", key <redacted>]";
    }
}
