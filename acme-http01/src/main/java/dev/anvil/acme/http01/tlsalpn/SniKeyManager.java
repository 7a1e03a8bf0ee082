package dev.anvil.acme.http01.tlsalpn;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the validation certificate by the handshake's SNI, and only when ALPN negotiated
 * {@value TlsAlpn#ACME_TLS_1}: without a certificate the handshake fails, which is the right
 * answer to anyone who is not validating a challenge.
 */
final class SniKeyManager extends X509ExtendedKeyManager {

    private static final Logger LOG = LoggerFactory.getLogger(SniKeyManager.class);

    private final TlsAlpnResponder responder;

    SniKeyManager(TlsAlpnResponder responder) {
        this.responder = responder;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (engine == null) {
            return null;
        }
        return choose(keyType, engine.getHandshakeApplicationProtocol(), engine.getHandshakeSession(),
                engine.getPeerHost());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        if (!(socket instanceof SSLSocket s)) {
            return null;
        }
        return choose(keyType, s.getHandshakeApplicationProtocol(), s.getHandshakeSession(),
                s.getInetAddress() == null ? null : s.getInetAddress().getHostAddress());
    }

    private String choose(String keyType, String alpn, SSLSession session, String peer) {
        String name = serverName(session);
        // TLS 1.3 settles ALPN before the certificate is chosen, so anything but acme-tls/1 is refused here.
        // TLS 1.2 chooses the certificate first: there the protocol selector refuses clients that offer
        // other protocols (no_application_protocol, before the certificate is sent); a TLS 1.2 client that
        // sends no ALPN at all cannot be told apart at this point (harmless: the certificate holds no secret).
        boolean tls12 = session != null && "TLSv1.2".equals(session.getProtocol());
        if (!TlsAlpn.ACME_TLS_1.equals(alpn) && !(tls12 && (alpn == null || alpn.isEmpty()))) {
            LOG.debug("tls-alpn-01: handshake from {} for SNI {} without ALPN {}; refused", peer, name, TlsAlpn.ACME_TLS_1);
            return null;
        }
        if (name == null) {
            LOG.debug("tls-alpn-01: handshake from {} without SNI; refused", peer);
            return null;
        }
        var entry = responder.current(name);
        if (entry.isEmpty()) {
            LOG.debug("tls-alpn-01: no challenge for SNI {} (from {})", name, peer);
            return null;
        }
        if (!entry.get().certificate().privateKey().getAlgorithm().equals(keyType)) {
            return null; // asked for another key type (RSA); JSSE asks again for EC
        }
        responder.recordHandshake(name, peer);
        return entry.get().alias();
    }

    private static String serverName(SSLSession session) {
        if (session instanceof ExtendedSSLSession ext) {
            List<SNIServerName> names = ext.getRequestedServerNames();
            for (SNIServerName n : names) {
                if (n.getType() == StandardConstants.SNI_HOST_NAME) {
                    return ((SNIHostName) n).getAsciiName().toLowerCase(Locale.ROOT);
                }
            }
        }
        return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return responder.byAlias(alias).map(e -> new X509Certificate[] {e.certificate().certificate()}).orElse(null);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return responder.byAlias(alias).map(e -> e.certificate().privateKey()).orElse(null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null; // chosen per handshake, never enumerated
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
