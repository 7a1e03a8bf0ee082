package dev.anvil.acme.http01;

import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.store.Store;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Thumbprints of the engine's accounts as kept in its {@link Store}. Core has no public API
 * for "the account key of CA x", so this reads the engine's record at
 * {@code accounts/<ca>.json} (field {@code keyPem}); it holds a private key, which is only
 * turned into a public thumbprint here and never logged. Re-read at most every {@code maxAge}.
 */
final class StoreThumbprintSource implements ThumbprintSource {

    private static final Logger LOG = LoggerFactory.getLogger(StoreThumbprintSource.class);

    private final Store store;
    private final List<CertificateAuthority> cas;
    private final long maxAgeNanos;
    /** Last problem logged per CA, so a broken record warns once rather than on every re-read. */
    private final Map<String, String> reported = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;

    private record Snapshot(List<String> thumbprints, long readAtNanos) {
    }

    StoreThumbprintSource(Store store, List<CertificateAuthority> cas, Duration maxAge) {
        this.store = Objects.requireNonNull(store, "store");
        this.cas = List.copyOf(Objects.requireNonNull(cas, "cas"));
        if (this.cas.isEmpty()) {
            throw new IllegalArgumentException("fromStore needs the CAs whose accounts the responder answers for");
        }
        if (maxAge == null || maxAge.isNegative()) {
            throw new IllegalArgumentException("maxAge must be zero or positive: " + maxAge);
        }
        this.maxAgeNanos = maxAge.toNanos();
    }

    @Override
    public List<String> thumbprints() {
        Snapshot s = snapshot;
        if (s == null || System.nanoTime() - s.readAtNanos() >= maxAgeNanos) {
            s = reload();
        }
        return s.thumbprints();
    }

    @Override
    public void refresh() {
        reload();
    }

    private synchronized Snapshot reload() {
        LinkedHashSet<String> found = new LinkedHashSet<>();
        for (CertificateAuthority ca : cas) {
            thumbprintOf(ca).ifPresent(found::add);
        }
        Snapshot s = new Snapshot(List.copyOf(found), System.nanoTime());
        Snapshot old = snapshot;
        if (old == null || !old.thumbprints().equals(s.thumbprints())) {
            LOG.info("stateless http-01 thumbprints from the store: {}", s.thumbprints());
        }
        snapshot = s;
        return s;
    }

    private Optional<String> thumbprintOf(CertificateAuthority ca) {
        if (ca.accountKey() != null) {
            return Optional.of(Thumbprints.of(ca.accountKey().getPublic()));
        }
        String key = IssuanceEngine.accountKey(ca.name());
        try {
            Optional<KeyPair> account = IssuanceEngine.storedAccountKey(store, ca.name());
            if (account.isEmpty()) {
                return Optional.empty(); // not registered yet: the engine creates it on first use
            }
            String thumbprint = Thumbprints.of(account.get().getPublic());
            reported.remove(ca.name());
            return Optional.of(thumbprint);
        } catch (Exception e) {
            // Say what failed, never the content: the record holds the account's private key.
            String problem = e.getClass().getSimpleName();
            if (!problem.equals(reported.put(ca.name(), problem))) {
                LOG.warn("cannot read the account of CA {} from store key {} ({}); its thumbprint is not served",
                        ca.name(), key, problem);
            }
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "ThumbprintSource[store, CAs " + new ArrayList<>(cas.stream().map(CertificateAuthority::name).toList()) + "]";
    }
}
