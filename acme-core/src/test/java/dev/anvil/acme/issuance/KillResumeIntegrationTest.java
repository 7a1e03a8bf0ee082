package dev.anvil.acme.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Crash safety of the engine, for real: a child JVM ({@link ResumeChild}) issues against Pebble
 * with a {@link FileStore}, is SIGKILLed when it reaches a state, and this JVM resumes with a new
 * engine on the same store. For every state the resumed run must finish the same order (or, at
 * NEW, create the only one) with the key checkpointed before the kill, without a second account.
 *
 * <p>Design: the child serves http-01 itself on Pebble's VA port; when it dies the kernel frees
 * the port and the parent binds its own responder there for the resumed run. The child parks
 * inside the listener on the target state's event, which the engine emits only after writing the
 * checkpoint (see {@code IssuanceEngine.transition}), so even the tiny PROCESSING and VALID windows
 * are hit deterministically. NEW has no event; the child parks in its store right after the NEW
 * checkpoint is written, before newOrder.
 *
 * <p>Counting orders: Pebble logs {@code POST /order-plz -> calling handler()} before checking the
 * nonce, so with its default 5% badNonce rejection one order can show two such lines (the client
 * retries badNonce). The exact count of orders created comes from Pebble's
 * {@code Added order "<id>" to the db} lines; POST /order-plz and /sign-me-up are asserted absent
 * from the resumed run's request log.
 */
class KillResumeIntegrationTest {

    private static final Pattern ADDED_ORDER = Pattern.compile("Added order \"([^\"]+)\" to the db");
    private static final Pattern NEW_ACCOUNT = Pattern.compile("There are now \\d+ accounts in memory");
    private static final Pattern ISSUED = Pattern.compile("Issued certificate serial ([0-9a-f]+) for order (\\S+)");
    private static final List<IssuanceState> ORDER = List.of(IssuanceState.ORDERED, IssuanceState.AUTHORIZING,
            IssuanceState.READY, IssuanceState.FINALIZING, IssuanceState.PROCESSING, IssuanceState.VALID);

    private static Pebble pebble;
    private static Path caPem;

    @BeforeAll
    static void startPebble(@TempDir Path shared) throws IOException {
        pebble = Pebble.start(); // default 5% badNonce rejection, 50% authz reuse
        caPem = shared.resolve("pebble-tls-ca.pem");
        Files.writeString(caPem, pebble.tls().caPem(), StandardCharsets.US_ASCII);
    }

    @AfterAll
    static void stopPebble() {
        if (pebble != null) {
            pebble.close();
        }
    }

