package dev.anvil.acme.issuance;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.crypto.KeyType;
import dev.anvil.acme.solver.ChallengeSolver;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One certificate to obtain: its id (the key of its checkpoint and result in the store), the
 * identifiers, the CAs in order of preference, the solvers in order of preference, and the
 * certificate key (a given one, or a new one of {@code keyType}). Immutable.
 */
public record IssuanceRequest(String id, List<Identifier> identifiers, List<CertificateAuthority> cas,
                              List<ChallengeSolver> solvers, KeyPair certificateKey, KeyType keyType, String replaces) {

    public IssuanceRequest(String id, List<Identifier> identifiers, List<CertificateAuthority> cas,
                           List<ChallengeSolver> solvers, KeyPair certificateKey, KeyType keyType) {
        this(id, identifiers, cas, solvers, certificateKey, keyType, null);
    }

    public IssuanceRequest {
        if (identifiers == null || identifiers.isEmpty()) {
            throw new IllegalArgumentException("an issuance needs at least one identifier");
        }
        identifiers = List.copyOf(new LinkedHashSet<>(identifiers));
        id = id == null ? defaultId(identifiers.get(0)) : id;
        if (!id.matches("[a-z0-9_-][a-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("issuance id must be 1 to 128 of [a-z0-9._-]: '" + id + "'");
        }
        cas = cas == null ? List.of() : List.copyOf(cas);
        solvers = solvers == null ? List.of() : List.copyOf(solvers);
        keyType = keyType == null ? KeyType.EC_P256 : keyType;
        long distinct = cas.stream().map(CertificateAuthority::name).distinct().count();
        if (distinct != cas.size()) {
            throw new IllegalArgumentException("CA names must be distinct within one issuance");
        }
    }

    /** A request for names and addresses ({@link Identifier#of}); its id derives from the first. */
    public static IssuanceRequest of(String... namesOrAddresses) {
        return new IssuanceRequest(null, Arrays.stream(namesOrAddresses).map(Identifier::of).toList(),
                null, null, null, null);
    }

    public IssuanceRequest withId(String newId) {
        return new IssuanceRequest(newId, identifiers, cas, solvers, certificateKey, keyType, replaces);
    }

    /** Appends a CA; the first one added is tried first. */
    public IssuanceRequest withCa(CertificateAuthority ca) {
        List<CertificateAuthority> all = new ArrayList<>(cas);
        all.add(Objects.requireNonNull(ca));
        return new IssuanceRequest(id, identifiers, all, solvers, certificateKey, keyType, replaces);
    }

    /** Appends a solver; for each identifier the first solver that supports an offered type wins. */
    public IssuanceRequest withSolver(ChallengeSolver solver) {
        List<ChallengeSolver> all = new ArrayList<>(solvers);
        all.add(Objects.requireNonNull(solver));
        return new IssuanceRequest(id, identifiers, cas, all, certificateKey, keyType, replaces);
    }

    /** Uses this key for the certificate instead of a new one. */
    public IssuanceRequest withCertificateKey(KeyPair key) {
        return new IssuanceRequest(id, identifiers, cas, solvers, key, keyType, replaces);
    }

    public IssuanceRequest withKeyType(KeyType type) {
        return new IssuanceRequest(id, identifiers, cas, solvers, certificateKey, type, replaces);
    }

    /**
     * Marks this issuance as the renewal of the certificate with this ARI CertID (RFC 9773
     * section 5): sent as "replaces" to CAs that offer renewalInfo.
     */
    public IssuanceRequest withReplaces(String certId) {
        return new IssuanceRequest(id, identifiers, cas, solvers, certificateKey, keyType, certId);
    }

    static String defaultId(Identifier first) {
        String v = first.value().toLowerCase(Locale.ROOT).replace("*.", "wildcard.").replace(':', '-');
        return v.length() > 128 ? v.substring(0, 128) : v;
    }

    @Override
    public String toString() {
        return "IssuanceRequest[" + id + " " + identifiers.stream().map(Identifier::value).toList() + " via "
                + cas.stream().map(CertificateAuthority::name).toList() + "]";
    }
}
