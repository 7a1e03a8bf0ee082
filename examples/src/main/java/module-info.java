/** Runnable examples of Anvil. */
module dev.anvil.acme.examples {
    requires dev.anvil.acme;
    requires dev.anvil.acme.http01;
    requires dev.anvil.acme.dns;
    requires org.slf4j;
    // SelfRenewingHttpsServer serves with the JDK's HttpsServer.
    requires jdk.httpserver;
    // ...whose main() checks each renewal with the JDK's HTTP client.
    requires java.net.http;
    // The Pebble harness (acme-core's test-jar) is not required here: as an automatic module it would
    // split dev.anvil.acme's packages (it also holds acme-core's tests). It stays on the class path and
    // the compiler lets this module read it (--add-reads ...=ALL-UNNAMED, see examples/pom.xml); the
    // examples and their tests run on the class path.
}
