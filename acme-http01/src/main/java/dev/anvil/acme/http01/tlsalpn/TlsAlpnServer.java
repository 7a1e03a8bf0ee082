package dev.anvil.acme.http01.tlsalpn;

import dev.anvil.acme.http01.ResponderException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone tls-alpn-01 responder: accepts TCP connections on the chosen address, runs each
 * TLS handshake through a {@link TlsAlpnResponder} engine, and closes the connection right
 * after it (RFC 8737: no application data follows). Bounded: a fixed number of threads, a
 * bounded queue (connections beyond it are closed), a deadline per handshake.
 */
public final class TlsAlpnServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TlsAlpnServer.class);

    private final TlsAlpnResponder responder;
    private final ServerSocket server;
    private final ThreadPoolExecutor workers;
    private final long handshakeTimeoutMillis;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TlsAlpnServer(TlsAlpnResponder responder, ServerSocket server, int threads, int queue,
                          Duration handshakeTimeout) {
        this.responder = responder;
        this.server = server;
        this.handshakeTimeoutMillis = handshakeTimeout.toMillis();
        int port = server.getLocalPort();
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue),
                r -> daemon(r, "anvil-tlsalpn-" + port + "-" + n.incrementAndGet()), new ThreadPoolExecutor.AbortPolicy());
        this.workers.allowCoreThreadTimeOut(true);
        this.acceptor = daemon(this::acceptLoop, "anvil-tlsalpn-" + port + "-accept");
    }

    /** Starts a responder with the default limits; port 0 picks a free port. */
    public static TlsAlpnServer start(TlsAlpnResponder responder, InetSocketAddress address) {
        return builder(responder).address(address).start();
    }

    public static Builder builder(TlsAlpnResponder responder) {
        return new Builder(Objects.requireNonNull(responder, "responder"), new InetSocketAddress(443), 4, 64,
                Duration.ofSeconds(10));
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed.get()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!closed.get()) {
                    LOG.warn("tls-alpn-01 responder on {}: accept failed: {}", address(), e.toString());
                }
                continue;
            }
            try {
                open.add(s);
                workers.execute(() -> serve(s));
            } catch (RejectedExecutionException e) {
                LOG.debug("tls-alpn-01 responder busy; dropping connection from {}", s.getRemoteSocketAddress());
                closeQuietly(s);
            }
        }
    }

    private void serve(Socket s) {
        String peer = s.getInetAddress().getHostAddress();
        try {
            s.setTcpNoDelay(true);
            new EngineHandshake(s, responder.createEngine(peer, s.getPort()), handshakeTimeoutMillis).run();
            LOG.debug("tls-alpn-01 handshake with {} done", peer);
        } catch (IOException | RuntimeException e) {
            LOG.debug("tls-alpn-01 handshake with {} failed: {}", peer, e.toString());
        } finally {
            closeQuietly(s);
        }
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
            workers.shutdownNow();
            open.forEach(this::closeQuietly);
            LOG.info("tls-alpn-01 responder on {} stopped", server.getLocalSocketAddress());
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Settings of a {@link TlsAlpnServer}; immutable, each setter returns a new builder. */
    public static final class Builder {
        private final TlsAlpnResponder responder;
        private final InetSocketAddress address;
        private final int threads;
        private final int queue;
        private final Duration handshakeTimeout;

        private Builder(TlsAlpnResponder responder, InetSocketAddress address, int threads, int queue,
                        Duration handshakeTimeout) {
            this.responder = responder;
            this.address = address;
            this.threads = threads;
            this.queue = queue;
            this.handshakeTimeout = handshakeTimeout;
        }

        /** Where to listen (default: port 443 on every interface). */
        public Builder address(InetSocketAddress a) {
            return new Builder(responder, Objects.requireNonNull(a, "address"), threads, queue, handshakeTimeout);
        }

        /** Worker threads (default 4). */
        public Builder threads(int n) {
            if (n < 1 || n > 256) {
                throw new IllegalArgumentException("threads must be 1 to 256: " + n);
            }
            return new Builder(responder, address, n, queue, handshakeTimeout);
        }

        /** Connections waiting for a worker (default 64); beyond that they are closed at once. */
        public Builder queue(int n) {
            if (n < 1 || n > 100_000) {
                throw new IllegalArgumentException("queue must be 1 to 100000: " + n);
            }
            return new Builder(responder, address, threads, n, handshakeTimeout);
        }

        /** Longest a handshake may take (default 10 s). */
        public Builder handshakeTimeout(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("handshakeTimeout must be positive: " + d);
            }
            return new Builder(responder, address, threads, queue, d);
        }

        /** Binds and starts serving. @throws ResponderException if the address cannot be bound */
        public TlsAlpnServer start() {
            ServerSocket ss;
            try {
                ss = new ServerSocket();
                ss.setReuseAddress(true);
                ss.bind(address, 64);
            } catch (IOException e) {
                throw new ResponderException("cannot listen for tls-alpn-01 on " + address + ": " + e.getMessage()
                        + (address.getPort() < 1024 ? " (ports below 1024 need privileges, or forward port 443 to a"
                        + " higher port)" : ""), e);
            }
            TlsAlpnServer s = new TlsAlpnServer(responder, ss, threads, queue, handshakeTimeout);
            s.acceptor.start();
            LOG.info("tls-alpn-01 responder listening on {}", s.address());
            return s;
        }
    }
}