    @ParameterizedTest(name = "SIGKILL at {0}, resume in a new engine")
    @EnumSource(value = IssuanceState.class,
            names = {"NEW", "ORDERED", "AUTHORIZING", "READY", "FINALIZING", "PROCESSING", "VALID"})
    void resumesAfterSigkill(IssuanceState target, @TempDir Path dir) throws Exception {
        String label = target.name().toLowerCase();
        String id = "kill-" + label;
        List<Identifier> identifiers = List.of(Identifier.of(label + ".kill.anvil.test"),
                Identifier.of("www." + label + ".kill.anvil.test"));
        Path storeDir = dir.resolve("store");
        Path childLog = dir.resolve("child.log");
        String logBefore = pebble.log();

        // ---- run 1: the child, killed with SIGKILL at the target state
        List<String> childStates = runChildUntilParkedThenKill(target, id, identifiers, storeDir, childLog);
        List<String> expectedStates = new ArrayList<>();
        if (target == IssuanceState.NEW) {
            expectedStates.add("NEW");
        } else {
            ORDER.subList(0, ORDER.indexOf(target) + 1).forEach(s -> expectedStates.add(s.name()));
        }
        assertThat(childStates).as("states the child went through before the kill").isEqualTo(expectedStates);

        // ---- the checkpoint the kill left behind
        List<IssuanceEvent> events = new CopyOnWriteArrayList<>();
        FileStore store = new FileStore(storeDir);
        IssuanceEngine engine = IssuanceEngine.builder(store).httpClient(pebble.httpClient()).listener(events::add).build();
        Checkpoint before = engine.checkpoint(id).orElseThrow(() -> new AssertionError("no checkpoint after kill"));
        assertThat(before.state()).as("checkpoint written before the event").isEqualTo(target);
        assertThat(before.ca()).isEqualTo("pebble");
        assertThat(before.identifiers()).isEqualTo(identifiers);
        if (target == IssuanceState.NEW) {
            assertThat(before.orderUrl()).isNull();
            assertThat(before.orders()).isZero();
        } else {
            assertThat(before.orderUrl()).isNotNull();
            assertThat(before.orders()).isEqualTo(1);
        }
        assertThat(before.csr() != null).as("CSR checkpointed from FINALIZING on")
                .isEqualTo(ORDER.indexOf(target) >= ORDER.indexOf(IssuanceState.FINALIZING));
        KeyPair keyBefore = Pem.readKeyPair(before.certificateKeyPem());
        String killLog = pebble.log().substring(logBefore.length());
        assertThat(count(ADDED_ORDER, killLog)).as("orders created by the child").isEqualTo(target == IssuanceState.NEW ? 0 : 1);

        // ---- run 2: resume in this JVM with a new engine on the same store
        int requestsBefore = pebble.requestLog().size();
        IssuedCertificate issued;
        try (Http01TestResponder responder = Http01TestResponder.start(pebble.httpPort())) {
            IssuanceRequest request = new IssuanceRequest(id, identifiers,
                    List.of(CertificateAuthority.of("pebble", pebble.directoryUrl())),
                    List.of(new TestSolvers.Http01(responder)), null, null);
            issued = engine.issue(request);
        }
        List<String> resumedRequests = pebble.requestLog().subList(requestsBefore, pebble.requestLog().size());
        String wholeLog = pebble.log().substring(logBefore.length());

        // same key, same order
        assertThat(issued.leaf().getPublicKey()).as("certificate key is the checkpointed one")
                .isEqualTo(keyBefore.getPublic());
        assertThat(issued.keyPair().getPrivate()).isEqualTo(keyBefore.getPrivate());
        assertThat(issued.ca()).isEqualTo("pebble");
        if (target != IssuanceState.NEW) {
            assertThat(issued.orderUrl()).as("the resumed run finished the child's order").isEqualTo(before.orderUrl());
            assertThat(resumedRequests).as("no newOrder after resume").doesNotContain("POST /order-plz");
        } else {
            assertThat(resumedRequests).contains("POST /order-plz");
        }
        List<String> addedOrders = all(ADDED_ORDER, wholeLog, 1);
        assertThat(addedOrders).as("orders created at Pebble over both runs").hasSize(1);
        assertThat(issued.orderUrl()).endsWith("/" + addedOrders.get(0));

        // one account, created by the child only
        assertThat(count(NEW_ACCOUNT, wholeLog)).as("accounts created over both runs").isEqualTo(1);
        assertThat(resumedRequests).as("no newAccount after resume").doesNotContain("POST /sign-me-up");

        // one certificate issued for the order; no second finalize once the CA had accepted one
        List<String> issuedSerials = all(ISSUED, wholeLog, 1);
        assertThat(issuedSerials).hasSize(1);
        assertThat(new java.math.BigInteger(issuedSerials.get(0), 16)).isEqualTo(issued.leaf().getSerialNumber());
        if (target == IssuanceState.PROCESSING || target == IssuanceState.VALID) {
            assertThat(resumedRequests).as("finalize not sent again").doesNotContain("POST /finalize-order/");
        }

        // events: Resumed first, then onward to STORED without re-running finished steps
        assertThat(events).first().isEqualTo(new IssuanceEvent.Resumed(id, "pebble", target, before.orderUrl()));
        List<IssuanceState> resumedStates = events.stream().filter(e -> e instanceof IssuanceEvent.StateChanged)
                .map(e -> ((IssuanceEvent.StateChanged) e).to()).toList();
        // (resuming at VALID stays VALID: no transition, so no event)
        if (target == IssuanceState.VALID) {
            assertThat(resumedStates).containsExactly(IssuanceState.STORED);
        } else {
            assertThat(resumedStates).endsWith(IssuanceState.VALID, IssuanceState.STORED);
        }
        if (target == IssuanceState.NEW) {
            assertThat(resumedStates).containsSubsequence(ORDER);
        } else {
            assertThat(resumedStates).as("no new order state").doesNotContain(IssuanceState.ORDERED);
        }
        if (ORDER.indexOf(target) >= ORDER.indexOf(IssuanceState.READY)) {
            assertThat(resumedStates).as("authorizations not redone").doesNotContain(IssuanceState.AUTHORIZING);
        }
        if (ORDER.indexOf(target) >= ORDER.indexOf(IssuanceState.PROCESSING)) {
            assertThat(resumedStates).doesNotContain(IssuanceState.READY, IssuanceState.FINALIZING);
        }

        // result stored, checkpoint gone
        assertThat(engine.checkpoint(id)).isEmpty();
        String pem = Files.readString(store.path(IssuanceEngine.certificateKey(id)), StandardCharsets.US_ASCII);
        assertThat(Pem.readKeyPair(pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY"))).getPublic())
                .isEqualTo(keyBefore.getPublic());
    }

    /**
     * Starts {@link ResumeChild}, waits until it reports {@code PARKED <target>}, SIGKILLs it and
     * returns the states it reported.
     */
    private static List<String> runChildUntilParkedThenKill(IssuanceState target, String id, List<Identifier> identifiers,
                                                           Path storeDir, Path childLog) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                ResumeChild.class.getName(),
                pebble.directoryUrl(), caPem.toString(), storeDir.toString(), id,
                Integer.toString(pebble.httpPort()), target.name()));
        identifiers.forEach(i -> cmd.add(i.value()));
        Process child = new ProcessBuilder(cmd).redirectError(childLog.toFile()).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the child was killed
            }
            lines.add("EOF");
        }, "resume-child-stdout");
        reader.setDaemon(true);
        reader.start();
        List<String> states = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    fail("child did not park at " + target + " within 40 s; states " + states + "\n" + tail(childLog));
                }
                if (line.startsWith("STATE ")) {
                    states.add(line.substring(6));
                } else if (line.equals("PARKED " + target)) {
                    break;
                } else {
                    fail("child reported '" + line + "' instead of parking at " + target + "; states " + states
                            + "\n" + tail(childLog));
                }
            }
            assertThat(child.isAlive()).isTrue();
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).as("child gone after SIGKILL").isTrue();
            child.getOutputStream().close();
        }
        assertThat(child.exitValue()).as("killed by signal 9 (128 + 9)").isEqualTo(137);
        return states;
    }

    private static int count(Pattern p, String text) {
        Matcher m = p.matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static List<String> all(Pattern p, String text, int group) {
        Matcher m = p.matcher(text);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(group));
        }
        return out;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "--- child stderr (tail) ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
                    lines.size()));
        } catch (IOException e) {
            return "(no child log: " + e + ")";
        }
    }
}
