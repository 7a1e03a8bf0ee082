package dev.anvil.acme.dns.testing;

import dev.anvil.acme.testing.Pebble;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * A real BIND 9 ({@code named}, Debian package {@code bind9}) for tests: one primary zone on
 * 127.0.0.1 at a free port, in its own temporary directory, accepting RFC 2136 updates signed
 * with a fresh TSIG key. Runs {@code named -g -c <conf> -p <port>} in the foreground as the
 * current user: no {@code -u} (as root, named simply keeps running as root; there is no
 * AppArmor profile in the way), every file (pid, session key, journal) in the temp directory.
 *
 * <p>The zone file holds the SOA, {@code NS ns1.<zone>}, {@code ns1 A 127.0.0.1}, an apex A,
 * any extra name servers ({@link Builder#nameserver}, also at 127.0.0.1) and extra records.
 * Recursion is off, so the server answers only for its zone (REFUSED elsewhere), like a real
 * authoritative primary.
 */
public final class Bind9 implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Bind9.class);

    public static final String NOT_INSTALLED = "named (BIND 9) is not installed: run scripts/install-test-deps.sh,"
            + " or `apt-get update && apt-get install -y bind9 bind9-utils`";

    private static final Map<Process, Path> LIVE = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach((p, d) -> {
            p.destroyForcibly();
            deleteRecursively(d);
        }), "anvil-bind9-shutdown"));
    }

    /** A TSIG key in named.conf; {@code granted} keys may update the zone, others are refused. */
    public record Key(String name, String algorithm, String secret, boolean granted) {
        @Override
        public String toString() {
            return "Key[" + name + " " + algorithm + (granted ? ", granted" : "") + "]";
        }
    }

    private final Process process;
    private final Path dir;
    private final Path log;
    private final int port;
    private final String zone;
    private final List<Key> keys;

    private Bind9(Process process, Path dir, Path log, int port, String zone, List<Key> keys) {
        this.process = process;
        this.dir = dir;
        this.log = log;
        this.port = port;
        this.zone = zone;
        this.keys = keys;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Zone anvil.test, key "anvil-key" (hmac-sha256). */
    public static Bind9 start() {
        return builder().start();
    }

    /** Options; setters return this. */
    public static final class Builder {
        private String zone = "anvil.test";
        private final List<Key> keys = new ArrayList<>();
        private final List<String> nameservers = new ArrayList<>();
        private final List<String> records = new ArrayList<>();

        private Builder() {
        }

        public Builder zone(String name) {
            this.zone = name;
            return this;
        }

        /** Adds a key with a random secret; the first one is {@link Bind9#key()}. Default: one granted hmac-sha256 key "anvil-key". */
        public Builder key(String name, String algorithm, boolean granted) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            keys.add(new Key(name, algorithm, Base64.getEncoder().encodeToString(secret), granted));
            return this;
        }

        /** An extra NS host in the zone ("ns2" becomes ns2.zone with A 127.0.0.1). */
        public Builder nameserver(String label) {
            nameservers.add(label);
            return this;
        }

        /** Extra zone-file lines, names relative to the zone ("_acme-challenge.x CNAME y"). */
        public Builder record(String line) {
            records.add(line);
            return this;
        }

        public Bind9 start() {
            Path named = requireInstalled();
            if (keys.isEmpty()) {
                key("anvil-key", "hmac-sha256", true);
            }
            IllegalStateException last = null;
            for (int attempt = 1; attempt <= 3; attempt++) {
                try {
                    return startOnce(named, Pebble.freeTcpAndUdpPort());
                } catch (PortTaken e) {
                    last = e;
                }
            }
            throw last;
        }

        private Bind9 startOnce(Path named, int port) {
            Path dir;
            try {
                dir = Files.createTempDirectory("anvil-bind9-");
                StringBuilder conf = new StringBuilder();
                for (Key k : keys) {
                    conf.append("key \"").append(k.name()).append("\" { algorithm ").append(k.algorithm())
                            .append("; secret \"").append(k.secret()).append("\"; };\n");
                }
                conf.append("options {\n")
                        .append("  directory \"").append(dir).append("\";\n")
                        .append("  listen-on port ").append(port).append(" { 127.0.0.1; };\n")
                        .append("  listen-on-v6 { none; };\n")
                        .append("  recursion no;\n")
                        .append("  dnssec-validation no;\n")
                        .append("  notify no;\n")
                        .append("  pid-file \"").append(dir.resolve("named.pid")).append("\";\n")
                        .append("  session-keyfile \"").append(dir.resolve("session.key")).append("\";\n")
                        .append("  managed-keys-directory \"").append(dir).append("\";\n")
                        .append("};\n")
                        .append("controls { };\n")
                        .append("zone \"").append(zone).append("\" {\n")
                        .append("  type primary;\n")
                        .append("  file \"").append(dir.resolve(zone + ".zone")).append("\";\n")
                        .append("  journal \"").append(dir.resolve(zone + ".jnl")).append("\";\n")
                        .append("  update-policy {");
                for (Key k : keys) {
                    if (k.granted()) {
                        conf.append(" grant ").append(k.name()).append(" zonesub ANY;");
                    }
                }
                conf.append(" };\n};\n");
                Files.writeString(dir.resolve("named.conf"), conf.toString());

                StringBuilder z = new StringBuilder();
                z.append("$TTL 60\n")
                        .append("@ IN SOA ns1.").append(zone).append(". hostmaster.").append(zone)
                        .append(". 1 3600 600 86400 60\n")
                        .append("@ IN NS ns1.").append(zone).append(".\n")
                        .append("ns1 IN A 127.0.0.1\n")
                        .append("@ IN A 127.0.0.1\n");
                for (String ns : nameservers) {
                    z.append("@ IN NS ").append(ns).append('.').append(zone).append(".\n");
                    z.append(ns).append(" IN A 127.0.0.1\n");
                }
                for (String r : records) {
                    z.append(r).append('\n');
                }
                Files.writeString(dir.resolve(zone + ".zone"), z.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path log = dir.resolve("named.log");
            List<String> cmd = List.of(named.toString(), "-g", "-c", dir.resolve("named.conf").toString(),
                    "-p", String.valueOf(port), "-n", "2");
            Process p;
            try {
                p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                deleteRecursively(dir);
                throw new IllegalStateException("cannot start " + cmd, e);
            }
            LIVE.put(p, dir);
            Bind9 b = new Bind9(p, dir, log, port, zone, List.copyOf(keys));
            try {
                b.awaitSoa(Duration.ofSeconds(15));
            } catch (RuntimeException e) {
                String text = b.log();
                b.close();
                if (text.contains("address in use")) {
                    throw new PortTaken("port " + port + " taken");
                }
                throw new IllegalStateException("named did not start: " + e.getMessage() + "\ncommand: " + cmd
                        + "\n--- named log ---\n" + text, e);
            }
            LOG.info("BIND 9 serving {} on 127.0.0.1:{} (pid {}, dir {})", zone, port, p.pid(), dir);
            return b;
        }
    }

    private static final class PortTaken extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTaken(String m) {
            super(m);
        }
    }

    private void awaitSoa(Duration timeout) {
        long until = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException("named exited with status " + process.exitValue());
            }
            try {
                Message m = query(zone, Type.SOA);
                if (m.getRcode() == Rcode.NOERROR && !m.getSection(Section.ANSWER).isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new IllegalStateException("no SOA answer within " + timeout.toMillis() + " ms (last error: " + last + ")");
    }

    /** A direct, non-recursive query to this server. */
    public Message query(String name, int type) throws IOException {
        SimpleResolver r = new SimpleResolver(socketAddress());
        r.setTimeout(Duration.ofSeconds(2));
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), type,
                DClass.IN));
        q.getHeader().unsetFlag(Flags.RD);
        return r.send(q);
    }

    /** The TXT values this server serves at the name (each record's strings joined). */
    public List<String> txt(String name) {
        try {
            List<String> values = new ArrayList<>();
            for (Record r : query(name, Type.TXT).getSection(Section.ANSWER)) {
                if (r instanceof TXTRecord t) {
                    values.add(String.join("", t.getStrings()));
                }
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path requireInstalled() {
        return locate("named").orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
    }

    /** PATH plus the sbin directories, which a non-login PATH may lack. */
    static Optional<Path> locate(String exe) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, exe);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    public int port() {
        return port;
    }

    /** "127.0.0.1:port". */
    public String address() {
        return "127.0.0.1:" + port;
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    public String zone() {
        return zone;
    }

    /** The first key (granted unless configured otherwise). */
    public Key key() {
        return keys.get(0);
    }

    public List<Key> keys() {
        return keys;
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
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
        if (!Boolean.getBoolean("anvil.pebble.keepFiles")) {
            deleteRecursively(dir);
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return "Bind9[" + zone + " at " + address() + "]";
    }
}
