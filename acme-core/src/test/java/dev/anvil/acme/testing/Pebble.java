package dev.anvil.acme.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Pebble 2.4 ACME test CA (Debian package {@code pebble}, {@code /usr/bin/pebble}) for
 * integration tests, started in its own temporary directory on free loopback ports.
 *
 * <p>Per instance the harness generates a fresh TLS CA and listener certificate for
 * {@code 127.0.0.1}/{@code localhost} (see {@link TestTls}), writes Pebble's JSON config,
 * starts a {@link ChallTestSrv} as Pebble's DNS resolver (unless {@link Builder#dnsServer} is
 * given), starts {@code pebble -config <file> -dnsserver <addr>} with stdout+stderr going to
 * {@link #logFile()}, and waits until both the ACME and the management listener answer.
 *
 * <pre>{@code
 * try (Pebble pebble = Pebble.start();
 *      Http01TestResponder http01 = Http01TestResponder.start(pebble.httpPort())) {
 *     OkHttpClient http = pebble.httpClient();    // trusts Pebble's listener
 *     String dir = pebble.directoryUrl();          // https://127.0.0.1:<port>/dir
 *     ...
 * }
 * }</pre>
 *
 * <p>Defaults: {@code PEBBLE_VA_NOSLEEP=1}; everything else is Pebble's default (notably 5 %
 * of good nonces rejected as badNonce and 50 % authorization reuse). {@code PEBBLE_*}
 * variables inherited from the JVM's environment are removed so runs are reproducible.
 *
 * <p>Set the system property {@code anvil.pebble.keepFiles=true} to keep the temporary
 * directories (config, certificates, logs) after {@link #close()} for debugging.
 *
 * <p>Thread-safe. Processes are killed on {@link #close()} and, as a safety net, by a JVM
 * shutdown hook.
 */
public final class Pebble implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pebble.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The exact message thrown when the binaries are missing. */
    static final String NOT_INSTALLED = "pebble is not installed: run `apt-get update && apt-get install -y pebble`"
            + " (Debian package pebble provides pebble and pebble-challtestsrv)";

    /** Pebble logs {@code <METHOD> <path> -> calling handler()} for each request reaching an ACME handler. */
    private static final Pattern HANDLER_LINE = Pattern.compile("([A-Z]+) (\\S+) -> calling handler\\(\\)\\s*$");

    private static final int MAX_ATTEMPTS = 3;

    private final Process process;
    private final Path dir;
    private final Path logFile;
    private final Path configFile;
    private final TestTls tls;
    private final int listenPort;
    private final int managementPort;
    private final int httpPort;
    private final int tlsPort;
    private final ChallTestSrv challTestSrv; // owned; null when an external DNS server is used
    private final String dnsServer;
    private final Map<String, String> env;
    private final Map<String, String> eabKeys;
    private final OkHttpClient httpClient;
    private final AtomicBoolean closed = new AtomicBoolean();

    // request-log parsing state, guarded by "this"
    private long logOffset;
    private final StringBuilder partialLine = new StringBuilder();
    private final List<String> handlerLines = new ArrayList<>();
    private int baseline;

    private Pebble(Process process, Path dir, Path logFile, Path configFile, TestTls tls, int listenPort,
            int managementPort, int httpPort, int tlsPort, ChallTestSrv challTestSrv, String dnsServer,
            Map<String, String> env, Map<String, String> eabKeys) {
        this.process = process;
        this.dir = dir;
        this.logFile = logFile;
        this.configFile = configFile;
        this.tls = tls;
        this.listenPort = listenPort;
        this.managementPort = managementPort;
        this.httpPort = httpPort;
        this.tlsPort = tlsPort;
        this.challTestSrv = challTestSrv;
        this.dnsServer = dnsServer;
        this.env = env;
        this.eabKeys = eabKeys;
        this.httpClient = tls.httpClientBuilder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts Pebble with the defaults (see {@link Builder}). */
    public static Pebble start() {
        return builder().start();
    }

    // =================================================================== Builder

    /**
     * Options for {@link Pebble}. Every setter returns a <em>new</em> builder and leaves the
     * receiver unchanged, so a base builder can be shared between tests.
     */
    public static final class Builder {
        private final Map<String, String> env;
        private final Map<String, String> eabKeys; // null: EAB not required
        private final int httpPort;
        private final int tlsPort;
        private final String dnsServer;
        private final Long validitySeconds;
        private final List<String> domainBlocklist;
        private final boolean strict;
        private final Duration startupTimeout;

        private Builder() {
            Map<String, String> defaults = new LinkedHashMap<>();
            defaults.put("PEBBLE_VA_NOSLEEP", "1");
            this.env = Collections.unmodifiableMap(defaults);
            this.eabKeys = null;
            this.httpPort = 0;
            this.tlsPort = 0;
            this.dnsServer = null;
            this.validitySeconds = null;
            this.domainBlocklist = List.of();
            this.strict = false;
            this.startupTimeout = Duration.ofSeconds(20);
        }

        private Builder(Map<String, String> env, Map<String, String> eabKeys, int httpPort, int tlsPort,
                String dnsServer, Long validitySeconds, List<String> domainBlocklist, boolean strict,
                Duration startupTimeout) {
            this.env = env;
            this.eabKeys = eabKeys;
            this.httpPort = httpPort;
            this.tlsPort = tlsPort;
            this.dnsServer = dnsServer;
            this.validitySeconds = validitySeconds;
            this.domainBlocklist = domainBlocklist;
            this.strict = strict;
            this.startupTimeout = startupTimeout;
        }

        /**
         * Requires external account binding ({@code externalAccountBindingRequired: true}) and
         * accepts the given key ids with their base64url (unpadded) HMAC keys
         * ({@code externalAccountMACKeys}).
         */
        public Builder eabRequired(Map<String, String> kidToBase64UrlMacKey) {
            Objects.requireNonNull(kidToBase64UrlMacKey, "kidToBase64UrlMacKey");
            Map<String, String> copy = new LinkedHashMap<>();
            kidToBase64UrlMacKey.forEach((kid, key) -> {
                Objects.requireNonNull(kid, "kid");
                Objects.requireNonNull(key, "key");
                if (!key.matches("[A-Za-z0-9_-]+")) {
                    throw new IllegalArgumentException("EAB key for " + kid + " is not unpadded base64url: " + key);
                }
                copy.put(kid, key);
            });
            return new Builder(env, Collections.unmodifiableMap(copy), httpPort, tlsPort, dnsServer,
                    validitySeconds, domainBlocklist, strict, startupTimeout);
        }

        /**
         * Sets an environment variable of the pebble process ({@code null} value: unset it,
         * which also removes a default such as {@code PEBBLE_VA_NOSLEEP}).
         */
        public Builder env(String key, String value) {
            Objects.requireNonNull(key, "key");
            Map<String, String> copy = new LinkedHashMap<>(env);
            if (value == null) {
                copy.remove(key);
            } else {
                copy.put(key, value);
            }
            return new Builder(Collections.unmodifiableMap(copy), eabKeys, httpPort, tlsPort, dnsServer,
                    validitySeconds, domainBlocklist, strict, startupTimeout);
        }

        /** {@code PEBBLE_ALTERNATE_ROOTS}: number of alternate chains offered via {@code Link: rel="alternate"}. */
        public Builder alternateRoots(int count) {
            return env("PEBBLE_ALTERNATE_ROOTS", Integer.toString(requireRange(count, 0, 100, "alternateRoots")));
        }

        /** {@code PEBBLE_CHAIN_LENGTH}: 1 (default) is leaf + 1 intermediate; more adds intermediates. */
        public Builder chainLength(int length) {
            return env("PEBBLE_CHAIN_LENGTH", Integer.toString(requireRange(length, 1, 100, "chainLength")));
        }

        /** {@code PEBBLE_WFE_NONCEREJECT}: percentage of good nonces rejected as badNonce (Pebble default 5). */
        public Builder nonceRejectPercent(int percent) {
            return env("PEBBLE_WFE_NONCEREJECT", Integer.toString(requireRange(percent, 0, 100, "nonceRejectPercent")));
        }

        /** {@code PEBBLE_AUTHZREUSE}: percentage of valid authorizations reused (Pebble default 50). */
        public Builder authzReusePercent(int percent) {
            return env("PEBBLE_AUTHZREUSE", Integer.toString(requireRange(percent, 0, 100, "authzReusePercent")));
        }

        /** {@code PEBBLE_VA_ALWAYS_VALID=1}: every challenge validates without contacting anything. */
        public Builder vaAlwaysValid() {
            return env("PEBBLE_VA_ALWAYS_VALID", "1");
        }

        /** {@code PEBBLE_WFE_ORDERS_PER_PAGE} (Pebble default 3). */
        public Builder ordersPerPage(int count) {
            return env("PEBBLE_WFE_ORDERS_PER_PAGE", Integer.toString(requireRange(count, 1, 100_000, "ordersPerPage")));
        }

        /** {@code certificateValidityPeriod} in seconds for issued certificates. */
        public Builder certificateValidityPeriod(long seconds) {
            if (seconds <= 0) {
                throw new IllegalArgumentException("certificateValidityPeriod must be positive: " + seconds);
            }
            return new Builder(env, eabKeys, httpPort, tlsPort, dnsServer, seconds, domainBlocklist, strict,
                    startupTimeout);
        }

        /** {@code certificateValidityPeriod} for issued certificates (whole seconds). */
        public Builder certificateValidityPeriod(Duration validity) {
            return certificateValidityPeriod(validity.toSeconds());
        }

        /** {@code domainBlocklist}: names Pebble refuses to issue for. */
        public Builder domainBlocklist(String... domains) {
            return new Builder(env, eabKeys, httpPort, tlsPort, dnsServer, validitySeconds, List.of(domains),
                    strict, startupTimeout);
        }

        /** The port Pebble's VA connects to for http-01 (default: a free loopback port). */
        public Builder httpPort(int port) {
            return new Builder(env, eabKeys, requireRange(port, 0, 65535, "httpPort"), tlsPort, dnsServer,
                    validitySeconds, domainBlocklist, strict, startupTimeout);
        }

        /** The port Pebble's VA connects to for tls-alpn-01 (default: a free loopback port). */
        public Builder tlsPort(int port) {
            return new Builder(env, eabKeys, httpPort, requireRange(port, 0, 65535, "tlsPort"), dnsServer,
                    validitySeconds, domainBlocklist, strict, startupTimeout);
        }

        /**
         * Uses an external DNS server ({@code host:port}) for {@code -dnsserver} instead of
         * starting a {@link ChallTestSrv}; {@link Pebble#challTestSrv()} is then null.
         */
        public Builder dnsServer(String hostPort) {
            Objects.requireNonNull(hostPort, "hostPort");
            if (!hostPort.contains(":")) {
                throw new IllegalArgumentException("dnsServer must be host:port, got " + hostPort);
            }
            return new Builder(env, eabKeys, httpPort, tlsPort, hostPort, validitySeconds, domainBlocklist,
                    strict, startupTimeout);
        }

        /** Passes {@code -strict} (Pebble's "upcoming breaking changes" mode); off by default. */
        public Builder strict(boolean strict) {
            return new Builder(env, eabKeys, httpPort, tlsPort, dnsServer, validitySeconds, domainBlocklist,
                    strict, startupTimeout);
        }

        /** How long {@link #start()} waits for the listeners (default 20 s). */
        public Builder startupTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startupTimeout must be positive");
            }
            return new Builder(env, eabKeys, httpPort, tlsPort, dnsServer, validitySeconds, domainBlocklist,
                    strict, timeout);
        }

        /**
         * Starts Pebble (and, unless {@link #dnsServer} was given, a ChallTestSrv) and waits
         * until it serves.
         *
         * @throws IllegalStateException if pebble is not installed or does not start in time;
         *     the message then contains the tail of its log
         */
        public Pebble start() {
            Path pebbleExe = requireInstalled("pebble");
            requireInstalled("pebble-challtestsrv");
            ChallTestSrv cts = dnsServer == null ? ChallTestSrv.start() : null;
            try {
                IllegalStateException last = null;
                for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                    try {
                        return startOnce(pebbleExe, cts);
                    } catch (ChallTestSrv.PortClashException e) {
                        last = e;
                        LOG.warn("pebble port clash (attempt {}/{}), retrying with new ports", attempt, MAX_ATTEMPTS);
                    }
                }
                throw last;
            } catch (RuntimeException | Error e) {
                if (cts != null) {
                    cts.close();
                }
                throw e;
            }
        }

        private Pebble startOnce(Path exe, ChallTestSrv cts) {
            Path dir;
            try {
                dir = Files.createTempDirectory("anvil-pebble-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path cert = dir.resolve("listener-cert.pem");
            Path key = dir.resolve("listener-key.pem");
            Path config = dir.resolve("pebble-config.json");
            Path log = dir.resolve("pebble.log");
            TestTls tls = TestTls.create();
            tls.writeServerFiles(cert, key);

            int listen = freeTcpPort();
            int mgmt = freeTcpPort();
            int va = httpPort != 0 ? httpPort : freeTcpPort();
            int alpn = tlsPort != 0 ? tlsPort : freeTcpPort();
            String dns = cts != null ? cts.dnsAddress() : dnsServer;

            ObjectNode root = MAPPER.createObjectNode();
            ObjectNode p = root.putObject("pebble");
            p.put("listenAddress", "127.0.0.1:" + listen);
            p.put("managementListenAddress", "127.0.0.1:" + mgmt);
            p.put("certificate", cert.toAbsolutePath().toString());
            p.put("privateKey", key.toAbsolutePath().toString());
            p.put("httpPort", va);
            p.put("tlsPort", alpn);
            p.put("ocspResponderURL", "");
            p.put("externalAccountBindingRequired", eabKeys != null);
            if (eabKeys != null) {
                ObjectNode keys = p.putObject("externalAccountMACKeys");
                eabKeys.forEach(keys::put);
            }
            if (!domainBlocklist.isEmpty()) {
                domainBlocklist.forEach(p.putArray("domainBlocklist")::add);
            }
            if (validitySeconds != null) {
                p.put("certificateValidityPeriod", validitySeconds.longValue());
            }
            try {
                Files.writeString(config, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            } catch (IOException e) {
                deleteRecursively(dir);
                throw new UncheckedIOException(e);
            }

            List<String> cmd = new ArrayList<>(List.of(exe.toString(), "-config", config.toString(), "-dnsserver", dns));
            if (strict) {
                cmd.add("-strict");
            }
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("PEBBLE_"));
            pb.environment().putAll(env);

            long t0 = System.nanoTime();
            Process process;
            try {
                process = pb.start();
            } catch (IOException e) {
                deleteRecursively(dir);
                throw new IllegalStateException("cannot start " + cmd, e);
            }
            registerForShutdown(process, dir);
            Pebble pebble = new Pebble(process, dir, log, config, tls, listen, mgmt, va, alpn, cts, dns,
                    env, eabKeys);
            try {
                pebble.awaitReady(startupTimeout);
            } catch (RuntimeException e) {
                String tail = tail(log, 60);
                pebble.closeKeepingChallTestSrv();
                if (tail.contains(ChallTestSrv.ADDRESS_IN_USE)) {
                    throw new ChallTestSrv.PortClashException("pebble could not bind its ports:\n" + tail);
                }
                throw new IllegalStateException("pebble did not start: " + e.getMessage()
                        + "\ncommand: " + cmd + "\nenv: " + env
                        + "\n--- pebble log (tail) ---\n" + tail, e);
            }
            LOG.info("Pebble started in {} ms: {} (management {}, http-01 port {}, tls-alpn-01 port {}, dns {}, pid {}, log {})",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), pebble.directoryUrl(),
                    pebble.managementUrl(), va, alpn, dns, process.pid(), log);
            return pebble;
        }
    }

    private void awaitReady(Duration timeout) {
        OkHttpClient probeClient = httpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(1))
                .readTimeout(Duration.ofSeconds(2))
                .callTimeout(Duration.ofSeconds(3))
                .retryOnConnectionFailure(false)
                .build();
        // "/" is a 404 on both listeners and 404s are not logged as "calling handler", so
        // probing leaves the request log empty. /roots/0 proves the management API works.
        // The probe client trusts only this instance's fresh listener CA, so a foreign server
        // that grabbed one of our ports meanwhile fails the handshake instead of looking ready.
        Request acmeProbe = new Request.Builder().url("https://127.0.0.1:" + listenPort + "/").get().build();
        Request mgmtProbe = new Request.Builder().url(managementUrl() + "/roots/0").get().build();
        boolean acmeUp = false;
        boolean mgmtUp = false;
        Exception lastError = null;
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("pebble exited with status " + process.exitValue());
                }
                if (!acmeUp || !mgmtUp) {
                    // pebble exits on a bind failure anyway; this just fails faster
                    String text = readLog(logFile);
                    if (text.contains(ChallTestSrv.ADDRESS_IN_USE)) {
                        throw new IllegalStateException("a port is already in use");
                    }
                }
                if (!acmeUp) {
                    try (Response r = probeClient.newCall(acmeProbe).execute()) {
                        acmeUp = r.code() > 0;
                    } catch (IOException e) {
                        lastError = e;
                    }
                }
                if (!mgmtUp) {
                    try (Response r = probeClient.newCall(mgmtProbe).execute()) {
                        mgmtUp = r.code() == 200;
                    } catch (IOException e) {
                        lastError = e;
                    }
                }
                if (acmeUp && mgmtUp) {
                    synchronized (this) {
                        readNewLogLines();
                        baseline = handlerLines.size();
                    }
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not serving after " + timeout.toMillis() + " ms (acme "
                            + (acmeUp ? "up" : "down") + ", management " + (mgmtUp ? "up" : "down")
                            + ", last error: " + lastError + ")");
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for pebble", e);
        } finally {
            probeClient.connectionPool().evictAll();
        }
    }

    // =================================================================== endpoints

    /** {@code https://127.0.0.1:<port>/dir}. */
    public String directoryUrl() {
        return "https://127.0.0.1:" + listenPort + "/dir";
    }

    /** The ACME listener's port. */
    public int listenPort() {
        return listenPort;
    }

    /** {@code https://127.0.0.1:<port>} of the management API (same listener certificate). */
    public String managementUrl() {
        return "https://127.0.0.1:" + managementPort;
    }

    public int managementPort() {
        return managementPort;
    }

    /** The port Pebble's VA connects to for http-01 (bind {@link Http01TestResponder} here). */
    public int httpPort() {
        return httpPort;
    }

    /** The port Pebble's VA connects to for tls-alpn-01. */
    public int tlsPort() {
        return tlsPort;
    }

    /** The DNS server Pebble resolves with ({@code -dnsserver}). */
    public String dnsServer() {
        return dnsServer;
    }

    /** The mock DNS server started by this harness, or null if an external one was configured. */
    public ChallTestSrv challTestSrv() {
        return challTestSrv;
    }

    /** The EAB keys (kid to base64url key) if EAB is required, else an empty map. */
    public Map<String, String> eabKeys() {
        return eabKeys == null ? Map.of() : eabKeys;
    }

    public boolean eabRequired() {
        return eabKeys != null;
    }

    /** The environment given to pebble on top of the (PEBBLE_*-free) inherited one. */
    public Map<String, String> env() {
        return env;
    }

    // =================================================================== TLS / HTTP

    /**
     * A shared client that trusts Pebble's listener certificate (and nothing else), with
     * connect 5 s / read 30 s / call 60 s timeouts. Use {@code httpClient().newBuilder()} to
     * customize; it shares the connection pool.
     */
    public OkHttpClient httpClient() {
        return httpClient;
    }

    /** Trusts the CA that issued this instance's listener certificate (fresh per instance). */
    public X509TrustManager trustManager() {
        return tls.trustManager();
    }

    public SSLSocketFactory sslSocketFactory() {
        return tls.sslSocketFactory();
    }

    /** The listener's TLS material (CA PEM, trust store, ...). */
    public TestTls tls() {
        return tls;
    }

    // =================================================================== management API

    /** PEM of root {@code index} (0: the default chain's root; 1.. alternate roots). */
    public String rootPem(int index) {
        return managementText("/roots/" + index);
    }

    /** PEM of intermediate {@code index} (the one directly under root {@code index}). */
    public String intermediatePem(int index) {
        return managementText("/intermediates/" + index);
    }

    public String rootKeyPem(int index) {
        return managementText("/root-keys/" + index);
    }

    public String intermediateKeyPem(int index) {
        return managementText("/intermediate-keys/" + index);
    }

    /** Root {@code index} parsed. */
    public X509Certificate rootCertificate(int index) {
        return TestTls.parseCertificates(rootPem(index)).get(0);
    }

    public X509Certificate intermediateCertificate(int index) {
        return TestTls.parseCertificates(intermediatePem(index)).get(0);
    }

    /**
     * {@code GET /cert-status-by-serial/<hex>}: a JSON object with {@code Certificate} (PEM),
     * {@code Status} ({@code "Valid"} or {@code "Revoked"}), {@code Serial}, and for revoked
     * ones {@code Reason} and {@code RevokedAt}; null if Pebble does not know the serial.
     */
    public JsonNode certStatusBySerial(BigInteger serial) {
        if (serial.signum() < 0) {
            throw new IllegalArgumentException("negative serial");
        }
        String[] codeAndBody = management("/cert-status-by-serial/" + serial.toString(16));
        if ("404".equals(codeAndBody[0])) {
            return null;
        }
        if (!"200".equals(codeAndBody[0])) {
            throw new IllegalStateException("pebble management /cert-status-by-serial -> HTTP " + codeAndBody[0]
                    + ": " + codeAndBody[1]);
        }
        try {
            return MAPPER.readTree(codeAndBody[1]);
        } catch (IOException e) {
            throw new IllegalStateException("pebble returned invalid JSON: " + codeAndBody[1], e);
        }
    }

    /** GET of a management path (e.g. {@code /roots/0}); throws unless HTTP 200. */
    public String managementText(String path) {
        String[] codeAndBody = management(path);
        if (!"200".equals(codeAndBody[0])) {
            throw new IllegalStateException("pebble management " + path + " -> HTTP " + codeAndBody[0]
                    + ": " + codeAndBody[1]);
        }
        return codeAndBody[1];
    }

    private String[] management(String path) {
        if (closed.get()) {
            throw new IllegalStateException("Pebble is closed");
        }
        Request req = new Request.Builder().url(managementUrl() + path).get().build();
        try (Response r = httpClient.newCall(req).execute()) {
            return new String[] {Integer.toString(r.code()), r.body().string()};
        } catch (IOException e) {
            throw new UncheckedIOException("pebble management " + path + " failed", e);
        }
    }

    // =================================================================== request log

    /**
     * Number of requests to the ACME listener that reached a handler since startup: Pebble
     * logs one {@code <METHOD> <path> -> calling handler()} line per such request, before
     * running the handler (so the line is already written when the client sees the response).
     * Management requests, requests for unknown paths (404) and with a disallowed method
     * (405) are not logged and therefore not counted. The harness's own startup probes are
     * excluded.
     */
    public synchronized int requestCount() {
        readNewLogLines();
        return handlerLines.size() - baseline;
    }

    /**
     * The counted requests as {@code "<METHOD> <route>"}, oldest first, e.g.
     * {@code "HEAD /nonce-plz"}. Pebble logs the matched route, so for resources with an id
     * this is the route prefix ({@code "POST /authZ/"}, {@code "POST /chalZ/"},
     * {@code "POST /my-order/"}, {@code "POST /finalize-order/"}, {@code "POST /certZ/"}), not the
     * full URL. {@code requestLog().size() == requestCount()}.
     */
    public synchronized List<String> requestLog() {
        readNewLogLines();
        return List.copyOf(handlerLines.subList(baseline, handlerLines.size()));
    }

    /** pebble's combined stdout and stderr. */
    public Path logFile() {
        return logFile;
    }

    /** The whole pebble log so far. */
    public String log() {
        return readLog(logFile);
    }

    public Path configFile() {
        return configFile;
    }

    /** The temporary directory holding config, certificates and log (deleted on close). */
    public Path directory() {
        return dir;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    private void readNewLogLines() {
        // caller holds the monitor
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long len = f.length();
            if (len <= logOffset) {
                return;
            }
            byte[] buf = new byte[(int) Math.min(len - logOffset, Integer.MAX_VALUE - 16)];
            f.seek(logOffset);
            f.readFully(buf);
            logOffset += buf.length;
            partialLine.append(new String(buf, StandardCharsets.UTF_8));
            int nl;
            while ((nl = partialLine.indexOf("\n")) >= 0) {
                String line = partialLine.substring(0, nl);
                partialLine.delete(0, nl + 1);
                Matcher m = HANDLER_LINE.matcher(line);
                if (m.find()) {
                    handlerLines.add(m.group(1) + " " + m.group(2));
                }
            }
        } catch (java.io.FileNotFoundException | NoSuchFileException gone) {
            // deleted after close: keep what was read
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile, e);
        }
    }

    // =================================================================== lifecycle

    /** Kills pebble (and the ChallTestSrv it started) and deletes the temporary directory. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (this) {
            readNewLogLines(); // keep requestLog() usable after close
        }
        shutdown();
        if (challTestSrv != null) {
            challTestSrv.close();
        }
    }

    private void closeKeepingChallTestSrv() {
        if (closed.compareAndSet(false, true)) {
            shutdown();
        }
    }

    private void shutdown() {
        destroy(process);
        unregisterForShutdown(process);
        httpClient.dispatcher().executorService().shutdown();
        httpClient.connectionPool().evictAll();
        if (!keepFiles()) {
            deleteRecursively(dir);
        } else {
            LOG.info("keeping pebble files in {}", dir);
        }
    }

    @Override
    public String toString() {
        return "Pebble[" + directoryUrl() + ", pid " + process.pid() + "]";
    }

    // =================================================================== shared static helpers

    /**
     * Locates {@code executable} on {@code PATH}.
     *
     * @throws IllegalStateException with installation instructions if it is missing
     */
    public static Path requireInstalled(String executable) {
        return locate(executable, System.getenv("PATH"))
                .orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
    }

    static Optional<Path> locate(String executable, String pathEnv) {
        if (pathEnv == null || pathEnv.isEmpty()) {
            return Optional.empty();
        }
        for (String d : pathEnv.split(File.pathSeparator)) {
            if (d.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(d, executable);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Recently handed-out ports, so two callers in this JVM never get the same one before binding it. */
    private static final Deque<Integer> RECENT_PORTS = new ArrayDeque<>();

    /** A TCP port that was free on 127.0.0.1 a moment ago. */
    public static int freeTcpPort() {
        return freePort(false);
    }

    /** A port that was free on 127.0.0.1 for both TCP and UDP a moment ago (for DNS servers). */
    public static int freeTcpAndUdpPort() {
        return freePort(true);
    }

    private static int freePort(boolean udpToo) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 100; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(loopback, 0));
                port = s.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free port", e);
            }
            if (udpToo) {
                try (DatagramSocket d = new DatagramSocket(new InetSocketAddress(loopback, port))) {
                    d.getLocalPort();
                } catch (IOException taken) {
                    continue;
                }
            }
            synchronized (RECENT_PORTS) {
                if (RECENT_PORTS.contains(port)) {
                    continue;
                }
                RECENT_PORTS.addLast(port);
                if (RECENT_PORTS.size() > 256) {
                    RECENT_PORTS.removeFirst();
                }
            }
            return port;
        }
        throw new IllegalStateException("no free loopback port found");
    }

    /** Live processes and their temporary directories, cleaned up by the shutdown hook. */
    private static final Map<Process, Path> LIVE = new ConcurrentHashMap<>();
    private static boolean hookInstalled;

    static void registerForShutdown(Process p, Path dir) {
        synchronized (LIVE) {
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(Pebble::killAll, "anvil-pebble-shutdown"));
                hookInstalled = true;
            }
        }
        LIVE.put(p, dir);
    }

    static void unregisterForShutdown(Process p) {
        LIVE.remove(p);
    }

    private static void killAll() {
        Map<Process, Path> all = new LinkedHashMap<>(LIVE);
        all.keySet().forEach(Process::destroy);
        for (Map.Entry<Process, Path> e : all.entrySet()) {
            Process p = e.getKey();
            try {
                if (!p.waitFor(2, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(2, TimeUnit.SECONDS);
                }
            } catch (InterruptedException ie) {
                p.destroyForcibly();
            }
            if (!keepFiles()) {
                deleteRecursively(e.getValue());
            }
        }
    }

    /** SIGTERM, wait up to 5 s, then SIGKILL. */
    static void destroy(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int requireRange(int value, int min, int max, String what) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be in [" + min + ", " + max + "]: " + value);
        }
        return value;
    }

    static boolean keepFiles() {
        return Boolean.getBoolean("anvil.pebble.keepFiles");
    }

    static String readLog(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code lines} lines of a log file ("" if missing). */
    static String tail(Path log, int lines) {
        String text;
        try {
            text = readLog(log);
        } catch (UncheckedIOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
        String[] all = text.split("\n", -1);
        int from = Math.max(0, all.length - lines - 1);
        return String.join("\n", List.of(all).subList(from, all.length)).strip();
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}: {}", p, e.toString());
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot delete {}: {}", dir, e.toString());
        }
    }
}
