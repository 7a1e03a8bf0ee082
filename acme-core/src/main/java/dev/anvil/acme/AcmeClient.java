package dev.anvil.acme;

import dev.anvil.acme.internal.HttpResponse;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.internal.Jws;
import dev.anvil.acme.internal.NoncePool;
import dev.anvil.acme.internal.Transport;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client for one ACME server, named by its directory URL. Thread-safe; create one per CA and
 * share it. It fetches the directory once, pools nonces from every response, signs requests
 * and retries {@code badNonce} with the nonce the error brought.
 *
 * <pre>{@code
 * AcmeClient ca = AcmeClient.builder("https://acme-v02.api.letsencrypt.org/directory").build();
 * AccountSession account = ca.newAccount(accountKey, NewAccount.agreeingToTerms().withContact("me@example.com"));
 * }</pre>
 */
public final class AcmeClient {

    public static final String VERSION = "0.1.0";
    static final String JSON = "application/json";
    static final String PEM_CHAIN = "application/pem-certificate-chain";
    private static final Logger LOG = LoggerFactory.getLogger(AcmeClient.class);

    private final String directoryUrl;
    private final Transport transport;
    private final NoncePool nonces = new NoncePool();
    private final int maxBadNonceRetries;
    private volatile Directory directory;

    private AcmeClient(Builder b) {
        OkHttpClient http = b.httpClient != null ? b.httpClient : dev.anvil.acme.internal.DefaultHttp.client();
        String ua = "Anvil/" + VERSION + " (+acme-core) Java/" + System.getProperty("java.version")
                + (b.userAgentSuffix == null ? "" : " " + b.userAgentSuffix);
        this.transport = new Transport(http, ua, b.allowInsecureHttp, b.maxResponseBytes, b.clock);
        this.directoryUrl = transport.checkUrl(b.directoryUrl, "directory");
        this.maxBadNonceRetries = b.maxBadNonceRetries;
    }

    public static Builder builder(String directoryUrl) {
        return new Builder(directoryUrl);
    }

    public String directoryUrl() {
        return directoryUrl;
    }

    /**
     * The HTTP client Anvil uses when none is injected (10/30/60 s timeouts, no redirects,
     * TCP_NODELAY), shared so that every default user shares one connection pool.
     */
    public static OkHttpClient defaultHttpClient() {
        return dev.anvil.acme.internal.DefaultHttp.client();
    }

    /** The directory, fetched on first call and cached for the life of this client (network I/O once). */
    public Directory fetchDirectory() {
        Directory d = directory;
        if (d != null) {
            return d;
        }
        synchronized (this) {
            if (directory == null) {
                HttpResponse r = transport.ensureSuccess(transport.get(directoryUrl, JSON));
                nonces.offer(r.replayNonce());
                Directory parsed = Json.read(transport.expect(r, JSON).body(), Directory.class, directoryUrl);
                if (parsed.newNonce() == null || parsed.newAccount() == null || parsed.newOrder() == null) {
                    throw new AcmeProtocolException("directory at " + directoryUrl
                            + " lacks newNonce, newAccount or newOrder: is this an ACME directory URL?");
                }
                for (String url : new String[] {parsed.newNonce(), parsed.newAccount(), parsed.newOrder(),
                        parsed.newAuthz(), parsed.revokeCert(), parsed.keyChange(), parsed.renewalInfo()}) {
                    if (url != null) {
                        transport.checkUrl(url, "directory entry");
                    }
                }
                LOG.debug("directory {}: EAB required={}, profiles={}, renewalInfo={}", directoryUrl,
                        parsed.meta().externalAccountRequired(), parsed.meta().profiles().keySet(),
                        parsed.renewalInfo() != null);
                directory = parsed;
            }
            return directory;
        }
    }

