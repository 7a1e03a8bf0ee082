package dev.anvil.acme;

import static dev.anvil.acme.AcmeClient.JSON;
import static dev.anvil.acme.AcmeClient.PEM_CHAIN;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.acme.internal.HttpResponse;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.internal.Jws;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ACME account in use: its key and URL, and every request signed by it (orders,
 * authorizations, challenges, finalize, certificates, revocation, account management).
 * Immutable and thread-safe; each method that talks to the server says so by its verb.
 */
public final class AccountSession {

    private static final Logger LOG = LoggerFactory.getLogger(AccountSession.class);
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,512}");
    private static final int MAX_ORDER_PAGES = 100;

    private final AcmeClient client;
    private final KeyPair key;
    private final String accountUrl;
    private final Account account;
    private final String thumbprint;

    AccountSession(AcmeClient client, KeyPair key, String accountUrl) {
        this(client, key, accountUrl, null);
    }

    AccountSession(AcmeClient client, KeyPair key, String accountUrl, Account account) {
        this.client = client;
        this.key = key;
        this.accountUrl = accountUrl;
        this.account = account;
        this.thumbprint = Jws.thumbprint(key.getPublic());
    }

    public AcmeClient client() {
        return client;
    }

    public String accountUrl() {
        return accountUrl;
    }

    /** The account key pair. */
    public KeyPair keyPair() {
        return key;
    }

    /** The account object the server returned when this session was created, if any. */
    public Optional<Account> account() {
        return Optional.ofNullable(account);
    }

    /** The account key's RFC 7638 thumbprint (base64url), the second half of every key authorization. */
    public String thumbprint() {
        return thumbprint;
    }

    // ---- account (RFC 8555 section 7.3) ----

    /** Fetches the account object. */
    public Account fetchAccount() {
        return readAccount(post(accountUrl, null));
    }

    /** Replaces the account's contacts (section 7.3.2). */
    public Account updateContacts(List<String> contacts) {
        List<String> uris = contacts.stream().map(NewAccount::contactUri).toList();
        return readAccount(post(accountUrl, Map.of("contact", uris)));
    }

    /** Deactivates the account for good (section 7.3.6). */
    public Account deactivate() {
        Account a = readAccount(post(accountUrl, Map.of("status", "deactivated")));
        LOG.debug("deactivated account {}", accountUrl);
        return a;
    }

    /**
     * Rolls the account over to a new key (section 7.3.5) and returns a session with it. The old
     * session must not be used afterwards.
     */
    public AccountSession changeKey(KeyPair newKey) {
        String url = client.fetchDirectory().keyChange();
        if (url == null) {
            throw new AcmeException("the CA at " + client.directoryUrl() + " offers no keyChange endpoint");
        }
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("account", accountUrl);
        inner.put("oldKey", Jws.publicJwk(key.getPublic()).toJSONObject());
        Map<String, Object> innerJws = Jws.sign(newKey, url, null, null,
                Json.write(inner).getBytes(StandardCharsets.UTF_8));
        post(url, innerJws);
        LOG.debug("account {} rolled over to a new key", accountUrl);
        return new AccountSession(client, newKey, accountUrl, account);
    }

    /** The URLs of the account's orders, following {@code Link: rel="next"} pages (section 7.1.2.1). */
    public List<String> fetchOrderUrls() {
        String url = fetchAccount().orders();
        List<String> orders = new ArrayList<>();
        for (int page = 0; url != null && page < MAX_ORDER_PAGES; page++) {
            HttpResponse r = post(url, null);
            JsonNode list = Json.tree(client.transport().expect(r, JSON).body(), r.url()).path("orders");
            for (JsonNode o : list) {
                orders.add(client.transport().checkUrl(o.asText(), "order"));
            }
            url = r.link("next").orElse(null);
        }
        return orders;
    }

    // ---- orders (section 7.4) ----

    /**
     * Creates an order. "profile" is sent only to CAs that advertise profiles (an unknown profile
     * is an error), "replaces" only to CAs with renewalInfo.
     */
    public Order newOrder(OrderRequest request) {
        Directory dir = client.fetchDirectory();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("identifiers", request.identifiers());
        if (request.notBefore() != null) {
            payload.put("notBefore", request.notBefore().toString());
        }
        if (request.notAfter() != null) {
            payload.put("notAfter", request.notAfter().toString());
        }
        if (request.profile() != null) {
            Map<String, String> offered = dir.meta().profiles();
            if (offered.isEmpty()) {
                LOG.debug("the CA advertises no profiles; not sending profile '{}'", request.profile());
            } else if (!offered.containsKey(request.profile())) {
                throw new IllegalArgumentException("the CA at " + client.directoryUrl() + " does not offer profile '"
                        + request.profile() + "'; it offers " + offered.keySet());
            } else {
                payload.put("profile", request.profile());
            }
        }
        if (request.replaces() != null && dir.supportsRenewalInfo()) {
            payload.put("replaces", request.replaces());
        }
        HttpResponse r = post(dir.newOrder(), payload);
        if (r.location() == null) {
            throw new AcmeProtocolException("newOrder response from " + r.url() + " has no Location header");
        }
        Order order = readOrder(r, r.location());
        LOG.debug("newOrder {} -> {} {}", request.identifiers().stream().map(Identifier::value).toList(),
                order.status(), order.url());
        return order;
    }

    public Order fetchOrder(String orderUrl) {
        return readOrder(post(orderUrl, null), orderUrl);
    }

    /**
     * Finalizes a ready order with a DER-encoded CSR (section 7.4). Returns the order from the
     * response, usually "processing" or "valid". Not retried here: a caller retrying after an
     * error must first re-fetch the order, as the server may have accepted this request.
     */
    public Order finalizeOrder(Order order, byte[] csrDer) {
        String csr = Base64.getUrlEncoder().withoutPadding().encodeToString(csrDer);
        Order o = readOrder(post(client.transport().checkUrl(order.finalizeUrl(), "finalize"), Map.of("csr", csr)),
                order.url());
        LOG.debug("finalize {} -> {}", order.url(), o.status());
        return o;
    }

    // ---- authorizations and challenges (sections 7.5, 8) ----

    public Authorization fetchAuthorization(String authorizationUrl) {
        return readAuthorization(post(authorizationUrl, null), authorizationUrl);
    }

    /** Pre-authorizes an identifier (section 7.4.1), where the CA offers newAuthz. */
    public Authorization newAuthorization(Identifier identifier) {
        String url = client.fetchDirectory().newAuthz();
        if (url == null) {
            throw new AcmeException("the CA at " + client.directoryUrl() + " does not offer pre-authorization (newAuthz)");
        }
        HttpResponse r = post(url, Map.of("identifier", identifier));
        if (r.location() == null) {
            throw new AcmeProtocolException("newAuthz response from " + r.url() + " has no Location header");
        }
        return readAuthorization(r, r.location());
    }

    /** Deactivates an authorization (section 7.5.2), e.g. one no longer wanted. */
    public Authorization deactivateAuthorization(String authorizationUrl) {
        return readAuthorization(post(authorizationUrl, Map.of("status", "deactivated")), authorizationUrl);
    }

    /** Tells the server the challenge is ready to be validated (section 7.5.1); returns the updated challenge. */
    public Challenge respond(Challenge challenge) {
        Challenge c = readChallenge(post(client.transport().checkUrl(challenge.url(), "challenge"), Map.of()));
        LOG.debug("challenge {} {} -> {}", challenge.type(), challenge.url(), c.status());
        return c;
    }

    public Challenge fetchChallenge(String challengeUrl) {
        return readChallenge(post(challengeUrl, null));
    }

    /**
     * The key authorization for a token: {@code token "." thumbprint} (section 8.1). Tokens that
     * are not base64url (path traversal, empty, oversized) are refused.
     */
    public String keyAuthorization(String token) {
        return keyAuthorization(token, thumbprint);
    }

    /** As {@link #keyAuthorization(String)} for a given account thumbprint. */
    public static String keyAuthorization(String token, String thumbprint) {
        if (token == null || !TOKEN.matcher(token).matches()) {
            throw new AcmeProtocolException("challenge token is not base64url (refused): "
                    + (token == null ? "null" : "'" + token.substring(0, Math.min(token.length(), 64)) + "'"));
        }
        return token + "." + thumbprint;
    }

    /** The TXT record value for dns-01: base64url(SHA-256(key authorization)) (section 8.4). */
    public String dns01Digest(String token) {
        return dns01Digest(token, thumbprint);
    }

    public static String dns01Digest(String token, String thumbprint) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(keyAuthorization(token, thumbprint).getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- certificates (sections 7.4.2, 7.6) ----

    /** Downloads the certificate chain at the URL, with the URLs of alternate chains. */
    public CertificateChain downloadCertificate(String certificateUrl) {
        HttpResponse r = client.postSigned(certificateUrl, key, accountUrl, null, PEM_CHAIN);
        client.transport().expect(r, PEM_CHAIN);
        List<String> alternates = r.links("alternate").stream()
                .map(u -> client.transport().checkUrl(u, "alternate chain")).toList();
        return CertificateChain.parse(certificateUrl, r.bodyText(), alternates);
    }

    /**
     * Downloads the chain that leads to the named issuer (by the topmost certificate's issuer CN
     * or DN), trying alternates in order; returns the default chain when none matches.
     */
    public CertificateChain downloadCertificate(String certificateUrl, String preferredIssuer) {
        CertificateChain chain = downloadCertificate(certificateUrl);
        if (preferredIssuer == null || chain.hasIssuer(preferredIssuer)) {
            return chain;
        }
        for (String alternate : chain.alternates()) {
            CertificateChain alt = downloadCertificate(alternate);
            if (alt.hasIssuer(preferredIssuer)) {
                LOG.debug("chose alternate chain {} for issuer '{}'", alternate, preferredIssuer);
                return alt;
            }
        }
        LOG.debug("no chain leads to issuer '{}'; using the default chain to '{}'", preferredIssuer, chain.topIssuer());
        return chain;
    }

    /** Revokes a certificate issued to this account (section 7.6). */
    public void revoke(X509Certificate certificate, RevocationReason reason) {
        post(client.revokeUrl(), AcmeClient.revocationPayload(certificate, reason));
        LOG.debug("revoked certificate {}", certificate.getSerialNumber().toString(16));
    }

    // ---- plumbing ----

    private HttpResponse post(String url, Object payload) {
        return client.postSigned(url, key, accountUrl, payload, JSON);
    }

    private Account readAccount(HttpResponse r) {
        return Json.read(client.transport().expect(r, JSON).body(), Account.class, r.url()).withUrl(accountUrl);
    }

    private Order readOrder(HttpResponse r, String url) {
        Order o = Json.read(client.transport().expect(r, JSON).body(), Order.class, r.url()).located(url, r.retryAfter());
        if (o.finalizeUrl() != null) {
            client.transport().checkUrl(o.finalizeUrl(), "finalize");
        }
        if (o.certificateUrl() != null) {
            client.transport().checkUrl(o.certificateUrl(), "certificate");
        }
        o.authorizations().forEach(a -> client.transport().checkUrl(a, "authorization"));
        return o;
    }

    private Authorization readAuthorization(HttpResponse r, String url) {
        Authorization a = Json.read(client.transport().expect(r, JSON).body(), Authorization.class, r.url())
                .located(url, r.retryAfter());
        a.challenges().forEach(c -> client.transport().checkUrl(c.url(), "challenge"));
        return a;
    }

    private Challenge readChallenge(HttpResponse r) {
        return Json.read(client.transport().expect(r, JSON).body(), Challenge.class, r.url())
                .withRetryAfter(r.retryAfter());
    }

    @Override
    public String toString() {
        return "AccountSession[" + accountUrl + ", thumbprint=" + thumbprint + "]";
    }
}
