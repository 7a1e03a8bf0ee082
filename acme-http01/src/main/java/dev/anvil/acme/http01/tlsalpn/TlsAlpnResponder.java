package dev.anvil.acme.http01.tlsalpn;

import dev.anvil.acme.Identifier;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the tls-alpn-01 validation certificates of the challenges in flight and answers
 * validation handshakes with them through the JDK's {@link SSLEngine}: the certificate is chosen
 * by the client's SNI, and only when the client offers ALPN {@value TlsAlpn#ACME_TLS_1}
 * (any other handshake fails). {@link TlsAlpnServer} is a standalone listener; an NIO server
 * (Netty, ...) can use {@link #createEngine} directly. Thread-safe.
 *
 * <p>One name can have only one certificate at a time on the wire: when two challenges for the
 * same name are registered at once (two orders at two CAs), the latest is served until it is
 * removed. That is inherent to tls-alpn-01; use http-01 or dns-01 for such overlaps.
 */
public final class TlsAlpnResponder {

    private static final Logger LOG = LoggerFactory.getLogger(TlsAlpnResponder.class);

    private static final int MAX_HANDSHAKE_RECORDS = 1024;

    private final AtomicLong aliases = new AtomicLong();
    /** Per server name, the registrations in order; the last one is served. Replaced, never mutated. */
    private final Map<String, List<Entry>> byName = new ConcurrentHashMap<>();
    private final Map<String, Entry> byAlias = new ConcurrentHashMap<>();
    private final Map<String, Handshake> handshakes = new ConcurrentHashMap<>();
    private final SSLContext context;
    private final TlsAlpnSolver solver;

    record Entry(String alias, String keyAuthorization, ValidationCertificate certificate, int refs) {
    }

    /** The last validation handshake seen for a registered name, for diagnostics. */
    record Handshake(String remote, Instant at, int count) {
    }

    private TlsAlpnResponder() {
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new SniKeyManager(this)}, null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create the tls-alpn-01 SSLContext", e);
        }
        solver = new TlsAlpnSolver(this);
    }

    public static TlsAlpnResponder create() {
        return new TlsAlpnResponder();
    }

    /** The solver that registers challenges here for the issuance engine. */
    public TlsAlpnSolver solver() {
        return solver;
    }

    /**
     * Creates (or reuses) the validation certificate for the identifier and key authorization and
     * serves it until the matching {@link #unregister}. Registrations are counted.
     */
    public synchronized ValidationCertificate register(Identifier identifier, String keyAuthorization) {
        String name = TlsAlpn.serverName(identifier);
        List<Entry> list = new ArrayList<>(byName.getOrDefault(name, List.of()));
        for (int i = 0; i < list.size(); i++) {
            Entry e = list.get(i);
            if (e.keyAuthorization().equals(keyAuthorization)) {
                list.remove(i);
                Entry again = new Entry(e.alias(), keyAuthorization, e.certificate(), e.refs() + 1);
                list.add(again);
                byAlias.put(again.alias(), again);
                byName.put(name, List.copyOf(list));
                return again.certificate();
            }
        }
        handshakes.remove(name); // a new challenge for the name: diagnose counts its handshakes only
        Entry e = new Entry("acme-" + aliases.incrementAndGet(), keyAuthorization,
                ValidationCertificate.create(identifier, keyAuthorization), 1);
        list.add(e);
        byAlias.put(e.alias(), e);
        byName.put(name, List.copyOf(list));
        LOG.debug("tls-alpn-01: serving {} for SNI {}", e.certificate(), name);
        return e.certificate();
    }

    /** Undoes one {@link #register}; unknown registrations are ignored. */
    public synchronized void unregister(Identifier identifier, String keyAuthorization) {
        String name = TlsAlpn.serverName(identifier);
        List<Entry> list = new ArrayList<>(byName.getOrDefault(name, List.of()));
        for (int i = 0; i < list.size(); i++) {
            Entry e = list.get(i);
            if (e.keyAuthorization().equals(keyAuthorization)) {
                if (e.refs() > 1) {
                    Entry less = new Entry(e.alias(), keyAuthorization, e.certificate(), e.refs() - 1);
                    list.set(i, less);
                    byAlias.put(less.alias(), less);
                } else {
                    list.remove(i);
                    byAlias.remove(e.alias());
                }
                break;
            }
        }
        if (list.isEmpty()) {
            byName.remove(name); // the handshake record stays (bounded by recordHandshake) for a late diagnosis
        } else {
            byName.put(name, List.copyOf(list));
        }
    }

    /** The certificate served now for a server name (SNI), if any. */
    public Optional<ValidationCertificate> certificate(String serverName) {
        return current(serverName).map(Entry::certificate);
    }

    Optional<Entry> current(String serverName) {
        if (serverName == null) {
            return Optional.empty();
        }
        List<Entry> list = byName.get(serverName.toLowerCase(java.util.Locale.ROOT));
        return list == null || list.isEmpty() ? Optional.empty() : Optional.of(list.get(list.size() - 1));
    }

    Optional<Entry> byAlias(String alias) {
        return alias == null ? Optional.empty() : Optional.ofNullable(byAlias.get(alias));
    }

    void recordHandshake(String serverName, String remote) {
        if (handshakes.size() >= MAX_HANDSHAKE_RECORDS && !handshakes.containsKey(serverName)) {
            handshakes.clear(); // only registered names get here; a crude bound is enough for diagnostics
        }
        handshakes.compute(serverName, (k, h) -> new Handshake(remote, Instant.now(), h == null ? 1 : h.count() + 1));
        LOG.info("tls-alpn-01: presenting the validation certificate for {} to {}", serverName,
                remote == null ? "?" : remote);
    }

    Optional<Handshake> lastHandshake(String serverName) {
        return Optional.ofNullable(handshakes.get(serverName));
    }

    /** The SSLContext whose key manager picks validation certificates by SNI (only after ALPN acme-tls/1). */
    public SSLContext sslContext() {
        return context;
    }

    /** A server-mode engine that negotiates only {@value TlsAlpn#ACME_TLS_1}. */
    public SSLEngine createEngine() {
        return configure(context.createSSLEngine());
    }

    /** As {@link #createEngine()}, naming the peer (recorded for diagnostics). */
    public SSLEngine createEngine(String peerHost, int peerPort) {
        return configure(context.createSSLEngine(peerHost, peerPort));
    }

    private static SSLEngine configure(SSLEngine engine) {
        engine.setUseClientMode(false);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"}); // RFC 8737 section 4: TLS 1.2 or later
        p.setApplicationProtocols(new String[] {TlsAlpn.ACME_TLS_1});
        p.setNeedClientAuth(false);
        engine.setSSLParameters(p);
        // A client that does not offer acme-tls/1 gets no_application_protocol instead of a certificate.
        engine.setHandshakeApplicationProtocolSelector((e, offered) ->
                offered != null && offered.contains(TlsAlpn.ACME_TLS_1) ? TlsAlpn.ACME_TLS_1 : null);
        return engine;
    }

    @Override
    public String toString() {
        return "TlsAlpnResponder[" + byName.keySet() + "]";
    }
}
