package dev.anvil.acme.solver;

import dev.anvil.acme.AccountSession;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;

/**
 * Everything a solver needs for one challenge: the identifier (for a wildcard, the base name
 * with {@code wildcard} set), the challenge, and the account's key authorization.
 */
public record ChallengeContext(Identifier identifier, boolean wildcard, Challenge challenge,
                               String keyAuthorization, String accountThumbprint) {

    public static ChallengeContext of(Identifier identifier, boolean wildcard, Challenge challenge,
                                      AccountSession account) {
        return new ChallengeContext(identifier, wildcard, challenge,
                account.keyAuthorization(challenge.token()), account.thumbprint());
    }

    public String type() {
        return challenge.type();
    }

    public String token() {
        return challenge.token();
    }

    /** The dns-01 TXT record value: base64url(SHA-256(key authorization)) (RFC 8555 section 8.4). */
    public String dnsTxtValue() {
        return AccountSession.dns01Digest(challenge.token(), accountThumbprint);
    }

    /** The dns-01 record name, {@code _acme-challenge.<domain>} without a trailing dot. */
    public String dnsRecordName() {
        return "_acme-challenge." + identifier.value();
    }
}
