package dev.anvil.acme.issuance;

import dev.anvil.acme.ExternalAccountBinding;
import java.security.KeyPair;
import java.util.List;
import java.util.Objects;

/**
 * One CA as the engine uses it: a name (also its key in the store), one or more directory URLs
 * tried in order, the account key (generated and stored by the engine when null), contacts,
 * EAB, the preferred chain's issuer and a profile. Immutable; {@code with...} returns a copy.
 * Presets exist for the public CAs; Buypass is absent on purpose (discontinued in 2025).
 */
public record CertificateAuthority(String name, List<String> directoryUrls, KeyPair accountKey,
                                   List<String> contacts, EabProvider eab, String preferredChain, String profile) {

    public CertificateAuthority {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("CA name must be 1 to 64 of [a-z0-9._-], starting with a letter or digit: '"
                    + name + "'");
        }
        if (directoryUrls == null || directoryUrls.isEmpty()) {
            throw new IllegalArgumentException("CA " + name + " needs at least one directory URL");
        }
        directoryUrls = List.copyOf(directoryUrls);
        contacts = contacts == null ? List.of() : List.copyOf(contacts);
    }

    public static CertificateAuthority of(String name, String... directoryUrls) {
        return new CertificateAuthority(name, List.of(directoryUrls), null, List.of(), null, null, null);
    }

    public static CertificateAuthority letsEncrypt() {
        return of("letsencrypt", "https://acme-v02.api.letsencrypt.org/directory");
    }

    public static CertificateAuthority letsEncryptStaging() {
        return of("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory");
    }

    /** ZeroSSL with EAB credentials fetched automatically for an email address. */
    public static CertificateAuthority zeroSsl(String email) {
        return of("zerossl", "https://acme.zerossl.com/v2/DV90").withEab(ZeroSslEab.forEmail(email)).withContact(email);
    }

    /** ZeroSSL with EAB credentials from the ZeroSSL dashboard or {@link ZeroSslEab#forApiKey}. */
    public static CertificateAuthority zeroSsl(EabProvider eab) {
        return of("zerossl", "https://acme.zerossl.com/v2/DV90").withEab(eab);
    }

    /** Google Trust Services; EAB (HS256, base64url key) from Google Cloud's Public CA API. */
    public static CertificateAuthority googleTrustServices(ExternalAccountBinding eab) {
        return of("google", "https://dv.acme-v02.api.pki.goog/directory").withEab(EabProvider.of(eab));
    }

    public static CertificateAuthority googleTrustServicesStaging(ExternalAccountBinding eab) {
        return of("google-staging", "https://dv.acme-v02.test-api.pki.goog/directory").withEab(EabProvider.of(eab));
    }

    /** SSL.com, RSA issuing chain. */
    public static CertificateAuthority sslCom(ExternalAccountBinding eab) {
        return of("sslcom", "https://acme.ssl.com/sslcom-dv-rsa").withEab(EabProvider.of(eab));
    }

    /** SSL.com, ECC issuing chain. */
    public static CertificateAuthority sslComEcc(ExternalAccountBinding eab) {
        return of("sslcom-ecc", "https://acme.ssl.com/sslcom-dv-ecc").withEab(EabProvider.of(eab));
    }

    public CertificateAuthority withName(String newName) {
        return new CertificateAuthority(newName, directoryUrls, accountKey, contacts, eab, preferredChain, profile);
    }

    public CertificateAuthority withAccountKey(KeyPair key) {
        return new CertificateAuthority(name, directoryUrls, key, contacts, eab, preferredChain, profile);
    }

    public CertificateAuthority withContact(String contact) {
        List<String> all = new java.util.ArrayList<>(contacts);
        all.add(contact);
        return new CertificateAuthority(name, directoryUrls, accountKey, all, eab, preferredChain, profile);
    }

    public CertificateAuthority withEab(EabProvider provider) {
        return new CertificateAuthority(name, directoryUrls, accountKey, contacts, provider, preferredChain, profile);
    }

    public CertificateAuthority withPreferredChain(String issuerName) {
        return new CertificateAuthority(name, directoryUrls, accountKey, contacts, eab, issuerName, profile);
    }

    public CertificateAuthority withProfile(String profileName) {
        return new CertificateAuthority(name, directoryUrls, accountKey, contacts, eab, preferredChain, profileName);
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + name + " " + directoryUrls + (eab != null ? ", EAB" : "")
                + (accountKey != null ? ", given account key" : "") + "]";
    }
}
