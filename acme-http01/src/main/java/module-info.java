/** http-01 and tls-alpn-01 challenge responders for Anvil (RFC 8555 section 8.3, RFC 8737). */
module dev.anvil.acme.http01 {
    requires transitive dev.anvil.acme;
    requires org.slf4j;

    exports dev.anvil.acme.http01;
}
