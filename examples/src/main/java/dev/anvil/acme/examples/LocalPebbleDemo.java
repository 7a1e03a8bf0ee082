package dev.anvil.acme.examples;

import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;

/**
 * Issues a real certificate from a local Pebble test CA over http-01 with the issuance engine,
 * printing each protocol step (Anvil's debug log), each engine event and the chain. Run with
 * {@code scripts/demo.sh [domain] [store directory]}.
 */
public final class LocalPebbleDemo {

    private LocalPebbleDemo() {
    }

    public static void main(String[] args) throws IOException {
        // Show the protocol flow: Anvil logs every request and response at debug, secrets redacted.
        System.setProperty("org.slf4j.simpleLogger.log.dev.anvil", "debug");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        String domain = args.length > 0 ? args[0] : "demo.anvil.test";
        Path storeDir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("anvil-demo-");

        try (Pebble pebble = Pebble.start();
             Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            System.out.println("== Pebble is up at " + pebble.directoryUrl()
                    + " (http-01 answered on 127.0.0.1:" + pebble.httpPort() + "); store " + storeDir);

            IssuanceEngine engine = IssuanceEngine.builder(new FileStore(storeDir))
                    .httpClient(pebble.httpClient()) // trusts this Pebble's self-signed listener
                    .listener(event -> System.out.println("== " + event))
                    .build();
            IssuedCertificate cert = engine.issue(IssuanceRequest.of(domain)
                    .withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()).withContact("admin@anvil.test"))
                    .withSolver(new TestSolvers.Http01(responder)));

            System.out.println("== certificate chain for " + domain + ":");
            for (X509Certificate c : cert.chain().certificates()) {
                System.out.println("   subject " + c.getSubjectX500Principal().getName()
                        + " | issuer " + c.getIssuerX500Principal().getName()
                        + " | serial " + c.getSerialNumber().toString(16)
                        + " | valid until " + c.getNotAfter().toInstant());
            }
            System.out.println(cert.chain().pem());
            System.out.println("== chain and key stored atomically at "
                    + storeDir.resolve(IssuanceEngine.certificateKey(cert.issuanceId())) + " (owner-only)");
            System.out.println("== " + pebble.requestCount() + " HTTP requests reached Pebble's ACME API");
        }
    }
}
