package dev.anvil.acme.http01;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone http-01 responder on the JDK's built-in {@code HttpServer}: every request on the
 * chosen address goes to the {@link Http01Responder}. Request handling is bounded: a fixed number
 * of threads, a bounded queue (a connection that does not fit is closed), and a time limit per
 * request after which its worker is interrupted, which closes the connection (so a client that
 * sends its request slowly cannot hold a thread). Close it to stop listening.
 */
public final class Http01Server implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Http01Server.class);

    private final HttpServer server;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService watchdog;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Http01Server(HttpServer server, ThreadPoolExecutor workers, ScheduledExecutorService watchdog) {
        this.server = server;
        this.workers = workers;
        this.watchdog = watchdog;
    }

    /** Starts a server with the default limits; port 0 picks a free port (see {@link #port()}). */
    public static Http01Server start(Http01Responder responder, InetSocketAddress address) {
        return builder(responder).address(address).start();
    }

    public static Builder builder(Http01Responder responder) {
        return new Builder(Objects.requireNonNull(responder, "responder"), new InetSocketAddress(80), 4, 64,
                Duration.ofSeconds(10));
    }

    /** The bound address (with the actual port). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
            workers.shutdownNow();
            watchdog.shutdownNow();
            LOG.info("http-01 responder on {} stopped", server.getAddress());
        }
    }

    /** Runs each exchange under a deadline: past it the worker is interrupted, which closes its blocking channel. */
    private static Runnable withDeadline(Runnable task, ScheduledExecutorService watchdog, long timeoutMillis) {
        return () -> {
            Thread worker = Thread.currentThread();
            Object lock = new Object();
            AtomicBoolean running = new AtomicBoolean(true);
            ScheduledFuture<?> timer = watchdog.schedule(() -> {
                synchronized (lock) {
                    if (running.get()) {
                        LOG.debug("http-01 request exceeded {} ms; closing its connection", timeoutMillis);
                        worker.interrupt();
                    }
                }
            }, timeoutMillis, TimeUnit.MILLISECONDS);
            try {
                task.run();
            } finally {
                synchronized (lock) {
                    running.set(false);
                }
                timer.cancel(false);
                Thread.interrupted(); // never hand a pooled thread on with our interrupt pending
            }
        };
    }

    /** Settings of an {@link Http01Server}; immutable, each setter returns a new builder. */
    public static final class Builder {
        private final Http01Responder responder;
        private final InetSocketAddress address;
        private final int threads;
        private final int queue;
        private final Duration requestTimeout;

        private Builder(Http01Responder responder, InetSocketAddress address, int threads, int queue,
                        Duration requestTimeout) {
            this.responder = responder;
            this.address = address;
            this.threads = threads;
            this.queue = queue;
            this.requestTimeout = requestTimeout;
        }

        /** Where to listen (default: port 80 on every interface). */
        public Builder address(InetSocketAddress a) {
            return new Builder(responder, Objects.requireNonNull(a, "address"), threads, queue, requestTimeout);
        }

        /** Worker threads (default 4): a CA sends a handful of requests per challenge. */
        public Builder threads(int n) {
            if (n < 1 || n > 256) {
                throw new IllegalArgumentException("threads must be 1 to 256: " + n);
            }
            return new Builder(responder, address, n, queue, requestTimeout);
        }

        /** Connections waiting for a worker (default 64); beyond that they are closed at once. */
        public Builder queue(int n) {
            if (n < 1 || n > 100_000) {
                throw new IllegalArgumentException("queue must be 1 to 100000: " + n);
            }
            return new Builder(responder, address, threads, n, requestTimeout);
        }

        /** Longest a request may take from its first byte to the response (default 10 s). */
        public Builder requestTimeout(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("requestTimeout must be positive: " + d);
            }
            return new Builder(responder, address, threads, queue, d);
        }

        /** Binds and starts serving. @throws ResponderException if the address cannot be bound */
        public Http01Server start() {
            HttpServer server;
            try {
                server = HttpServer.create(address, 64);
            } catch (IOException e) {
                throw new ResponderException("cannot listen for http-01 on " + address + ": " + e.getMessage()
                        + (address.getPort() < 1024 ? " (ports below 1024 need privileges, or forward port 80 to a"
                        + " higher port)" : ""), e);
            }
            int port = server.getAddress().getPort();
            AtomicInteger n = new AtomicInteger();
            ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r,
                    "anvil-http01-" + port + "-watchdog"));
            long timeoutMillis = requestTimeout.toMillis();
            ThreadPoolExecutor workers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(queue), r -> daemon(r, "anvil-http01-" + port + "-" + n.incrementAndGet()),
                    new ThreadPoolExecutor.AbortPolicy()) {
                @Override
                public void execute(Runnable command) {
                    super.execute(withDeadline(command, watchdog, timeoutMillis));
                }
            };
            workers.allowCoreThreadTimeOut(true);
            server.setExecutor(workers);
            server.createContext("/", new Http01Handler(responder));
            server.start();
            LOG.info("http-01 responder listening on {} ({})", server.getAddress(), responder);
            return new Http01Server(server, workers, watchdog);
        }

        private static Thread daemon(Runnable r, String name) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        }
    }
}
