/** dns-01 challenge solving for Anvil: DNS providers and a propagation check (RFC 8555 section 8.4). */
module dev.anvil.acme.dns {
    requires transitive dev.anvil.acme;
    requires com.fasterxml.jackson.databind;
    requires org.dnsjava;
    requires org.slf4j;

    exports dev.anvil.acme.dns;
}
