package dev.anvil.acme.renewal;

import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A certificate the {@link RenewalManager} keeps valid: the issuance to run (identifiers, CAs
 * in order, solvers), the key policy, and the callback that receives each new certificate and
 * key together (install it in the server there). The callback runs on the manager's thread.
 */
public record ManagedCertificate(IssuanceRequest request, KeyPolicy keyPolicy, Consumer<IssuedCertificate> onIssued) {

    public ManagedCertificate {
        Objects.requireNonNull(request, "request");
        keyPolicy = keyPolicy == null ? KeyPolicy.ROTATE : keyPolicy;
        onIssued = onIssued == null ? c -> { } : onIssued;
    }

    public static ManagedCertificate of(IssuanceRequest request, Consumer<IssuedCertificate> onIssued) {
        return new ManagedCertificate(request, KeyPolicy.ROTATE, onIssued);
    }

    public ManagedCertificate withKeyPolicy(KeyPolicy policy) {
        return new ManagedCertificate(request, policy, onIssued);
    }

    public String id() {
        return request.id();
    }
}
