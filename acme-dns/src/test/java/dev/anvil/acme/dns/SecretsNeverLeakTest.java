package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.dns.testing.Bind9;
import dev.anvil.acme.dns.testing.PowerDns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TSIG secret and the PowerDNS API key never appear in logs (at TRACE, dnsjava's included),
 * {@code toString()} or error messages and stack traces. slf4j-simple reads its level once, at
 * the first logger, so the operations run in a child JVM started with TRACE ({@link SecretsProbe}).
 */
class SecretsNeverLeakTest {

    @TempDir
    Path tmp;

    @Test
    void noCredentialAppearsInTraceLogsToStringsOrErrors() throws Exception {
        String wrongSecret = randomSecret();
        String wrongKey = "wrong-api-key-" + ThreadLocalRandom.current().nextLong(1L << 40, Long.MAX_VALUE);
        try (Bind9 bind = Bind9.start(); PowerDns pdns = PowerDns.start()) {
            pdns.createZone("anvil.test");
            Path out = tmp.resolve("child.log");
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classpath,
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    SecretsProbe.class.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("PROBE_BIND", bind.address());
            pb.environment().put("PROBE_TSIG_NAME", bind.key().name());
            pb.environment().put("PROBE_TSIG_SECRET", bind.key().secret());
            pb.environment().put("PROBE_WRONG_TSIG_SECRET", wrongSecret);
            pb.environment().put("PROBE_PDNS_URL", pdns.apiUrl());
            pb.environment().put("PROBE_PDNS_KEY", pdns.apiKey());
            pb.environment().put("PROBE_WRONG_PDNS_KEY", wrongKey);
            Process p = pb.start();
            boolean done = p.waitFor(60, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String log = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(done).as("child finished; output:\n" + log).isTrue();
            assertThat(p.exitValue()).as("child exit; output:\n" + log).isZero();

            // The probe really ran every path, and logging really was at TRACE.
            assertThat(log).contains("PROBE DONE")
                    .contains("PROBE wrong secret findZone: dev.anvil.acme.dns.DnsProviderException: "
                            + Rfc2136Provider.KEY_REJECTED)
                    .contains("PROBE wrong secret via solver: dev.anvil.acme.dns.DnsProviderException")
                    .contains("PROBE wrong api key: dev.anvil.acme.dns.DnsProviderException: PowerDNS rejected the API key")
                    .contains("PROBE api key with newline: java.lang.IllegalArgumentException")
                    .contains("PROBE bad base64: java.lang.IllegalArgumentException")
                    .contains("[main] TRACE org.xbill.DNS")
                    .contains("DEBUG dev.anvil.acme.dns.PowerDnsProvider")
                    .contains("PropagationChecker");

            for (String secret : List.of(bind.key().secret(), wrongSecret, pdns.apiKey(), wrongKey)) {
                for (String form : forms(secret)) {
                    assertThat(log).as("child output must not contain a credential (" + secret.length() + " chars)")
                            .doesNotContain(form);
                }
            }
        }
    }

    /** The credential as configured, and for base64 secrets also the raw bytes as hex and base64url. */
    private static List<String> forms(String secret) {
        try {
            byte[] raw = Base64.getDecoder().decode(secret);
            if (raw.length >= 16) {
                return List.of(secret, HexFormat.of().formatHex(raw), HexFormat.of().formatHex(raw).toUpperCase(Locale.ROOT),
                        Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
            }
        } catch (IllegalArgumentException notBase64) {
            // an API key
        }
        return List.of(secret);
    }

    private static String randomSecret() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }
}
