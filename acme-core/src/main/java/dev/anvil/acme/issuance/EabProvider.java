package dev.anvil.acme.issuance;

import dev.anvil.acme.ExternalAccountBinding;
import okhttp3.OkHttpClient;

/** Supplies EAB credentials when the engine registers a new account: fixed ones, or fetched (ZeroSSL). */
@FunctionalInterface
public interface EabProvider {

    ExternalAccountBinding fetch(OkHttpClient http);

    static EabProvider of(ExternalAccountBinding eab) {
        return http -> eab;
    }
}
