package dev.anvil.acme.http01;

import dev.anvil.acme.testing.Pebble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real nginx (Debian package {@code nginx-light}) serving a webroot on a free loopback port, as
 * a child process with its own configuration: {@code nginx -p <dir> -c <conf> -e <log> -g 'daemon off;'},
 * with pid, logs and temporary paths inside its own temporary directory. Fails (never skips)
 * when nginx is missing.
 */
final class Nginx implements AutoCloseable {

    static final String NOT_INSTALLED = "nginx is not installed: run scripts/install-test-deps.sh"
            + " (or `apt-get install -y nginx-light`)";

    private final Process process;
    private final Path dir;
    private final Path webroot;
    private final int port;

    private Nginx(Process process, Path dir, Path webroot, int port) {
        this.process = process;
        this.dir = dir;
        this.webroot = webroot;
        this.port = port;
    }

    /** Starts nginx serving a new, empty webroot (world-readable, as a web server's document root is). */
    static Nginx start() {
        Path exe = executable();
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return startOnce(exe, Pebble.freeTcpPort());
            } catch (IllegalStateException e) {
                last = e; // typically a port taken between choosing and binding it
            }
        }
        throw last;
    }

    private static Path executable() {
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx")) {
            Path p = Path.of(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(d, "nginx");
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException(NOT_INSTALLED);
    }

    private static Nginx startOnce(Path exe, int port) {
        try {
            Path dir = Files.createTempDirectory("anvil-nginx-");
            // The workers may run as another user (nobody, when the tests run as root): let them traverse.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path webroot = Files.createDirectory(dir.resolve("www"));
            Files.setPosixFilePermissions(webroot, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path conf = dir.resolve("nginx.conf");
            Files.writeString(conf, config(dir, webroot, port), StandardCharsets.UTF_8);
            Path out = dir.resolve("stdout.log");
            Process p = new ProcessBuilder(exe.toString(), "-p", dir + "/", "-c", conf.toString(),
                    "-e", dir.resolve("error.log").toString(), "-g", "daemon off;")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            Nginx nginx = new Nginx(p, dir, webroot, port);
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    String log = nginx.errorLog() + Files.readString(out);
                    nginx.close();
                    throw new IllegalStateException("nginx exited with " + p.exitValue() + ": " + log);
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                    return nginx;
                } catch (IOException notYet) {
                    Thread.sleep(50);
                }
            }
            String log = nginx.errorLog();
            nginx.close();
            throw new IllegalStateException("nginx did not listen on port " + port + " within 10 s: " + log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String config(Path dir, Path webroot, int port) throws IOException {
        boolean root = "root".equals(System.getProperty("user.name"));
        String group = Files.readAllLines(Path.of("/etc/group")).stream().anyMatch(l -> l.startsWith("nogroup:"))
                ? "nogroup" : "nobody";
        return (root ? "user nobody " + group + ";\n" : "")
                + "worker_processes 1;\n"
                + "pid " + dir.resolve("nginx.pid") + ";\n"
                + "error_log " + dir.resolve("error.log") + " info;\n"
                + "events { worker_connections 64; }\n"
                + "http {\n"
                + "  access_log " + dir.resolve("access.log") + ";\n"
                + "  client_body_temp_path " + dir.resolve("client_body") + ";\n"
                + "  proxy_temp_path " + dir.resolve("proxy") + ";\n"
                + "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
                + "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
                + "  scgi_temp_path " + dir.resolve("scgi") + ";\n"
                + "  default_type application/octet-stream;\n"
                + "  server {\n"
                + "    listen 127.0.0.1:" + port + ";\n"
                + "    server_name _;\n"
                + "    root " + webroot + ";\n"
                // What the README recommends: challenge files are extension-less, so say text/plain.
                + "    location /.well-known/acme-challenge/ { default_type text/plain; try_files $uri =404; }\n"
                + "  }\n"
                + "}\n";
    }

    int port() {
        return port;
    }

    Path webroot() {
        return webroot;
    }

    String accessLog() {
        try {
            Path log = dir.resolve("access.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String errorLog() {
        try {
            Path log = dir.resolve("error.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: nginx's fast shutdown, workers included
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
