/** http-01 and tls-alpn-01 challenge responders for Anvil (RFC 8555 section 8.3, RFC 8737). */
module dev.anvil.acme.http01 {
    requires transitive dev.anvil.acme;
    requires org.slf4j;
    // Http01Handler implements com.sun.net.httpserver.HttpHandler, so users of it read the module too.
    requires transitive jdk.httpserver;
    // Only Http01Filter needs it, and only where a servlet container provides it.
    requires static jakarta.servlet;
    // The tls-alpn-01 validation certificate.
    requires org.bouncycastle.provider;
    requires org.bouncycastle.pkix;
    // ThumbprintSource.fromStore reads the engine's stored account records.
    requires com.fasterxml.jackson.databind;

    exports dev.anvil.acme.http01;
    exports dev.anvil.acme.http01.tlsalpn;
}
