package dev.anvil.acme.renewal;

/** What happens to the certificate key at renewal. */
public enum KeyPolicy {
    /** A new key for every certificate (the default: a leaked key dies with its certificate). */
    ROTATE,
    /** Keep the key across renewals (for pinning, or HSM-held keys). */
    REUSE
}
