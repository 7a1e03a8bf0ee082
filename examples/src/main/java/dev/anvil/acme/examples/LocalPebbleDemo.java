package dev.anvil.acme.examples;

import dev.anvil.acme.AccountSession;
import dev.anvil.acme.AcmeClient;
import dev.anvil.acme.NewAccount;
import dev.anvil.acme.OrderRequest;
import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestIssuance;
import java.security.cert.X509Certificate;

/**
 * Issues a real certificate from a local Pebble test CA over http-01 and prints each protocol
 * step (Anvil's debug log) and the chain. Run with {@code scripts/demo.sh}.
 */
public final class LocalPebbleDemo {

    private LocalPebbleDemo() {
    }

    public static void main(String[] args) {
        // Show the protocol flow: Anvil logs every request and response at debug, secrets redacted.
        System.setProperty("org.slf4j.simpleLogger.log.dev.anvil", "debug");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        String domain = args.length > 0 ? args[0] : "demo.anvil.test";

        try (Pebble pebble = Pebble.start();
             Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            System.out.println("== Pebble is up at " + pebble.directoryUrl()
                    + " (http-01 answered on 127.0.0.1:" + pebble.httpPort() + ")");

            AcmeClient ca = AcmeClient.builder(pebble.directoryUrl())
                    .httpClient(pebble.httpClient()) // trusts this Pebble's self-signed listener
                    .build();
            AccountSession account = ca.newAccount(KeyPairs.generate(),
                    NewAccount.agreeingToTerms().withContact("admin@anvil.test"));
            System.out.println("== account " + account.accountUrl());

            TestIssuance.Result result = TestIssuance.issue(account, OrderRequest.of(domain),
                    TestIssuance.http01(responder), null, step -> System.out.println("== " + step));

            System.out.println("== certificate chain for " + domain + ":");
            for (X509Certificate c : result.chain().certificates()) {
                System.out.println("   subject " + c.getSubjectX500Principal().getName()
                        + " | issuer " + c.getIssuerX500Principal().getName()
                        + " | serial " + c.getSerialNumber().toString(16)
                        + " | valid until " + c.getNotAfter().toInstant());
            }
            System.out.println(result.chain().pem());
            System.out.println("== certificate key: " + result.certificateKey().getPublic().getAlgorithm()
                    + " (private key kept in memory, never printed)");
            System.out.println("== " + pebble.requestCount() + " HTTP requests reached Pebble's ACME API");
        }
    }
}
