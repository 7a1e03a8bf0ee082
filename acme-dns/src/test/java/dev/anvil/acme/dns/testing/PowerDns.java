package dev.anvil.acme.dns.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.acme.testing.Pebble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * A real PowerDNS Authoritative server ({@code pdns_server}, Debian packages
 * {@code pdns-server} and {@code pdns-backend-sqlite3}) for tests: the gsqlite3 backend with a
 * fresh database made from the packaged schema, DNS on 127.0.0.1 at a free port, and the HTTP
 * API on another free loopback port with a random API key. Zones are created through the API
 * ({@link #createZone}).
 */
public final class PowerDns implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PowerDns.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static final String NOT_INSTALLED = "PowerDNS with the SQLite backend is not installed: run"
            + " scripts/install-test-deps.sh, or `apt-get update && apt-get install -y pdns-server"
            + " pdns-backend-sqlite3 sqlite3`";

    private static final List<String> SCHEMAS = List.of(
            "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
            "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql");

    private static final Map<Process, Path> LIVE = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach((p, d) -> {
            p.destroyForcibly();
            Bind9.deleteRecursively(d);
        }), "anvil-pdns-shutdown"));
    }

    private final Process process;
    private final Path dir;
    private final Path log;
    private final int dnsPort;
    private final int webPort;
    private final String apiKey;
    private final OkHttpClient http = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).build();

    private PowerDns(Process process, Path dir, Path log, int dnsPort, int webPort, String apiKey) {
        this.process = process;
        this.dir = dir;
        this.log = log;
        this.dnsPort = dnsPort;
        this.webPort = webPort;
        this.apiKey = apiKey;
    }

    public static PowerDns start() {
        Path pdns = Bind9.locate("pdns_server").orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
        Path sqlite = Bind9.locate("sqlite3").orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
        Path schema = SCHEMAS.stream().map(Path::of).filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new IllegalStateException(NOT_INSTALLED + " (no schema.sqlite3.sql in " + SCHEMAS + ")"));
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return startOnce(pdns, sqlite, schema);
            } catch (PortTaken e) {
                last = e;
            }
        }
        throw last;
    }

    private static final class PortTaken extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTaken(String m) {
            super(m);
        }
    }

    private static PowerDns startOnce(Path pdns, Path sqlite, Path schema) {
        int dnsPort = Pebble.freeTcpAndUdpPort();
        int webPort = Pebble.freeTcpPort();
        byte[] key = new byte[24];
        new SecureRandom().nextBytes(key);
        String apiKey = "pdns-" + HexFormat.of().formatHex(key);
        Path dir;
        try {
            dir = Files.createTempDirectory("anvil-pdns-");
            Path db = dir.resolve("pdns.sqlite3");
            Process init = new ProcessBuilder(sqlite.toString(), db.toString()).redirectInput(schema.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("sqlite.log").toFile()).start();
            if (!init.waitFor(20, TimeUnit.SECONDS) || init.exitValue() != 0) {
                throw new IllegalStateException("sqlite3 could not create the database from " + schema + ": "
                        + Files.readString(dir.resolve("sqlite.log")));
            }
            String conf = String.join("\n",
                    "launch=gsqlite3",
                    "gsqlite3-database=" + db,
                    "local-address=127.0.0.1",
                    "local-port=" + dnsPort,
                    "webserver=yes",
                    "webserver-address=127.0.0.1",
                    "webserver-port=" + webPort,
                    "webserver-allow-from=127.0.0.0/8",
                    "api=yes",
                    "api-key=" + apiKey,
                    "security-poll-suffix=",
                    "loglevel=4",
                    "") ;
            Files.writeString(dir.resolve("pdns.conf"), conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Path log = dir.resolve("pdns.log");
        List<String> cmd = List.of(pdns.toString(), "--config-dir=" + dir, "--socket-dir=" + dir, "--guardian=no",
                "--daemon=no", "--disable-syslog", "--write-pid=no");
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            Bind9.deleteRecursively(dir);
            throw new IllegalStateException("cannot start " + cmd, e);
        }
        LIVE.put(p, dir);
        PowerDns server = new PowerDns(p, dir, log, dnsPort, webPort, apiKey);
        try {
            server.awaitApi(Duration.ofSeconds(15));
        } catch (RuntimeException e) {
            String text = server.log();
            server.close();
            if (text.contains("Address already in use") || text.contains("address already in use")) {
                throw new PortTaken(text);
            }
            throw new IllegalStateException("pdns_server did not start: " + e.getMessage() + "\ncommand: " + cmd
                    + "\n--- log ---\n" + text, e);
        }
        LOG.info("PowerDNS serving DNS on 127.0.0.1:{}, API on {} (pid {}, dir {})", dnsPort, server.apiUrl(), p.pid(),
                dir);
        return server;
    }

    private void awaitApi(Duration timeout) {
        long until = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        Request probe = new Request.Builder().url(apiUrl() + "/api/v1/servers/localhost")
                .header("X-API-Key", apiKey).build();
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pdns_server exited with status " + process.exitValue());
            }
            try (Response r = http.newCall(probe).execute()) {
                if (r.code() == 200) {
                    return;
                }
                last = new IllegalStateException("HTTP " + r.code());
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("API not up within " + timeout.toMillis() + " ms (last: " + last + ")");
    }

    /**
     * Creates a native zone with {@code NS ns1.<zone>}, {@code ns1 A 127.0.0.1} and an apex A,
     * plus extra records given as {name relative to the zone, type, content}.
     */
    public void createZone(String zone, String[]... records) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("name", zone + ".").put("kind", "Native");
        body.putArray("nameservers").add("ns1." + zone + ".");
        ArrayNode rrsets = body.putArray("rrsets");
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"ns1", "A", "127.0.0.1"});
        all.add(new String[] {"@", "A", "127.0.0.1"});
        all.addAll(List.of(records));
        for (String[] r : all) {
            ObjectNode rr = rrsets.addObject();
            rr.put("name", ("@".equals(r[0]) ? "" : r[0] + ".") + zone + ".").put("type", r[1]).put("ttl", 60);
            rr.putArray("records").addObject().put("content", r[2]).put("disabled", false);
        }
        Request req = new Request.Builder().url(apiUrl() + "/api/v1/servers/localhost/zones")
                .header("X-API-Key", apiKey)
                .post(RequestBody.create(body.toString().getBytes(StandardCharsets.UTF_8),
                        MediaType.get("application/json"))).build();
        try (Response r = http.newCall(req).execute()) {
            if (r.code() != 201) {
                throw new IllegalStateException("creating zone " + zone + ": HTTP " + r.code() + " " + r.body().string());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The TXT values pdns serves at the name, by a direct DNS query. */
    public List<String> txt(String name) {
        try {
            SimpleResolver r = new SimpleResolver(dnsAddress());
            r.setTimeout(Duration.ofSeconds(2));
            Message q = Message.newQuery(Record.newRecord(Name.fromString(name + "."), Type.TXT, DClass.IN));
            q.getHeader().unsetFlag(Flags.RD);
            List<String> values = new ArrayList<>();
            for (Record rec : r.send(q).getSection(Section.ANSWER)) {
                if (rec instanceof TXTRecord t) {
                    values.add(String.join("", t.getStrings()));
                }
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "http://127.0.0.1:port". */
    public String apiUrl() {
        return "http://127.0.0.1:" + webPort;
    }

    public String apiKey() {
        return apiKey;
    }

    public int dnsPort() {
        return dnsPort;
    }

    public InetSocketAddress dnsAddress() {
        return new InetSocketAddress("127.0.0.1", dnsPort);
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        if (!Boolean.getBoolean("anvil.pebble.keepFiles")) {
            Bind9.deleteRecursively(dir);
        }
    }

    @Override
    public String toString() {
        return "PowerDns[dns 127.0.0.1:" + dnsPort + ", api " + apiUrl() + "]";
    }
}