    /** Registers a new account for the key, or returns the existing one (RFC 8555 section 7.3). */
    public AccountSession newAccount(KeyPair accountKey, NewAccount request) {
        Directory dir = fetchDirectory();
        ExternalAccountBinding eab = request.externalAccountBinding();
        if (dir.meta().externalAccountRequired() && eab == null) {
            throw new AcmeException("the CA at " + directoryUrl + " requires external account binding"
                    + " (meta.externalAccountRequired): pass ExternalAccountBinding.of(kid, macKey) from the CA");
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        if (!request.contacts().isEmpty()) {
            payload.put("contact", request.contacts());
        }
        if (request.termsOfServiceAgreed()) {
            payload.put("termsOfServiceAgreed", true);
        }
        if (eab != null) {
            payload.put("externalAccountBinding", Jws.externalAccountBinding(eab.kid(), eab.macKey(),
                    eab.jwsAlgorithm(), dir.newAccount(), accountKey.getPublic()));
        }
        return account(accountKey, payload, "newAccount");
    }

    /** The existing account of a key, without creating one (onlyReturnExisting, RFC 8555 section 7.3.1). */
    public AccountSession findAccount(KeyPair accountKey) {
        return account(accountKey, Map.of("onlyReturnExisting", true), "findAccount");
    }

    /** A session for a known account URL; makes no request. */
    public AccountSession login(KeyPair accountKey, String accountUrl) {
        Jws.algorithm(accountKey.getPublic());
        return new AccountSession(this, accountKey, transport.checkUrl(accountUrl, "account"));
    }

    /**
     * Revokes a certificate with its own key instead of an account key (RFC 8555 section 7.6),
     * for when the account is lost but the certificate key is not.
     */
    public void revokeWithCertificateKey(X509Certificate certificate, KeyPair certificateKey, RevocationReason reason) {
        postSigned(revokeUrl(), certificateKey, null, revocationPayload(certificate, reason), JSON);
        LOG.debug("revoked certificate {} with its own key", certificate.getSerialNumber().toString(16));
    }

    /**
     * Fetches the CA's renewal information for a certificate with a plain GET (RFC 9773
     * section 4.2). Throws {@link AcmeException} when the CA offers no renewalInfo and
     * {@link AcmeProtocolException} for a window whose end is not after its start.
     */
    public RenewalInfo fetchRenewalInfo(String certId) {
        String base = fetchDirectory().renewalInfo();
        if (base == null) {
            throw new AcmeException("the CA at " + directoryUrl + " offers no renewalInfo (ARI)");
        }
        if (!certId.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("not an ARI CertID: '" + certId + "'");
        }
        String url = (base.endsWith("/") ? base : base + "/") + certId;
        HttpResponse r = transport.ensureSuccess(transport.get(url, JSON));
        RenewalInfo info = Json.read(transport.expect(r, JSON).body(), RenewalInfo.class, url).withRetryAfter(r.retryAfter());
        RenewalInfo.SuggestedWindow w = info.suggestedWindow();
        if (w == null || w.start() == null || w.end() == null || !w.end().isAfter(w.start())) {
            throw new AcmeProtocolException("renewalInfo from " + url + " has an invalid suggestedWindow " + w);
        }
        return info;
    }

    private AccountSession account(KeyPair accountKey, Map<String, Object> payload, String step) {
        Directory dir = fetchDirectory();
        HttpResponse r = postSigned(dir.newAccount(), accountKey, null, payload, JSON);
        if (r.location() == null) {
            throw new AcmeProtocolException("newAccount response from " + dir.newAccount() + " has no Location header");
        }
        Account account = r.body().length == 0 ? null
                : Json.read(transport.expect(r, JSON).body(), Account.class, r.url()).withUrl(r.location());
        LOG.debug("{}: account {} ({})", step, r.location(), r.status() == 201 ? "created" : "existing");
        return new AccountSession(this, accountKey, r.location(), account);
    }

    String revokeUrl() {
        String url = fetchDirectory().revokeCert();
        if (url == null) {
            throw new AcmeException("the CA at " + directoryUrl + " offers no revokeCert endpoint");
        }
        return url;
    }

    static Map<String, Object> revocationPayload(X509Certificate certificate, RevocationReason reason) {
        Map<String, Object> payload = new LinkedHashMap<>();
        try {
            payload.put("certificate", Base64.getUrlEncoder().withoutPadding().encodeToString(certificate.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate", e);
        }
        if (reason != null) {
            payload.put("reason", reason.code());
        }
        return payload;
    }

    /**
     * A signed POST (payload null means POST-as-GET). Retries {@code badNonce} with the nonce
     * from the error response, up to the configured bound; every other error is thrown typed.
     */
    HttpResponse postSigned(String url, KeyPair key, String kid, Object payload, String accept) {
        byte[] body = payload == null ? new byte[0] : Json.write(payload).getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; ; attempt++) {
            String jws = Json.write(Jws.sign(key, url, nextNonce(), kid, body));
            HttpResponse r = transport.post(url, jws, accept);
            nonces.offer(r.replayNonce());
            try {
                return transport.ensureSuccess(r);
            } catch (AcmeBadNonceException e) {
                if (attempt >= maxBadNonceRetries) {
                    throw e;
                }
                LOG.debug("badNonce from {}, retry {} of {}", url, attempt + 1, maxBadNonceRetries);
            }
        }
    }

    private String nextNonce() {
        String nonce = nonces.poll();
        if (nonce != null) {
            return nonce;
        }
        HttpResponse r = transport.ensureSuccess(transport.head(fetchDirectory().newNonce()));
        if (r.replayNonce() == null) {
            throw new AcmeProtocolException("newNonce response from " + r.url() + " has no Replay-Nonce header");
        }
        return r.replayNonce();
    }

    Transport transport() {
        return transport;
    }

    /** Settings for an {@link AcmeClient}; every setting has a safe default. */
    public static final class Builder {
        private final String directoryUrl;
        private OkHttpClient httpClient;
        private boolean allowInsecureHttp;
        private long maxResponseBytes = 1 << 20;
        private int maxBadNonceRetries = 10;
        private Clock clock = Clock.systemUTC();
        private String userAgentSuffix;

        private Builder(String directoryUrl) {
            this.directoryUrl = Objects.requireNonNull(directoryUrl, "directoryUrl");
        }

        /** The HTTP client: proxies, trust (a test CA's certificate), timeouts. Connections are pooled by it. */
        public Builder httpClient(OkHttpClient client) {
            this.httpClient = Objects.requireNonNull(client);
            return this;
        }

        /** Accept plain-HTTP URLs from the CA. For local test servers only. */
        public Builder allowInsecureHttp(boolean allow) {
            this.allowInsecureHttp = allow;
            return this;
        }

        /** The largest response body accepted; larger ones fail with {@link AcmeProtocolException}. Default 1 MiB. */
        public Builder maxResponseBytes(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxResponseBytes must be at least 1024");
            }
            this.maxResponseBytes = bytes;
            return this;
        }

        /** How often a request rejected with badNonce is sent again with a fresh nonce. Default 10. */
        public Builder maxBadNonceRetries(int retries) {
            if (retries < 0 || retries > 100) {
                throw new IllegalArgumentException("maxBadNonceRetries must be 0 to 100");
            }
            this.maxBadNonceRetries = retries;
            return this;
        }

        /** The clock for Retry-After arithmetic. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** Appended to the User-Agent, e.g. "my-app/2.1". */
        public Builder userAgent(String suffix) {
            this.userAgentSuffix = suffix;
            return this;
        }

        public AcmeClient build() {
            return new AcmeClient(this);
        }
    }
}
