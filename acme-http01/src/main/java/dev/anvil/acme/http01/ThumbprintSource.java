package dev.anvil.acme.http01;

import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.store.Store;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The account key thumbprints a stateless http-01 responder answers with, primary first. The
 * primary is what the responder serves for a token no solver registered (see
 * {@link Http01Responder}); the others are accepted for registration by the solver.
 */
@FunctionalInterface
public interface ThumbprintSource {

    /** The thumbprints, primary first, without duplicates. Called for requests: must be cheap; may be empty. */
    List<String> thumbprints();

    /** Re-reads the accounts behind this source now (a solver calls it on a miss). Default: nothing to re-read. */
    default void refresh() {
    }

    /** Fixed thumbprints (43 base64url characters each), primary first. */
    static ThumbprintSource of(String... thumbprints) {
        return of(Arrays.asList(thumbprints));
    }

    /** Fixed thumbprints, primary first. */
    static ThumbprintSource of(Collection<String> thumbprints) {
        Objects.requireNonNull(thumbprints, "thumbprints");
        LinkedHashSet<String> set = new LinkedHashSet<>();
        for (String t : thumbprints) {
            set.add(Thumbprints.requireValid(t));
        }
        if (set.isEmpty()) {
            throw new IllegalArgumentException("a stateless responder needs at least one account thumbprint");
        }
        return new FixedThumbprints(List.copyOf(set));
    }

    /** The thumbprints of these account public keys, primary first. */
    static ThumbprintSource ofKeys(PublicKey... accountKeys) {
        return of(Arrays.stream(accountKeys).map(Thumbprints::of).toList());
    }

    /**
     * The accounts the issuance engine uses for these CAs, read from its store: a CA's given
     * account key, else the key the engine generated and stored for it. Accounts the engine
     * creates later are picked up within {@code maxAge} (or at once when a solver asks), so a
     * new CA needs no reconfiguration. The primary is the first CA's account that exists.
     */
    static ThumbprintSource fromStore(Store store, List<CertificateAuthority> cas, Duration maxAge) {
        return new StoreThumbprintSource(store, cas, maxAge);
    }

    /** As {@link #fromStore(Store, List, Duration)}, re-reading at most every 5 seconds. */
    static ThumbprintSource fromStore(Store store, List<CertificateAuthority> cas) {
        return fromStore(store, cas, Duration.ofSeconds(5));
    }
}
