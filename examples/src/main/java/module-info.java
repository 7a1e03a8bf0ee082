/** Runnable examples of Anvil. */
module dev.anvil.acme.examples {
    requires dev.anvil.acme;
    requires dev.anvil.acme.http01;
    requires dev.anvil.acme.dns;
    requires dev.anvil.acme.testing;
}
