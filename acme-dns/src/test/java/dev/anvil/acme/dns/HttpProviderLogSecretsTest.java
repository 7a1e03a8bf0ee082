package dev.anvil.acme.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.dns.FakeCloudflare.Failure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs both providers through their success and error paths in a child JVM whose slf4j-simple
 * logs everything at TRACE (slf4j-simple reads its configuration once per JVM, so the test JVM
 * cannot be switched), and checks the captured log and the printed messages for the credentials.
 */
class HttpProviderLogSecretsTest {

    static final String DME_KEY = "5e2b7c1a-0d9f-4a63-8b1e-7f00aa11bb22";
    static final String DME_SECRET = "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a";
    static final String CF_TOKEN = "Zx9-cfTokenValue000000000000000000000Qq";
    static final String CF_READ = "cfReadOnlyToken11111111111111111111111R";

    @TempDir
    Path dir;

    @Test
    void credentialsAppearNowhereInTraceLogsOrMessages() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(java, "-cp", cp,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace",
                Child.class.getName())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean done = p.waitFor(25, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(done).as("child finished; stderr:\n%s", stderr).isTrue();
        assertThat(p.exitValue()).as("child exit; stdout:\n%s\nstderr:\n%s", stdout, stderr).isZero();

        // the capture really holds the providers' TRACE/DEBUG output from every path
        assertThat(stderr).contains("DEBUG dev.anvil.acme.dns.DnsMadeEasyProvider - DNS Made Easy GET /dns/managed/name")
                .contains("DEBUG dev.anvil.acme.dns.DnsMadeEasyProvider - DNS Made Easy POST /dns/managed/")
                .contains("re-signing once")
                .contains("requests left in the window; waiting")
                .contains("DEBUG dev.anvil.acme.dns.CloudflareProvider - Cloudflare POST /zones/")
                .contains("INFO dev.anvil.acme.dns.CloudflareProvider - Cloudflare: removed 1 TXT record");
        assertThat(stdout).contains("DONE");
        List<String> messages = stdout.lines().filter(l -> l.startsWith("ERROR: ")).toList();
        assertThat(messages).hasSize(Child.EXPECTED_ERRORS);
        assertThat(messages).noneMatch(m -> m.contains("(no error)"))
                .anyMatch(m -> m.contains("wrong API key or secret"))
                .anyMatch(m -> m.contains("clock skew: local clock differs"))
                .anyMatch(m -> m.contains("rate limit exhausted"))
                .anyMatch(m -> m.contains("API token rejected"));

        for (String secret : List.of(DME_KEY, DME_SECRET, CF_TOKEN, CF_READ)) {
            assertThat(stderr).doesNotContain(secret);
            assertThat(stdout).doesNotContain(secret);
        }
    }

    /** The child JVM: every path of both providers, printing messages and toString on stdout. */
    public static final class Child {
        static final int EXPECTED_ERRORS = 10;

        public static void main(String[] args) {
            List<String> errors = new ArrayList<>();
            try (FakeDnsMadeEasy dme = new FakeDnsMadeEasy(DME_KEY, DME_SECRET);
                    FakeCloudflare cf = new FakeCloudflare(CF_TOKEN, CF_READ)) {
                dme.addZone("example.com");
                dme.echoKeyInErrors = true;
                String name = "_acme-challenge.www.example.com";

                // DNS Made Easy: skewed clock (re-sign), success, wrong secret, persistent skew, 5xx, no zone, rate limit
                DnsMadeEasyProvider p = DnsMadeEasyProvider.builder(DME_KEY + " ", DME_SECRET)
                        .baseUrl(dme.baseUrl()).clock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-90)))
                        .sleeper(d -> { }).build();
                System.out.println("toString: " + p);
                String zone = p.findZone(name);
                p.addTxt(zone, name, "value-1", Duration.ofSeconds(60));
                p.removeTxt(zone, name, "value-1");
                run(errors, () -> DnsMadeEasyProvider.builder(DME_KEY, "x" + DME_SECRET).baseUrl(dme.baseUrl())
                        .build().findZone(name));
                dme.dateHeaderError = Duration.ofSeconds(300);
                run(errors, () -> p.addTxt(zone, name, "value-2", null));
                dme.dateHeaderError = Duration.ZERO;
                dme.failNext(500);
                run(errors, () -> p.addTxt(zone, name, "value-2", null));
                run(errors, () -> p.findZone("_acme-challenge.nothere.org"));
                dme.consume(dme.remaining() - 5);
                p.addTxt(zone, name, "value-3", null); // paced
                dme.consume(1000);
                run(errors, () -> p.removeTxt(zone, name, "value-3"));

                // Cloudflare: success, invalid token, read-only token, 429, 5xx, success=false
                cf.addZone("example.com");
                cf.echoToken = true;
                CloudflareProvider c = CloudflareProvider.builder(CF_TOKEN).baseUrl(cf.baseUrl()).build();
                System.out.println("toString: " + c);
                String cz = c.findZone(name);
                c.addTxt(cz, name, "cf-1", null);
                c.removeTxt(cz, name, "cf-1");
                run(errors, () -> CloudflareProvider.builder("bad" + CF_TOKEN).baseUrl(cf.baseUrl()).build()
                        .findZone(name));
                run(errors, () -> CloudflareProvider.builder(CF_READ).baseUrl(cf.baseUrl()).build()
                        .addTxt(cz, name, "cf-2", null));
                cf.failNext(new Failure(null, 429, "2", 971, "Please wait"));
                run(errors, () -> c.findZone("_acme-challenge.x.example.com"));
                cf.failNext(new Failure(null, 503, null, 0, null, "<html>oops " + CF_TOKEN + "</html>"));
                run(errors, () -> c.addTxt(cz, name, "cf-3", null));
                cf.failNext(new Failure("POST", 400, null, 1004, "DNS Validation Error"));
                run(errors, () -> c.addTxt(cz, name, "cf-4", null));
            }
            errors.forEach(m -> System.out.println("ERROR: " + m));
            System.out.println(errors.size() == EXPECTED_ERRORS ? "DONE" : "WRONG COUNT " + errors.size());
            System.exit(0);
        }

        private static void run(List<String> errors, Runnable r) {
            try {
                r.run();
                errors.add("(no error)");
            } catch (DnsProviderException e) {
                errors.add(e.getMessage() + " | " + e);
            }
        }
    }
}
