package dev.anvil.acme.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running {@code pebble-challtestsrv} (Debian package {@code pebble}) used as a mock DNS
 * server: Pebble's VA is pointed at {@link #dnsAddress()} with {@code -dnsserver}.
 *
 * <p>It is started on free loopback ports with {@code -defaultIPv4 127.0.0.1} (every name
 * without an explicit A record resolves to 127.0.0.1), {@code -defaultIPv6 ""} (no AAAA
 * answers, so the VA never tries {@code ::1}) and its own HTTP-01, HTTPS-01 and TLS-ALPN-01
 * responders disabled, so the code under test answers challenges itself. (Pebble 2.4's
 * challtestsrv has no DoH listener, so there is nothing else to disable.)
 *
 * <p>Host names are stored by challtestsrv exactly as given and matched case-sensitively;
 * this class only appends the trailing dot when it is missing.
 *
 * <p>Thread-safe: management calls are independent HTTP requests.
 */
public final class ChallTestSrv implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChallTestSrv.class);
    private static final MediaType JSON = MediaType.get("application/json");
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(20);
    private static final int MAX_ATTEMPTS = 3;
    static final String ADDRESS_IN_USE = "address already in use";

    private final Process process;
    private final Path dir;
    private final Path logFile;
    private final int dnsPort;
    private final int managementPort;
    private final OkHttpClient http;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ChallTestSrv(Process process, Path dir, Path logFile, int dnsPort, int managementPort,
            OkHttpClient http) {
        this.process = process;
        this.dir = dir;
        this.logFile = logFile;
        this.dnsPort = dnsPort;
        this.managementPort = managementPort;
        this.http = http;
    }

    /**
     * Starts {@code pebble-challtestsrv} on free loopback ports and waits until both its
     * management API and its DNS server answer.
     *
     * @throws IllegalStateException if it is not installed or does not come up
     */
    public static ChallTestSrv start() {
        Path exe = Pebble.requireInstalled("pebble-challtestsrv");
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                return startOnce(exe);
            } catch (PortClashException e) {
                last = e;
                LOG.warn("pebble-challtestsrv port clash (attempt {}/{}), retrying with new ports",
                        attempt, MAX_ATTEMPTS);
            }
        }
        throw last;
    }

    private static ChallTestSrv startOnce(Path exe) {
        return startOnce(exe, Pebble.freeTcpAndUdpPort(), Pebble.freeTcpPort());
    }

    /** One start attempt on the given ports; PortClashException if one is taken. */
    static ChallTestSrv startOnce(Path exe, int dnsPort, int mgmtPort) {
        Path dir;
        try {
            dir = Files.createTempDirectory("anvil-challtestsrv-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path log = dir.resolve("challtestsrv.log");
        List<String> cmd = List.of(exe.toString(),
                "-dns01", "127.0.0.1:" + dnsPort,
                "-management", "127.0.0.1:" + mgmtPort,
                "-http01", "",
                "-https01", "",
                "-tlsalpn01", "",
                "-defaultIPv4", "127.0.0.1",
                "-defaultIPv6", "");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Pebble.deleteRecursively(dir);
            throw new IllegalStateException("cannot start " + cmd, e);
        }
        Pebble.registerForShutdown(p, dir);
        OkHttpClient http = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(10))
                .callTimeout(Duration.ofSeconds(15))
                .retryOnConnectionFailure(false)
                .build();
        ChallTestSrv srv = new ChallTestSrv(p, dir, log, dnsPort, mgmtPort, http);
        try {
            srv.awaitReady();
        } catch (RuntimeException e) {
            String tail = Pebble.tail(log, 40);
            srv.close();
            if (tail.contains(ADDRESS_IN_USE)) {
                throw new PortClashException("pebble-challtestsrv could not bind its ports:\n" + tail);
            }
            throw new IllegalStateException("pebble-challtestsrv did not start: " + e.getMessage()
                    + "\n--- challtestsrv log (tail) ---\n" + tail, e);
        }
        LOG.info("pebble-challtestsrv started: dns 127.0.0.1:{} management http://127.0.0.1:{} (pid {})",
                dnsPort, mgmtPort, p.pid());
        return srv;
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        boolean managementUp = false;
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("process exited with status " + process.exitValue());
            }
            // challtestsrv keeps running when a DNS listener cannot bind, so look at its log.
            if (Pebble.readLog(logFile).contains(ADDRESS_IN_USE)) {
                throw new IllegalStateException("a port is already in use");
            }
            if (!managementUp) {
                Request probe = new Request.Builder().url(managementUrl() + "/").get().build();
                try (Response r = http.newCall(probe).execute()) {
                    managementUp = r.code() > 0; // any HTTP answer (it is a 404) means the API is serving
                } catch (IOException notYet) {
                    // keep polling
                }
            }
            if (managementUp) {
                try {
                    // Any answer proves the UDP DNS server is serving.
                    query("anvil-readiness-probe.invalid.", TYPE_A, Duration.ofMillis(200));
                    if (Pebble.readLog(logFile).contains(ADDRESS_IN_USE)) {
                        throw new IllegalStateException("a port is already in use");
                    }
                    return;
                } catch (IOException notYet) {
                    // keep polling
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not ready after " + STARTUP_TIMEOUT.toSeconds() + " s");
            }
            sleep(50);
        }
    }

    // ---------------------------------------------------------------- addresses

    /** {@code 127.0.0.1:<port>}: the value for {@code pebble -dnsserver}. */
    public String dnsAddress() {
        return "127.0.0.1:" + dnsPort;
    }

    public int dnsPort() {
        return dnsPort;
    }

    /** {@code http://127.0.0.1:<port>}: the plain-HTTP management API. */
    public String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    public int managementPort() {
        return managementPort;
    }

    public Path logFile() {
        return logFile;
    }

    /** The whole challtestsrv log so far. */
    public String log() {
        return Pebble.readLog(logFile);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    // ---------------------------------------------------------------- mock DNS data

    /**
     * Adds a TXT value for {@code host} (e.g. {@code _acme-challenge.example.com.}). Values
     * accumulate: calling it twice for one host serves both values until {@link #clearTxt}.
     */
    public void setTxt(String host, String value) {
        Objects.requireNonNull(value, "value");
        post("/set-txt", obj(host).put("value", value));
    }

    /** Removes every TXT value of {@code host}. */
    public void clearTxt(String host) {
        post("/clear-txt", obj(host));
    }

    /** Answers A queries for {@code host} with the given IPv4 addresses (instead of the default). */
    public void addA(String host, String... ips) {
        post("/add-a", withAddresses(obj(host), ips));
    }

    public void clearA(String host) {
        post("/clear-a", obj(host));
    }

    /** Answers AAAA queries for {@code host} with the given IPv6 addresses. */
    public void addAaaa(String host, String... ips) {
        post("/add-aaaa", withAddresses(obj(host), ips));
    }

    public void clearAaaa(String host) {
        post("/clear-aaaa", obj(host));
    }

    /** Makes {@code host} a CNAME for {@code target}. */
    public void setCname(String host, String target) {
        post("/set-cname", obj(host).put("target", fqdn(target)));
    }

    public void clearCname(String host) {
        post("/clear-cname", obj(host));
    }

    /** Answers every query for {@code host} with SERVFAIL. */
    public void setServfail(String host) {
        post("/set-servfail", obj(host));
    }

    public void clearServfail(String host) {
        post("/clear-servfail", obj(host));
    }

    /** Adds a CAA record ({@code 0 tag "value"}) for {@code host}. */
    public void addCaa(String host, String tag, String value) {
        ObjectNode body = obj(host);
        body.putArray("policies").addObject().put("tag", tag).put("value", value);
        post("/add-caa", body);
    }

    public void clearCaa(String host) {
        post("/clear-caa", obj(host));
    }

    /** The answer for A queries of names without explicit records ({@code ""}: no answer). */
    public void setDefaultIpv4(String ip) {
        post("/set-default-ipv4", MAPPER.createObjectNode().put("ip", ip));
    }

    /** The answer for AAAA queries of names without explicit records ({@code ""}: no answer). */
    public void setDefaultIpv6(String ip) {
        post("/set-default-ipv6", MAPPER.createObjectNode().put("ip", ip));
    }

    // ---------------------------------------------------------------- DNS queries (tiny UDP client)

    /** Queries this server's DNS for TXT records of {@code host}; each string is one record. */
    public List<String> lookupTxt(String host) {
        return lookup(host, TYPE_TXT);
    }

    /** Queries this server's DNS for A records of {@code host}; dotted-quad strings. */
    public List<String> lookupA(String host) {
        return lookup(host, TYPE_A);
    }

    private List<String> lookup(String host, int type) {
        try {
            return query(fqdn(host), type, Duration.ofSeconds(2));
        } catch (IOException e) {
            throw new UncheckedIOException("DNS query to " + dnsAddress() + " failed", e);
        }
    }

    static final int TYPE_A = 1;
    static final int TYPE_TXT = 16;

    /**
     * Sends one UDP query (3 tries) and returns the answers of the requested type; throws
     * IOException on timeout, malformed reply or a non-NOERROR/NXDOMAIN rcode.
     */
    private List<String> query(String name, int type, Duration timeout) throws IOException {
        int id = RANDOM.nextInt(0x10000);
        byte[] request = encodeQuery(id, name, type);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), dnsPort));
            IOException last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                socket.send(new DatagramPacket(request, request.length));
                byte[] buf = new byte[4096];
                DatagramPacket reply = new DatagramPacket(buf, buf.length);
                try {
                    while (true) {
                        socket.receive(reply);
                        if (reply.getLength() >= 2
                                && (((buf[0] & 0xff) << 8) | (buf[1] & 0xff)) == id) {
                            return decodeAnswers(buf, reply.getLength(), type);
                        }
                    }
                } catch (SocketTimeoutException e) {
                    last = e;
                } catch (java.net.PortUnreachableException e) {
                    throw e; // nothing listening yet
                }
            }
            throw last;
        }
    }

    private static byte[] encodeQuery(int id, String name, int type) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeShort(id);
        out.writeShort(0x0100); // standard query, recursion desired
        out.writeShort(1); // QDCOUNT
        out.writeShort(0);
        out.writeShort(0);
        out.writeShort(0);
        for (String label : name.split("\\.")) {
            if (label.isEmpty()) {
                continue;
            }
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            if (l.length > 63) {
                throw new IllegalArgumentException("DNS label too long: " + label);
            }
            out.writeByte(l.length);
            out.write(l);
        }
        out.writeByte(0);
        out.writeShort(type);
        out.writeShort(1); // IN
        return bytes.toByteArray();
    }

    private static List<String> decodeAnswers(byte[] m, int len, int wantedType) throws IOException {
        if (len < 12) {
            throw new IOException("short DNS reply");
        }
        int rcode = m[3] & 0x0f;
        if (rcode == 3) {
            return List.of(); // NXDOMAIN
        }
        if (rcode != 0) {
            throw new IOException("DNS rcode " + rcode);
        }
        int qd = u16(m, 4);
        int an = u16(m, 6);
        int pos = 12;
        for (int i = 0; i < qd; i++) {
            pos = skipName(m, pos, len) + 4;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < an; i++) {
            pos = skipName(m, pos, len);
            if (pos + 10 > len) {
                throw new IOException("truncated DNS answer");
            }
            int type = u16(m, pos);
            int rdlen = u16(m, pos + 8);
            int rd = pos + 10;
            if (rd + rdlen > len) {
                throw new IOException("truncated DNS rdata");
            }
            if (type == wantedType && type == TYPE_A && rdlen == 4) {
                out.add((m[rd] & 0xff) + "." + (m[rd + 1] & 0xff) + "." + (m[rd + 2] & 0xff) + "." + (m[rd + 3] & 0xff));
            } else if (type == wantedType && type == TYPE_TXT) {
                StringBuilder sb = new StringBuilder();
                int p = rd;
                while (p < rd + rdlen) {
                    int sl = m[p] & 0xff;
                    sb.append(new String(m, p + 1, Math.min(sl, rd + rdlen - p - 1), StandardCharsets.UTF_8));
                    p += 1 + sl;
                }
                out.add(sb.toString());
            }
            pos = rd + rdlen;
        }
        return out;
    }

    private static int skipName(byte[] m, int pos, int len) throws IOException {
        while (true) {
            if (pos >= len) {
                throw new IOException("truncated DNS name");
            }
            int l = m[pos] & 0xff;
            if ((l & 0xc0) == 0xc0) {
                return pos + 2;
            }
            if (l == 0) {
                return pos + 1;
            }
            pos += 1 + l;
        }
    }

    private static int u16(byte[] m, int pos) {
        return ((m[pos] & 0xff) << 8) | (m[pos + 1] & 0xff);
    }

    // ---------------------------------------------------------------- lifecycle

    /** Stops the process and deletes its temporary directory (idempotent). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Pebble.destroy(process);
        Pebble.unregisterForShutdown(process);
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        if (!Pebble.keepFiles()) {
            Pebble.deleteRecursively(dir);
        }
    }

    @Override
    public String toString() {
        return "ChallTestSrv[dns=" + dnsAddress() + ", management=" + managementUrl() + "]";
    }

    // ---------------------------------------------------------------- internals

    /** Appends the trailing dot challtestsrv's lookups require. */
    static String fqdn(String host) {
        Objects.requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        return host.endsWith(".") ? host : host + ".";
    }

    private static ObjectNode obj(String host) {
        return MAPPER.createObjectNode().put("host", fqdn(host));
    }

    private static ObjectNode withAddresses(ObjectNode body, String... ips) {
        if (ips.length == 0) {
            throw new IllegalArgumentException("at least one address is required");
        }
        ArrayNode arr = body.putArray("addresses");
        for (String ip : ips) {
            arr.add(Objects.requireNonNull(ip, "ip"));
        }
        return body;
    }

    private void post(String path, ObjectNode body) {
        if (closed.get()) {
            throw new IllegalStateException("ChallTestSrv is closed");
        }
        Request req = new Request.Builder()
                .url(managementUrl() + path)
                .post(RequestBody.create(body.toString(), JSON))
                .build();
        try (Response r = http.newCall(req).execute()) {
            if (r.code() != 200) {
                throw new IllegalStateException("challtestsrv " + path + " " + body + " -> HTTP " + r.code()
                        + ": " + r.body().string());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("challtestsrv " + path + " failed", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Thrown internally when a freshly picked port was taken meanwhile; start() retries. */
    static final class PortClashException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortClashException(String message) {
            super(message);
        }
    }
}
