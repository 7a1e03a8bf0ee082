package dev.anvil.acme.http01;

import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.store.Store;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestTls;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/** Issuance engines for the end-to-end tests: real Pebble, quick polling, trusting exactly the given Pebbles. */
public final class Engines {

    private Engines() {
    }

    static IssuanceEngine against(Store store, Pebble... pebbles) {
        return against(store, httpClient(pebbles));
    }

    /** An engine with quick polling, using this client (one that trusts the test CA's listener). */
    public static IssuanceEngine against(Store store, OkHttpClient http) {
        return IssuanceEngine.builder(store).httpClient(http)
                .backoff(DefaultBackoff.builder().polling(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(2))
                        .errorDelays(Duration.ofMillis(100), Duration.ofSeconds(1)).build())
                .build();
    }

    /** One HTTP client for several Pebbles, each with its own freshly generated TLS CA. */
    static OkHttpClient httpClient(Pebble... pebbles) {
        if (pebbles.length == 1) {
            return pebbles[0].httpClient();
        }
        X509TrustManager tm = TestTls.trustManagerFor(Arrays.stream(pebbles).map(p -> p.tls().caCertificate()).toList());
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {tm}, null);
            return pebbles[0].httpClient().newBuilder().sslSocketFactory(ctx.getSocketFactory(), tm).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The DNS names and IP addresses of the leaf certificate. */
    public static List<String> names(IssuedCertificate issued) {
        X509Certificate leaf = issued.leaf();
        List<String> out = new ArrayList<>();
        try {
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                out.add(String.valueOf(san.get(1)));
            }
        } catch (CertificateParsingException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
