package dev.anvil.acme.issuance;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.store.Store;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.TestSolvers;
import dev.anvil.acme.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * The victim JVM of {@link KillResumeIntegrationTest}: runs one issuance with a {@link FileStore}
 * against the parent's Pebble and parks (sleeps forever) when it reaches the target state, so the
 * parent can SIGKILL it there.
 *
 * <p>Arguments: {@code <directoryUrl> <tlsCaPemFile> <storeDir> <issuanceId> <http01Port>
 * <targetState> <identifier>...}.
 *
 * <p>Protocol on stdout, one line each, flushed: {@code STATE <X>} on every
 * {@link IssuanceEvent.StateChanged}; {@code PARKED <X>} just before parking; {@code DONE} if the
 * issuance completed without reaching the target (a test failure); {@code ERROR <text>} on an
 * exception. Logging goes to stderr.
 *
 * <p>The http-01 responder is served by this JVM on Pebble's VA port; the kernel frees the port
 * when the process dies, and the parent binds its own responder there for the resumed run.
 *
 * <p>Target {@code NEW} emits no event (NEW is the initial state): the child then parks in the
 * store, right after the engine has durably written the checkpoint with state NEW and no order,
 * i.e. with the certificate key and account in place but before newOrder.
 *
 * <p>Safety nets against orphans: the child exits when its stdin reaches EOF (the parent closed
 * it or died) and after {@link #MAX_LIFETIME} at the latest.
 */
public final class ResumeChild {

    static final Duration MAX_LIFETIME = Duration.ofSeconds(120);

    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
            true, StandardCharsets.UTF_8);

    private ResumeChild() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: ResumeChild <directoryUrl> <tlsCaPemFile> <storeDir> <issuanceId> <http01Port>"
                    + " <targetState> <identifier>...");
            System.exit(64);
        }
        startWatchdogs();
        String directoryUrl = args[0];
        Path caPem = Path.of(args[1]);
        Path storeDir = Path.of(args[2]);
        String id = args[3];
        int httpPort = Integer.parseInt(args[4]);
        IssuanceState target = IssuanceState.valueOf(args[5]);
        List<Identifier> identifiers = Arrays.stream(args, 6, args.length).map(Identifier::of).toList();

        X509TrustManager tm = TestTls.trustManagerFor(
                TestTls.parseCertificates(Files.readString(caPem, StandardCharsets.US_ASCII)));
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {tm}, null);
        OkHttpClient http = new OkHttpClient.Builder().sslSocketFactory(ssl.getSocketFactory(), tm)
                .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(30))
                .callTimeout(Duration.ofSeconds(60)).followRedirects(false).build();

        FileStore files = new FileStore(storeDir);
        Store store = target == IssuanceState.NEW ? new ParkAtNewStore(files, id) : files;

        try (Http01TestResponder responder = Http01TestResponder.start(httpPort)) {
            IssuanceEngine engine = IssuanceEngine.builder(store).httpClient(http).listener(event -> {
                if (event instanceof IssuanceEvent.StateChanged sc) {
                    OUT.println("STATE " + sc.to());
                    if (sc.to() == target) {
                        park(target);
                    }
                }
            }).build();
            IssuanceRequest request = new IssuanceRequest(id, identifiers, List.of(CertificateAuthority.of("pebble",
                    directoryUrl)), List.of(new TestSolvers.Http01(responder)), null, null);
            engine.issue(request);
            OUT.println("DONE");
        } catch (Throwable t) {
            OUT.println("ERROR " + t.toString().replace('\n', ' '));
            t.printStackTrace();
            System.exit(2);
        }
        System.exit(0);
    }

    /** Announces the park, then blocks this (the issuing) thread until the process is killed. */
    static void park(IssuanceState state) {
        OUT.println("PARKED " + state);
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // only SIGKILL ends a parked child
            }
        }
    }

    private static void startWatchdogs() {
        Thread stdin = new Thread(() -> {
            try {
                InputStream in = System.in;
                while (in.read() >= 0) {
                    // the parent sends nothing; EOF means it closed the pipe or died
                }
            } catch (IOException ignored) {
                // treat like EOF
            }
            System.err.println("ResumeChild: stdin closed, exiting");
            Runtime.getRuntime().halt(3);
        }, "resume-child-stdin-watchdog");
        stdin.setDaemon(true);
        stdin.start();
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(MAX_LIFETIME.toMillis());
            } catch (InterruptedException ignored) {
                // exit anyway
            }
            System.err.println("ResumeChild: lifetime of " + MAX_LIFETIME + " exceeded, exiting");
            Runtime.getRuntime().halt(4);
        }, "resume-child-lifetime-watchdog");
        timer.setDaemon(true);
        timer.start();
    }

    /**
     * Delegates to a {@link FileStore} and parks right after the engine has written the issuance's
     * checkpoint in state NEW without an order: the last durable step before newOrder.
     */
    private static final class ParkAtNewStore implements Store {
        private final Store delegate;
        private final String checkpointKey;

        ParkAtNewStore(Store delegate, String issuanceId) {
            this.delegate = delegate;
            this.checkpointKey = IssuanceEngine.checkpointKey(issuanceId);
        }

        @Override
        public Optional<byte[]> read(String key) {
            return delegate.read(key);
        }

        @Override
        public void write(String key, byte[] value) {
            delegate.write(key, value);
            if (key.equals(checkpointKey)) {
                Checkpoint cp = Json.read(value, Checkpoint.class, key);
                if (cp.state() == IssuanceState.NEW && cp.orderUrl() == null) {
                    OUT.println("STATE " + IssuanceState.NEW);
                    park(IssuanceState.NEW);
                }
            }
        }

        @Override
        public void delete(String key) {
            delegate.delete(key);
        }
    }
}
