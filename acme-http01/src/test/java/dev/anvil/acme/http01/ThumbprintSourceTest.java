package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.store.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThumbprintSourceTest {

    @Test
    void fixedThumbprintsKeepOrderAndDropDuplicates() {
        String a = Challenges.thumbprint();
        String b = Challenges.thumbprint();
        assertThat(ThumbprintSource.of(a, b, a).thumbprints()).containsExactly(a, b);
        assertThat(ThumbprintSource.of(a).toString()).contains(a);
        KeyPair k = KeyPairs.generate();
        assertThat(ThumbprintSource.ofKeys(k.getPublic()).thumbprints()).containsExactly(Thumbprints.of(k.getPublic()));
        assertThatThrownBy(() -> ThumbprintSource.of(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ThumbprintSource.of("tok." + a)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fromStoreFollowsTheEnginesAccountsInCaOrder() {
        MemoryStore store = new MemoryStore();
        KeyPair given = KeyPairs.generate();
        CertificateAuthority first = CertificateAuthority.of("first", "https://first.test/dir");
        CertificateAuthority second = CertificateAuthority.of("second", "https://second.test/dir").withAccountKey(given);
        ThumbprintSource source = ThumbprintSource.fromStore(store, List.of(first, second), Duration.ofHours(1));
        // Only the given key so far: the engine has not registered at "first" yet.
        assertThat(source.thumbprints()).containsExactly(Thumbprints.of(given.getPublic()));

        KeyPair stored = KeyPairs.generate();
        store.write("accounts/first.json", accountRecord(stored));
        assertThat(source.thumbprints()).as("cached until maxAge or refresh").hasSize(1);
        source.refresh();
        assertThat(source.thumbprints()).containsExactly(Thumbprints.of(stored.getPublic()), Thumbprints.of(given.getPublic()));
        assertThat(source.toString()).doesNotContain("PRIVATE");
    }

    @Test
    void fromStoreReReadsAfterMaxAge() throws Exception {
        MemoryStore store = new MemoryStore();
        ThumbprintSource source = ThumbprintSource.fromStore(store,
                List.of(CertificateAuthority.of("ca", "https://ca.test/dir")), Duration.ofMillis(50));
        assertThat(source.thumbprints()).isEmpty();
        KeyPair k = KeyPairs.generate();
        store.write("accounts/ca.json", accountRecord(k));
        Thread.sleep(120);
        assertThat(source.thumbprints()).containsExactly(Thumbprints.of(k.getPublic()));
    }

    @Test
    void aBrokenAccountRecordIsSkippedNotFatal() {
        MemoryStore store = new MemoryStore();
        store.write("accounts/broken.json", "{not json".getBytes(StandardCharsets.UTF_8));
        store.write("accounts/nokey.json", "{\"accountUrl\":\"https://x\"}".getBytes(StandardCharsets.UTF_8));
        KeyPair k = KeyPairs.generate();
        store.write("accounts/good.json", accountRecord(k));
        ThumbprintSource source = ThumbprintSource.fromStore(store, List.of(CertificateAuthority.of("broken", "https://b/dir"),
                CertificateAuthority.of("nokey", "https://n/dir"), CertificateAuthority.of("good", "https://g/dir")));
        assertThat(source.thumbprints()).containsExactly(Thumbprints.of(k.getPublic()));
        assertThatThrownBy(() -> ThumbprintSource.fromStore(store, List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    /** The engine's account record as it stores it (see IssuanceEngine.StoredAccount); checked end to end in the integration tests. */
    static byte[] accountRecord(KeyPair key) {
        String pem = Pem.write(key).replace("\n", "\\n");
        return ("{\"directoryUrl\":\"https://ca.test/dir\",\"accountUrl\":\"https://ca.test/acct/1\",\"keyPem\":\"" + pem + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }
}
