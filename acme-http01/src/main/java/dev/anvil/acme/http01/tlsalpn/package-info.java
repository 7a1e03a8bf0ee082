/**
 * tls-alpn-01 (RFC 8737): the validation certificate
 * ({@link dev.anvil.acme.http01.tlsalpn.ValidationCertificate}), a responder that serves it by SNI
 * through the JDK's {@code SSLEngine} only for ALPN {@code acme-tls/1}
 * ({@link dev.anvil.acme.http01.tlsalpn.TlsAlpnResponder}), a standalone listener
 * ({@link dev.anvil.acme.http01.tlsalpn.TlsAlpnServer}) and the engine's solver
 * ({@link dev.anvil.acme.http01.tlsalpn.TlsAlpnSolver}).
 */
package dev.anvil.acme.http01.tlsalpn;
