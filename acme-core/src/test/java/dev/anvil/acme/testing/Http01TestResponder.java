package dev.anvil.acme.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal http-01 challenge responder for core tests, listening on
 * {@code 127.0.0.1:<port>}. Bind it on {@link Pebble#httpPort()}: the mock DNS resolves every
 * name to 127.0.0.1, so Pebble's VA fetches
 * {@code http://<domain>:<httpPort>/.well-known/acme-challenge/<token>} from here.
 *
 * <p>{@code GET} (and {@code HEAD}) of a registered token answers 200 {@code text/plain} with the
 * key authorization; anything else is 404. One request per connection
 * ({@code Connection: close}).
 *
 * <p>This is a tiny HTTP/1.1 server on plain {@link ServerSocket}s rather than
 * {@code com.sun.net.httpserver}: acme-core's tests are compiled patched into module
 * {@code dev.anvil.acme}, which does not read {@code jdk.httpserver}. Thread-safe.
 */
public final class Http01TestResponder implements AutoCloseable {

    /** The path prefix of http-01 challenge resources (RFC 8555 section 8.3). */
    public static final String PREFIX = "/.well-known/acme-challenge/";

    private static final int MAX_HEAD_BYTES = 16 * 1024;

    private final ServerSocket server;
    private final ExecutorService executor;
    private final Thread acceptor;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final List<String> requests = new ArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Http01TestResponder(ServerSocket server) {
        this.server = server;
        int port = server.getLocalPort();
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http01-responder-" + port + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "http01-responder-" + port + "-accept");
        this.acceptor.setDaemon(true);
    }

    /**
     * Starts a responder on {@code 127.0.0.1:port} ({@code 0}: a free port, see {@link #port()}).
     *
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static Http01TestResponder start(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        ServerSocket ss;
        try {
            ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind http-01 responder on 127.0.0.1:" + port, e);
        }
        Http01TestResponder responder = new Http01TestResponder(ss);
        responder.acceptor.start();
        return responder;
    }

    /** The bound port. */
    public int port() {
        return server.getLocalPort();
    }

    /** Serves {@code keyAuthorization} at {@code /.well-known/acme-challenge/<token>}. */
    public void put(String token, String keyAuthorization) {
        tokens.put(Objects.requireNonNull(token, "token"),
                Objects.requireNonNull(keyAuthorization, "keyAuthorization"));
    }

    public void remove(String token) {
        tokens.remove(Objects.requireNonNull(token, "token"));
    }

    /** Removes every token. */
    public void clear() {
        tokens.clear();
    }

    /** The requests so far as {@code "<METHOD> <path>"}, oldest first. */
    public List<String> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** How many requests (any method) asked for {@code token}'s path. */
    public long hits(String token) {
        String suffix = " " + PREFIX + token;
        synchronized (requests) {
            return requests.stream().filter(r -> r.endsWith(suffix)).count();
        }
    }

    private void acceptLoop() {
        while (!closed.get()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                continue;
            }
            open.add(s);
            try {
                executor.execute(() -> serve(s));
            } catch (RejectedExecutionException e) {
                closeQuietly(s);
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            s.setSoTimeout(10_000);
            String head = readHead(in);
            if (head == null) {
                return;
            }
            String[] requestLine = head.split("\r\n", 2)[0].split(" ");
            if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/")) {
                respond(out, 400, "Bad Request", null, false);
                return;
            }
            String method = requestLine[0];
            String path = originPath(requestLine[1]);
            synchronized (requests) {
                requests.add(method + " " + path);
            }
            String value = null;
            if (path.startsWith(PREFIX) && ("GET".equals(method) || "HEAD".equals(method))) {
                value = tokens.get(path.substring(PREFIX.length()));
            }
            if (value == null) {
                respond(out, 404, "Not Found", null, false);
            } else {
                respond(out, 200, "OK", value, "HEAD".equals(method));
            }
        } catch (IOException e) {
            // client went away or timed out: nothing to do
        } finally {
            open.remove(s);
        }
    }

    /** Reads up to the blank line ending the request head (CRLF CRLF, or lenient LF LF); null on early EOF. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int last4 = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            buf.write(b);
            if (buf.size() > MAX_HEAD_BYTES) {
                throw new IOException("request head too large");
            }
            last4 = (last4 << 8) | b;
            if (last4 == 0x0d0a0d0a || (last4 & 0xffff) == 0x0a0a) {
                return buf.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** Origin-form path without query ({@code http://host/p?q} and {@code /p?q} both give {@code /p}). */
    private static String originPath(String target) {
        String t = target;
        int scheme = t.indexOf("://");
        if (scheme >= 0) {
            int slash = t.indexOf('/', scheme + 3);
            t = slash >= 0 ? t.substring(slash) : "/";
        }
        int q = t.indexOf('?');
        return q >= 0 ? t.substring(0, q) : t;
    }

    private static void respond(OutputStream out, int code, String reason, String body, boolean headOnly)
            throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.US_ASCII);
        StringBuilder h = new StringBuilder()
                .append("HTTP/1.1 ").append(code).append(' ').append(reason).append("\r\n")
                .append("Content-Length: ").append(bytes.length).append("\r\n")
                .append("Connection: close\r\n");
        if (body != null) {
            h.append("Content-Type: text/plain\r\n");
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        if (!headOnly) {
            out.write(bytes);
        }
        out.flush();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops listening and closes open connections (idempotent). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        open.forEach(Http01TestResponder::closeQuietly);
        executor.shutdownNow();
        try {
            acceptor.join(5_000);
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Http01TestResponder[127.0.0.1:" + port() + "]";
    }
}
