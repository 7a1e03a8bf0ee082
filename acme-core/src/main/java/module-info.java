/**
 * Anvil's ACME (RFC 8555) protocol core: directory, nonces, signed requests, accounts,
 * orders, authorizations, challenges and certificates.
 */
module dev.anvil.acme {
    requires transitive okhttp3;
    requires com.fasterxml.jackson.annotation;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.datatype.jsr310;
    requires com.nimbusds.jose.jwt;
    requires org.bouncycastle.provider;
    requires org.bouncycastle.pkix;
    requires org.slf4j;

    exports dev.anvil.acme;
    exports dev.anvil.acme.crypto;
    exports dev.anvil.acme.issuance;
    exports dev.anvil.acme.renewal;
    exports dev.anvil.acme.retry;
    exports dev.anvil.acme.solver;
    exports dev.anvil.acme.store;

    // Jackson binds the protocol records reflectively.
    opens dev.anvil.acme to com.fasterxml.jackson.databind;
    opens dev.anvil.acme.issuance to com.fasterxml.jackson.databind;
    opens dev.anvil.acme.renewal to com.fasterxml.jackson.databind;
}
