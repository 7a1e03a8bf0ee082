package dev.anvil.acme.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsServer;
import dev.anvil.acme.issuance.CertificateAuthority;
import dev.anvil.acme.issuance.IssuanceEngine;
import dev.anvil.acme.issuance.IssuanceRequest;
import dev.anvil.acme.issuance.IssuedCertificate;
import dev.anvil.acme.renewal.ManagedCertificate;
import dev.anvil.acme.renewal.RenewalEvent;
import dev.anvil.acme.renewal.RenewalListener;
import dev.anvil.acme.renewal.RenewalManager;
import dev.anvil.acme.store.FileStore;
import dev.anvil.acme.testing.Http01TestResponder;
import dev.anvil.acme.testing.Pebble;
import dev.anvil.acme.testing.TestSolvers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * An HTTPS server that gets its certificate from a local Pebble test CA at start, serves
 * {@code hello from <serial>} on {@code /}, and swaps in each renewed certificate while it runs:
 * no restart, no dropped connections.
 *
 * <p>How the pieces fit:
 * <ul>
 *   <li>a {@link RenewalManager} keeps one certificate (for {@value #DNS_NAME} and
 *       {@value #IP_ADDRESS}) valid through an {@link IssuanceEngine} on a {@link FileStore};
 *       every event goes to a {@link LoggingRenewalListener};</li>
 *   <li>the {@link ManagedCertificate}'s callback hands each new chain and key to a
 *       {@link SwappableKeyManager}, which holds them in an {@link AtomicReference};</li>
 *   <li>the JDK {@link HttpsServer}'s {@link SSLContext} asks that key manager for the certificate
 *       on every TLS handshake, so new connections get the new certificate at once, while
 *       connections already open keep the one they were set up with.</li>
 * </ul>
 *
 * <p>Pebble and its resolver send every name to 127.0.0.1, and Pebble validates IP identifiers
 * (RFC 8738) over http-01 too, so clients can connect to {@code https://127.0.0.1:<port>/} and
 * verify the host name properly against the IP address in the certificate.
 *
 * <p>Run {@code main} to watch it: with 60-second certificates it renews about every 40 seconds
 * (two thirds of the lifetime) and prints each new serial, as served to a fresh connection.
 */
public final class SelfRenewingHttpsServer implements AutoCloseable {

    public static final String DNS_NAME = "renewing.anvil.test";
    public static final String IP_ADDRESS = "127.0.0.1";

    /**
     * How to run the server.
     *
     * @param certificateValidity lifetime Pebble gives certificates (short, to see renewals)
     * @param storeDir            the engine's and manager's store; null: a temporary directory,
     *                            deleted on {@link #close()}
     * @param clock               the renewal manager's clock (tests move it forward to make a
     *                            renewal due; the engine keeps real time)
     * @param listener            hears every renewal event
     * @param renewInBackground   run the manager on its own daemon thread; false: the caller drives
     *                            it with {@code renewals().runDueWork()}
     * @param port                HTTPS port on 127.0.0.1; 0: a free one
     */
    public record Settings(Duration certificateValidity, Path storeDir, Clock clock, RenewalListener listener,
                           boolean renewInBackground, int port) {

        public Settings {
            Objects.requireNonNull(certificateValidity, "certificateValidity");
            if (certificateValidity.toSeconds() < 10) {
                throw new IllegalArgumentException("certificateValidity must be at least 10 s");
            }
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(listener, "listener");
        }

        /** 60-second certificates, a temporary store, real time, logged events, renewing in the background. */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(60), null, Clock.systemUTC(), new LoggingRenewalListener(), true, 0);
        }

        public Settings withCertificateValidity(Duration validity) {
            return new Settings(validity, storeDir, clock, listener, renewInBackground, port);
        }

        public Settings withStoreDir(Path dir) {
            return new Settings(certificateValidity, dir, clock, listener, renewInBackground, port);
        }

        public Settings withClock(Clock c) {
            return new Settings(certificateValidity, storeDir, c, listener, renewInBackground, port);
        }

        public Settings withListener(RenewalListener l) {
            return new Settings(certificateValidity, storeDir, clock, l, renewInBackground, port);
        }

        public Settings withRenewInBackground(boolean background) {
            return new Settings(certificateValidity, storeDir, clock, listener, background, port);
        }

        public Settings withPort(int p) {
            return new Settings(certificateValidity, storeDir, clock, listener, renewInBackground, p);
        }
    }

    private final Pebble pebble;
    private final Http01TestResponder responder;
    private final Path storeDir;
    private final boolean ownStoreDir;
    private final SwappableKeyManager keys;
    private final RenewalManager renewals;
    private final String certificateId;
    private final HttpsServer https;
    private final ExecutorService httpThreads;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SelfRenewingHttpsServer(Pebble pebble, Http01TestResponder responder, Path storeDir, boolean ownStoreDir,
                                    SwappableKeyManager keys, RenewalManager renewals, String certificateId,
                                    HttpsServer https, ExecutorService httpThreads) {
        this.pebble = pebble;
        this.responder = responder;
        this.storeDir = storeDir;
        this.ownStoreDir = ownStoreDir;
        this.keys = keys;
        this.renewals = renewals;
        this.certificateId = certificateId;
        this.https = https;
        this.httpThreads = httpThreads;
    }

    /**
     * Starts Pebble, obtains the first certificate (synchronously: the server does not listen
     * without one), starts serving HTTPS with it and, if asked to, the background renewals.
     *
     * @throws IllegalStateException if the first certificate cannot be obtained
     */
    public static SelfRenewingHttpsServer start(Settings settings) {
        Duration validity = settings.certificateValidity();
        Pebble pebble = null;
        Http01TestResponder responder = null;
        RenewalManager renewals = null;
        Path storeDir = settings.storeDir();
        boolean ownStoreDir = storeDir == null;
        ExecutorService httpThreads = null;
        try {
            pebble = Pebble.builder().certificateValidityPeriod(validity).start();
            responder = Http01TestResponder.start(pebble.httpPort());
            if (ownStoreDir) {
                storeDir = Files.createTempDirectory("anvil-renewing-");
            }
            FileStore store = new FileStore(storeDir);
            IssuanceEngine engine = IssuanceEngine.builder(store)
                    .httpClient(pebble.httpClient()) // trusts this Pebble's own TLS listener
                    .build();

            IssuanceRequest request = IssuanceRequest.of(DNS_NAME, IP_ADDRESS)
                    .withCa(CertificateAuthority.of("pebble", pebble.directoryUrl()).withContact("admin@anvil.test"))
                    .withSolver(new TestSolvers.Http01(responder));

            SwappableKeyManager keys = new SwappableKeyManager();
            // What a restart would serve until the next renewal: the stored certificate, if any.
            engine.storedCertificate(request.id()).ifPresent(keys::install);

            renewals = RenewalManager.builder(engine, store)
                    .clock(settings.clock())
                    .listener(settings.listener())
                    // Scaled to the short test lifetimes; production keeps the defaults
                    // (retries 5 min doubling to 6 h; warnings at 14, 7, 3 and 1 days left).
                    .retry(atLeastOneSecond(validity.dividedBy(12)), atLeastOneSecond(validity.dividedBy(4)))
                    .expiryWarnings(List.of(validity.dividedBy(4), validity.dividedBy(10)))
                    .build();
            renewals.manage(ManagedCertificate.of(request, keys::install));

            if (keys.current() == null) {
                renewals.runDueWork(); // the first issuance, here and now
                if (keys.current() == null) {
                    throw new IllegalStateException("could not obtain the first certificate for " + request.id()
                            + "; see the renewal events");
                }
            }

            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(new KeyManager[] {keys}, null, null);
            HttpsServer https = HttpsServer.create(
                    new InetSocketAddress(InetAddress.getByName(IP_ADDRESS), settings.port()), 50);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            https.createContext("/", SelfRenewingHttpsServer::hello);
            AtomicInteger n = new AtomicInteger();
            httpThreads = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "renewing-https-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            https.setExecutor(httpThreads);
            https.start();

            if (settings.renewInBackground()) {
                renewals.start();
            }
            return new SelfRenewingHttpsServer(pebble, responder, storeDir, ownStoreDir, keys, renewals, request.id(),
                    https, httpThreads);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            closeQuietly(renewals);
            if (httpThreads != null) {
                httpThreads.shutdownNow();
            }
            closeQuietly(responder);
            closeQuietly(pebble);
            if (ownStoreDir && storeDir != null) {
                deleteRecursively(storeDir);
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot start the HTTPS server", e);
        }
    }

    /** {@code hello from <serial>}: the serial of the certificate this connection was set up with. */
    private static void hello(HttpExchange exchange) throws IOException {
        String serial = "?";
        if (exchange instanceof HttpsExchange secure) {
            Certificate[] local = secure.getSSLSession().getLocalCertificates();
            if (local != null && local.length > 0) {
                serial = ((X509Certificate) local[0]).getSerialNumber().toString(16);
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            in.readAllBytes();
        }
        byte[] body = ("hello from " + serial + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** The HTTPS port on 127.0.0.1. */
    public int port() {
        return https.getAddress().getPort();
    }

    /** {@code https://127.0.0.1:<port>/}. */
    public URI uri() {
        return URI.create("https://" + IP_ADDRESS + ":" + port() + "/");
    }

    /** The certificate new handshakes get. */
    public X509Certificate currentCertificate() {
        return keys.current().chain()[0];
    }

    /** Its serial, lowercase hex (as in the body and in {@link RenewalEvent.Succeeded#serial()}). */
    public String currentSerial() {
        return currentCertificate().getSerialNumber().toString(16);
    }

    /** The id of the managed certificate (its key in the store). */
    public String certificateId() {
        return certificateId;
    }

    /** The renewal manager (for {@code runDueWork()} and {@code plan(id)}). */
    public RenewalManager renewals() {
        return renewals;
    }

    /** The local CA; clients trust its {@code rootCertificate(0)}. */
    public Pebble pebble() {
        return pebble;
    }

    public Path storeDir() {
        return storeDir;
    }

    /** A client {@link SSLContext} that trusts exactly this Pebble's issuing root. */
    public SSLContext clientSslContext() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("pebble-root", pebble.rootCertificate(0));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a client TLS context", e);
        }
    }

    /** Stops renewing, serving, the responder and Pebble; deletes an own temporary store. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(renewals);
        https.stop(0);
        httpThreads.shutdownNow();
        closeQuietly(responder);
        closeQuietly(pebble);
        if (ownStoreDir) {
            deleteRecursively(storeDir);
        }
    }

    // ------------------------------------------------------------------------------------ main

    /**
     * Runs the server until {@code args[0]} renewals (default 3) have been served, or Ctrl-C.
     * {@code args[1]}: certificate lifetime in seconds (default 60).
     */
    public static void main(String[] args) throws Exception {
        // Show Anvil's INFO lines (the renewal events) even under `mvn -q`, which quiets slf4j-simple.
        if (System.getProperty("org.slf4j.simpleLogger.log.dev.anvil") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.dev.anvil", "info");
        }
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        int wanted = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Duration validity = Duration.ofSeconds(args.length > 1 ? Long.parseLong(args[1]) : 60);

        // Events arrive on the manager's thread; main prints what a new client sees after each renewal.
        BlockingQueue<String> renewed = new LinkedBlockingQueue<>();
        LoggingRenewalListener log = new LoggingRenewalListener();
        RenewalListener listener = event -> {
            log.onEvent(event);
            if (event instanceof RenewalEvent.Succeeded s) {
                renewed.add(s.serial());
            }
        };

        SelfRenewingHttpsServer server = start(Settings.defaults().withCertificateValidity(validity).withListener(listener));
        Thread hook = new Thread(server::close, "renewing-https-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        renewed.take(); // the first issuance, done inside start()
        System.out.println("== serving " + server.uri() + " with serial " + server.currentSerial()
                + ", valid until " + server.currentCertificate().getNotAfter().toInstant());
        System.out.println("== " + server.fetch());
        System.out.println("== waiting for " + wanted + " renewals (" + validity.toSeconds()
                + " s certificates); Ctrl-C stops");
        for (int i = 1; i <= wanted; i++) {
            String serial = renewed.take();
            System.out.println("== renewal " + i + ": serial " + serial + ", no restart: " + server.fetch());
        }
        System.out.println("== " + wanted + " renewals served on port " + server.port() + ", stopping");
        server.close();
        Runtime.getRuntime().removeShutdownHook(hook);
    }

    /** One GET over a fresh connection: what a new client sees now. */
    private String fetch() {
        HttpClient client = HttpClient.newBuilder().sslContext(clientSslContext()).build();
        try {
            String body = client.send(HttpRequest.newBuilder(uri()).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body().strip();
            return "GET " + uri() + " -> " + body;
        } catch (IOException e) {
            return "GET " + uri() + " failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "GET " + uri() + " interrupted";
        }
    }

    // ------------------------------------------------------------------------------ key manager

    /**
     * A server key manager whose one certificate and key can be replaced at any time. Each TLS
     * handshake picks whatever is current; a handshake that picked the previous identity just
     * before a swap still gets its matching chain and key.
     */
    public static final class SwappableKeyManager extends X509ExtendedKeyManager {

        /** One certificate chain (leaf first) and its key, under an alias unique to this installation. */
        public record Identity(String alias, PrivateKey key, X509Certificate[] chain) {
        }

        private final AtomicReference<Identity> current = new AtomicReference<>();
        private final AtomicReference<Identity> previous = new AtomicReference<>();
        private final AtomicInteger installs = new AtomicInteger();

        /** Installs an issued certificate (the {@link ManagedCertificate} callback). */
        public void install(IssuedCertificate issued) {
            install(issued.keyPair().getPrivate(), issued.chain().certificates());
        }

        public void install(PrivateKey key, List<X509Certificate> chain) {
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("empty certificate chain");
            }
            String alias = "anvil-" + installs.incrementAndGet() + "-" + chain.get(0).getSerialNumber().toString(16);
            Identity next = new Identity(alias, Objects.requireNonNull(key, "key"), chain.toArray(new X509Certificate[0]));
            previous.set(current.getAndSet(next));
        }

        /** What new handshakes get; null before the first {@link #install}. */
        public Identity current() {
            return current.get();
        }

        private Identity byAlias(String alias) {
            for (Identity id : new Identity[] {current.get(), previous.get()}) {
                if (id != null && id.alias().equals(alias)) {
                    return id;
                }
            }
            return null;
        }

        /** The current alias if its key fits {@code keyType} ("EC", "RSA", "RSASSA-PSS", TLS 1.2's "EC_RSA"...). */
        private String alias(String keyType) {
            Identity id = current.get();
            if (id == null || keyType == null) {
                return null;
            }
            String algorithm = id.key().getAlgorithm();
            String wanted = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
            boolean fits = wanted.equals(algorithm) || ("RSASSA-PSS".equals(wanted) && "RSA".equals(algorithm));
            return fits ? id.alias() : null;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return alias(keyType);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return alias(keyType);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            String alias = alias(keyType);
            return alias == null ? null : new String[] {alias};
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            Identity id = byAlias(alias);
            return id == null ? null : id.chain().clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            Identity id = byAlias(alias);
            return id == null ? null : id.key();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return null;
        }
    }

    // ---------------------------------------------------------------------------------- helpers

    private static Duration atLeastOneSecond(Duration d) {
        return d.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : d;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort while shutting down
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }
}
