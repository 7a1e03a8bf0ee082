package dev.anvil.acme.dns;

import dev.anvil.acme.retry.DefaultBackoff;
import dev.anvil.acme.solver.ChallengeContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;

/**
 * Child-JVM half of {@link SecretsNeverLeakTest}: runs every operation that touches a
 * credential, successful and failing, with logging at TRACE, and prints each object's
 * {@code toString()} and each error with its full stack trace. Configuration comes from the
 * environment so the secrets are not on the command line.
 */
public final class SecretsProbe {

    private SecretsProbe() {
    }

    public static void main(String[] args) throws Exception {
        String bind = System.getenv("PROBE_BIND");
        String keyName = System.getenv("PROBE_TSIG_NAME");
        String secret = System.getenv("PROBE_TSIG_SECRET");
        String wrongSecret = System.getenv("PROBE_WRONG_TSIG_SECRET");
        String pdnsUrl = System.getenv("PROBE_PDNS_URL");
        String pdnsKey = System.getenv("PROBE_PDNS_KEY");
        String wrongPdnsKey = System.getenv("PROBE_WRONG_PDNS_KEY");
        int bindPort = Integer.parseInt(bind.substring(bind.lastIndexOf(':') + 1));

        Rfc2136Provider.Builder rfcBuilder = Rfc2136Provider.builder(bind).tsigKey(keyName, secret);
        Rfc2136Provider rfc = rfcBuilder.build();
        print("builder", rfcBuilder);
        print("provider", rfc);
        String zone = rfc.findZone("_acme-challenge.probe.anvil.test");
        rfc.addTxt(zone, "_acme-challenge.probe.anvil.test", "probe-value", Duration.ofSeconds(60));
        rfc.removeTxt(zone, "_acme-challenge.probe.anvil.test", "probe-value");

        PropagationChecker checker = PropagationChecker.builder().resolver(bind).authoritativePort(bindPort)
                .interval(Duration.ofMillis(100)).timeout(Duration.ofSeconds(10)).build();
        Dns01Solver solver = Dns01Solver.builder(rfc).propagation(checker)
                .backoff(DefaultBackoff.builder().maxErrorRetries(1).build()).build();
        print("solver", solver);
        ChallengeContext c = Dns01SolverTest.context("probe.anvil.test", true, "probe-token");
        solver.present(c);
        solver.awaitReady(c, Instant.now().plusSeconds(10));
        print("diagnose", solver.diagnose(c, null));
        solver.cleanUp(c);

        Rfc2136Provider wrong = Rfc2136Provider.builder(bind).tsigKey(keyName, wrongSecret).build();
        print("wrong provider", wrong);
        attempt("wrong secret findZone", () -> wrong.findZone("_acme-challenge.probe.anvil.test"));
        attempt("wrong secret addTxt", () -> wrong.addTxt(zone, "_acme-challenge.probe.anvil.test", "v",
                Duration.ofSeconds(60)));
        attempt("wrong secret via solver", () -> Dns01Solver.builder(wrong).propagation(checker).build()
                .present(Dns01SolverTest.context("probe.anvil.test", false, "probe-token-2")));
        attempt("bad base64", () -> Rfc2136Provider.builder(bind).tsigKey(keyName, "%" + secret));

        PowerDnsProvider.Builder pdnsBuilder = PowerDnsProvider.builder(pdnsUrl, pdnsKey);
        PowerDnsProvider pdns = pdnsBuilder.build();
        print("pdns builder", pdnsBuilder);
        print("pdns provider", pdns);
        String pzone = pdns.findZone("_acme-challenge.probe.anvil.test");
        pdns.addTxt(pzone, "_acme-challenge.probe.anvil.test", "probe-value", Duration.ofSeconds(60));
        pdns.removeTxt(pzone, "_acme-challenge.probe.anvil.test", "probe-value");
        PowerDnsProvider wrongPdns = PowerDnsProvider.builder(pdnsUrl, wrongPdnsKey).build();
        attempt("wrong api key", () -> wrongPdns.findZone("_acme-challenge.probe.anvil.test"));
        attempt("wrong api key add", () -> wrongPdns.addTxt("anvil.test", "_acme-challenge.probe.anvil.test", "v",
                Duration.ofSeconds(60)));
        attempt("api key with newline", () -> PowerDnsProvider.builder(pdnsUrl, pdnsKey + "\nx"));
        System.out.println("PROBE DONE");
    }

    private static void print(String what, Object o) {
        System.out.println("PROBE " + what + ": " + o);
    }

    private static void attempt(String what, Runnable r) {
        try {
            r.run();
            System.out.println("PROBE " + what + ": no error");
        } catch (RuntimeException e) {
            StringWriter w = new StringWriter();
            e.printStackTrace(new PrintWriter(w));
            System.out.println("PROBE " + what + ": " + w);
        }
    }
}
