package dev.anvil.acme.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A scripted, fault-injecting HTTPS reverse proxy for ACME tests: it sits in front of a real
 * {@link Pebble}, forwards every request to Pebble's ACME listener and relays the answer, except
 * where a {@link Rule} says to fail instead (error status, connection reset before or after
 * forwarding, slow answer, malformed JSON, an order held in "processing", a badNonce storm).
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.start(pebble)) {
 *     proxy.on(Match.post(FaultProxy.FINALIZE).times(1), Fault.status(502).retryAfter(Duration.ofSeconds(3)));
 *     proxy.on(Match.post(FaultProxy.NEW_ORDER).nth(2).times(1), Fault.resetAfterForwarding());
 *     proxy.badNonceStorm(3);
 *     AcmeClient ca = AcmeClient.builder(proxy.url()).httpClient(pebble.httpClient()).build();
 *     ...
 *     assertThat(proxy.forwarded("POST", FaultProxy.FINALIZE)).isEqualTo(1);   // Pebble saw one finalize
 * }
 * }</pre>
 *
 * <h2>URLs and the Host header</h2>
 * The proxy forwards the client's {@code Host} header ({@code 127.0.0.1:<proxyPort>}) unchanged.
 * Pebble 2.4 builds every URL it hands out (directory, {@code Location}, {@code Link}, URLs in
 * bodies) from the request's Host and checks the JWS {@code url} against that same
 * Host-based URL, so clients see only proxy URLs, their JWS signed for proxy URLs are accepted,
 * and nothing needs rewriting. (Verified by {@code FaultProxyTest}.)
 *
 * <h2>Rules</h2>
 * {@link #on(Match, Fault)} appends a rule; rules can be added and removed while requests are in
 * flight (thread-safe). Every rule counts the requests its {@link Match} matches from the moment
 * it is installed, independently of the other rules (a request decided by an earlier rule still
 * counts); a rule is <em>active</em> for the {@code nth} to {@code nth+times-1}-th of them. The first active rule (in insertion order) decides what happens to a request; with no
 * active rule the request is passed through. The exception is {@link Fault#holdProcessing()},
 * which depends on the response: it counts only matching pass-through responses whose order
 * status is {@code valid}, and rewrites them.
 *
 * <h2>Connections</h2>
 * A small HTTP/1.1 server on a plain {@link ServerSocket} with TLS layered on each accepted
 * socket (so a reset can be a true TCP RST: {@code SO_LINGER 0} on the raw socket, no TLS
 * close_notify). One request per connection: every response says {@code Connection: close}.
 * That also keeps OkHttp from silently re-sending a request after a reset, which it does on
 * reused (pooled) connections. Request bodies need {@code Content-Length} and are capped at
 * 1 MiB; at most 128 connections at once; all threads are daemons; {@link #close()} stops
 * everything.
 *
 * <p>Synthetic error answers to a POST (an injected status or badNonce) carry a fresh
 * {@code Replay-Nonce} fetched from Pebble ({@code HEAD /nonce-plz}), as a CA's front end that
 * fails after the nonce service would; each such fetch appears in {@link Pebble#requestLog()}
 * as an extra {@code HEAD /nonce-plz}. {@link Fault#nonce(boolean)} turns it off or on.
 */
public final class FaultProxy implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    // Pebble 2.4's ACME paths (prefixes for the per-resource ones).
    public static final String DIRECTORY = "/dir";
    public static final String NEW_NONCE = "/nonce-plz";
    public static final String NEW_ACCOUNT = "/sign-me-up";
    public static final String NEW_ORDER = "/order-plz";
    public static final String REVOKE_CERT = "/revoke-cert";
    public static final String KEY_CHANGE = "/rollover-account-key";
    public static final String ACCOUNT = "/my-account/";
    public static final String AUTHZ = "/authZ/";
    public static final String CHALLENGE = "/chalZ/";
    public static final String FINALIZE = "/finalize-order/";
    public static final String ORDER = "/my-order/";
    public static final String CERT = "/certZ/";

    /** Cap on a request body. */
    public static final int MAX_BODY_BYTES = 1 << 20;
    private static final int MAX_HEAD_BYTES = 32 * 1024;
    private static final int MAX_CONNECTIONS = 128;
    private static final int SOCKET_TIMEOUT_MS = 30_000;
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "content-length", "content-encoding",
            "proxy-authorization", "proxy-authenticate");

    private final ServerSocket server;
    private final SSLSocketFactory tlsFactory;
    private final String upstreamOrigin;
    private final OkHttpClient upstream;
    private final ExecutorService executor;
    private final Thread acceptor;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final Object decisionLock = new Object();
    private final List<Seen> seen = new ArrayList<>(); // guarded by itself
    private final AtomicLong sequence = new AtomicLong();

    private FaultProxy(ServerSocket server, SSLContext serverTls, String upstreamOrigin, OkHttpClient upstreamClient) {
        this.server = server;
        this.tlsFactory = serverTls.getSocketFactory();
        this.upstreamOrigin = upstreamOrigin;
        this.upstream = upstreamClient.newBuilder()
                .protocols(List.of(Protocol.HTTP_1_1))
                .followRedirects(false)
                .followSslRedirects(false)
                .retryOnConnectionFailure(false)
                // A fresh upstream connection per request: no stale pooled connection can fail or
                // be silently retried, so "Pebble saw it exactly once" stays exact.
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                .readTimeout(Duration.ofSeconds(30))
                .callTimeout(Duration.ofSeconds(60))
                .build();
        int port = server.getLocalPort();
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fault-proxy-" + port + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-" + port + "-accept");
        this.acceptor.setDaemon(true);
    }

    /**
     * Starts a proxy on a free {@code 127.0.0.1} port in front of Pebble's ACME listener,
     * presenting Pebble's own listener certificate ({@link Pebble#tls()}, which covers
     * 127.0.0.1), so any client trusting {@link Pebble#httpClient()} trusts the proxy too.
     */
    public static FaultProxy start(Pebble pebble) {
        String dir = pebble.directoryUrl();
        return start(dir.substring(0, dir.indexOf('/', "https://".length())), pebble.httpClient(),
                pebble.tls().serverSslContext());
    }

    /**
     * Starts a proxy for any upstream origin ({@code https://host:port}) reached with
     * {@code upstreamClient}, serving TLS with {@code serverTls}.
     */
    public static FaultProxy start(String upstreamOrigin, OkHttpClient upstreamClient, SSLContext serverTls) {
        Objects.requireNonNull(upstreamOrigin, "upstreamOrigin");
        Objects.requireNonNull(upstreamClient, "upstreamClient");
        Objects.requireNonNull(serverTls, "serverTls");
        ServerSocket ss;
        try {
            ss = new ServerSocket();
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind fault proxy on 127.0.0.1", e);
        }
        FaultProxy proxy = new FaultProxy(ss, serverTls, upstreamOrigin.replaceAll("/+$", ""), upstreamClient);
        proxy.acceptor.start();
        LOG.debug("fault proxy {} -> {}", proxy.origin(), proxy.upstreamOrigin);
        return proxy;
    }

    // =================================================================== addresses

    public int port() {
        return server.getLocalPort();
    }

    /** {@code https://127.0.0.1:<port>}. */
    public String origin() {
        return "https://127.0.0.1:" + port();
    }

    /** The directory URL through the proxy: {@code https://127.0.0.1:<port>/dir}. */
    public String url() {
        return origin() + DIRECTORY;
    }

    /** The origin requests are forwarded to (Pebble's ACME listener). */
    public String upstreamOrigin() {
        return upstreamOrigin;
    }

    // =================================================================== rules

    /** Appends a rule (see the class comment for the order of evaluation). */
    public Rule on(Match match, Fault fault) {
        Rule rule = new Rule(this, Objects.requireNonNull(match, "match"), Objects.requireNonNull(fault, "fault"));
        rules.add(rule);
        return rule;
    }

    /** Answers the next {@code n} POSTs (any path) with 400 badNonce and a fresh valid Replay-Nonce. */
    public Rule badNonceStorm(int n) {
        return on(Match.method("POST").times(n), Fault.badNonce());
    }

    /**
     * Reports the next {@code polls} POST-as-GETs of an order that Pebble says is {@code valid}
     * as {@code processing} (without {@code certificate}), with {@code Retry-After} when
     * {@code retryAfter} is not null.
     */
    public Rule holdProcessing(int polls, Duration retryAfter) {
        Fault f = Fault.holdProcessing();
        return on(Match.post(ORDER).times(polls), retryAfter == null ? f : f.retryAfter(retryAfter));
    }

    /** The rules in evaluation order. */
    public List<Rule> rules() {
        return List.copyOf(rules);
    }

    /** Removes every rule: everything passes through from now on. */
    public void clearRules() {
        rules.clear();
    }

    // =================================================================== what the proxy saw

    /** What the proxy did with a request. */
    public enum Action {
        /** Forwarded and relayed unchanged. */
        PASSED,
        /** Answered with an injected status; not forwarded. */
        RESPONDED,
        /** Answered with an injected badNonce; not forwarded. */
        BAD_NONCE,
        /** Connection reset (TCP RST) after reading the request; not forwarded. */
        RESET_BEFORE,
        /** Forwarded, Pebble answered, then the connection was reset without an answer. */
        RESET_AFTER,
        /** Forwarded, Pebble answered, then the connection was closed cleanly without an answer. */
        CLOSED_AFTER,
        /** Forwarded; the answer was relayed after a delay. */
        DELAYED,
        /** Forwarded; after a delay the connection was reset without an answer. */
        DELAYED_THEN_RESET,
        /** Forwarded; the body was replaced with malformed JSON. */
        MALFORMED_JSON,
        /** Forwarded; a valid order was reported as processing. */
        HELD_PROCESSING,
        /** Forwarding failed; answered 502. */
        UPSTREAM_FAILED,
        /** Unreadable or oversized request; answered 400/411/413, not forwarded. */
        BAD_REQUEST
    }

    /**
     * One request the proxy received.
     *
     * @param seq 1-based arrival order of the decision
     * @param forwarded whether the request reached Pebble
     * @param upstreamStatus Pebble's status, -1 if not forwarded or forwarding failed
     * @param status the status sent to the client, -1 if it got none (reset, closed)
     * @param rule the rule that decided, null for pass-through
     */
    public record Seen(long seq, Instant at, String method, String path, Action action, boolean forwarded,
                       int upstreamStatus, int status, String rule) {

        public boolean is(String m, String pathPrefix) {
            return (m == null || method.equalsIgnoreCase(m)) && (pathPrefix == null || path.startsWith(pathPrefix));
        }

        @Override
        public String toString() {
            return seq + " " + method + " " + path + " -> " + action + (status >= 0 ? " " + status : "")
                    + (forwarded ? " (pebble " + upstreamStatus + ")" : " (not forwarded)")
                    + (rule == null ? "" : " by " + rule);
        }
    }

    /** Every request so far, in order of decision. An entry is added before the client gets the outcome. */
    public List<Seen> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    /** The requests with this method (null: any) whose path starts with {@code pathPrefix} (null: any). */
    public List<Seen> seen(String method, String pathPrefix) {
        return seen().stream().filter(s -> s.is(method, pathPrefix)).toList();
    }

    /** How many such requests the proxy received. */
    public long count(String method, String pathPrefix) {
        return seen(method, pathPrefix).size();
    }

    /** How many such requests reached Pebble. */
    public long forwarded(String method, String pathPrefix) {
        return seen(method, pathPrefix).stream().filter(Seen::forwarded).count();
    }

    /** How many requests were handled with {@code action}. */
    public long count(Action action) {
        return seen().stream().filter(s -> s.action() == action).count();
    }

    public void clearSeen() {
        synchronized (seen) {
            seen.clear();
        }
    }

    private void record(Incoming req, Action action, boolean forwarded, int upstreamStatus, int status, Rule rule) {
        Seen s = new Seen(sequence.incrementAndGet(), Instant.now(), req.method(), req.path(), action, forwarded,
                upstreamStatus, status, rule == null ? null : rule.toString());
        synchronized (seen) {
            seen.add(s);
        }
        LOG.debug("fault proxy {}: {}", port(), s);
    }

    // =================================================================== Match

    /** A request as the proxy received it. {@code path} has no query. */
    public record Incoming(String method, String path, String query, List<String[]> headers, byte[] body) {

        /** The first value of a header (case-insensitive name), or null. */
        public String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        /** Whether this is a JWS POST with an empty payload (RFC 8555 section 6.3). */
        public boolean isPostAsGet() {
            if (!"POST".equals(method) || body.length == 0) {
                return false;
            }
            try {
                JsonNode payload = MAPPER.readTree(body).get("payload");
                return payload != null && payload.isTextual() && payload.asText().isEmpty();
            } catch (IOException e) {
                return false;
            }
        }
    }

    /**
     * Which requests a rule applies to: method, path prefix, an optional predicate, and the
     * occurrence window ({@code nth}, {@code times}; default every matching request).
     * Immutable; every method returns a new Match.
     */
    public static final class Match {
        private final String method;
        private final String pathPrefix;
        private final boolean postAsGet;
        private final Predicate<Incoming> predicate;
        private final String predicateName;
        private final int nth;
        private final int times; // -1: unlimited

        private Match(String method, String pathPrefix, boolean postAsGet, Predicate<Incoming> predicate,
                String predicateName, int nth, int times) {
            this.method = method;
            this.pathPrefix = pathPrefix;
            this.postAsGet = postAsGet;
            this.predicate = predicate;
            this.predicateName = predicateName;
            this.nth = nth;
            this.times = times;
        }

        /** Every request. */
        public static Match any() {
            return new Match(null, null, false, null, null, 1, -1);
        }

        public static Match method(String method) {
            return any().withMethod(method);
        }

        public static Match pathStartsWith(String prefix) {
            return any().withPathPrefix(prefix);
        }

        public static Match get(String pathPrefix) {
            return method("GET").withPathPrefix(pathPrefix);
        }

        public static Match head(String pathPrefix) {
            return method("HEAD").withPathPrefix(pathPrefix);
        }

        public static Match post(String pathPrefix) {
            return method("POST").withPathPrefix(pathPrefix);
        }

        public Match withMethod(String m) {
            return new Match(Objects.requireNonNull(m, "method").toUpperCase(Locale.ROOT), pathPrefix, postAsGet,
                    predicate, predicateName, nth, times);
        }

        public Match withPathPrefix(String prefix) {
            return new Match(method, Objects.requireNonNull(prefix, "prefix"), postAsGet, predicate, predicateName,
                    nth, times);
        }

        /** Only JWS POSTs with an empty payload (POST-as-GET). */
        public Match postAsGet() {
            return new Match("POST", pathPrefix, true, predicate, predicateName, nth, times);
        }

        /** Also requires {@code test} (named {@code name} in {@link Seen#rule()}). */
        public Match where(String name, Predicate<Incoming> test) {
            Predicate<Incoming> combined = predicate == null ? test : predicate.and(test);
            return new Match(method, pathPrefix, postAsGet, Objects.requireNonNull(combined),
                    predicateName == null ? name : predicateName + "&" + name, nth, times);
        }

        /** Starts at the {@code n}-th matching request (1-based; default 1). */
        public Match nth(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("nth is 1-based: " + n);
            }
            return new Match(method, pathPrefix, postAsGet, predicate, predicateName, n, times);
        }

        /** Applies to {@code k} matching requests from the {@code nth} on (default: all of them). */
        public Match times(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("times must be positive: " + k);
            }
            return new Match(method, pathPrefix, postAsGet, predicate, predicateName, nth, k);
        }

        /** Applies to every matching request from the {@code nth} on (the default). */
        public Match always() {
            return new Match(method, pathPrefix, postAsGet, predicate, predicateName, nth, -1);
        }

        boolean matches(Incoming r) {
            return (method == null || method.equals(r.method()))
                    && (pathPrefix == null || r.path().startsWith(pathPrefix))
                    && (!postAsGet || r.isPostAsGet())
                    && (predicate == null || predicate.test(r));
        }

        boolean inWindow(long occurrence) {
            return occurrence >= nth && (times < 0 || occurrence < (long) nth + times);
        }

        boolean exhausted(long occurrences) {
            return times >= 0 && occurrences >= (long) nth + times - 1;
        }

        @Override
        public String toString() {
            return (method == null ? "*" : method) + " " + (pathPrefix == null ? "*" : pathPrefix + "*")
                    + (postAsGet ? " post-as-get" : "") + (predicateName == null ? "" : " where " + predicateName)
                    + (nth == 1 && times < 0 ? "" : " #" + nth + (times < 0 ? "+" : times == 1 ? "" : "x" + times));
        }
    }

    // =================================================================== Fault

    /**
     * What to do with a request. Immutable: the {@code with*}-style methods return a new Fault.
     * Factories: {@link #passThrough()}, {@link #status(int)}, {@link #badNonce()},
     * {@link #resetBeforeForwarding()}, {@link #resetAfterForwarding()},
     * {@link #closeAfterForwarding()}, {@link #delay(Duration)}, {@link #malformedJson()},
     * {@link #holdProcessing()}.
     */
    public static final class Fault {
        enum Kind { PASS, RESPOND, BAD_NONCE, RESET_BEFORE, RESET_AFTER, CLOSE_AFTER, DELAY, MALFORMED_JSON, HOLD }

        private final Kind kind;
        private final int status;
        private final String retryAfter;     // raw header value or null
        private final String contentType;    // null: no body
        private final String body;
        private final Boolean nonce;         // null: on POSTs
        private final Duration delay;
        private final boolean dropAfterDelay;

        private Fault(Kind kind, int status, String retryAfter, String contentType, String body, Boolean nonce,
                Duration delay, boolean dropAfterDelay) {
            this.kind = kind;
            this.status = status;
            this.retryAfter = retryAfter;
            this.contentType = contentType;
            this.body = body;
            this.nonce = nonce;
            this.delay = delay;
            this.dropAfterDelay = dropAfterDelay;
        }

        private static Fault of(Kind kind) {
            return new Fault(kind, 0, null, null, null, null, null, false);
        }

        /** Forward and relay unchanged (to shield requests from a later, broader rule). */
        public static Fault passThrough() {
            return of(Kind.PASS);
        }

        /**
         * Answer {@code status} without forwarding. Default body: a small HTML error page, as a
         * load balancer would send; replace it with {@link #problem}, {@link #html}, {@link #body}
         * or {@link #noBody}. On a POST the answer carries a fresh Replay-Nonce from Pebble.
         */
        public static Fault status(int status) {
            if (status < 200 || status > 599) {
                throw new IllegalArgumentException("status out of range: " + status);
            }
            String html = "<html><head><title>" + status + " " + reason(status) + "</title></head><body><h1>"
                    + status + " " + reason(status) + "</h1><hr>fault-proxy</body></html>\n";
            return new Fault(Kind.RESPOND, status, null, "text/html", html, null, null, false);
        }

        /**
         * 400 {@code application/problem+json} badNonce with a fresh valid Replay-Nonce (always, also
         * on non-POSTs), without forwarding.
         */
        public static Fault badNonce() {
            String doc = "{\"type\":\"urn:ietf:params:acme:error:badNonce\","
                    + "\"detail\":\"JWS has an invalid anti-replay nonce (injected by fault proxy)\",\"status\":400}";
            return new Fault(Kind.BAD_NONCE, 400, null, "application/problem+json", doc, true, null, false);
        }

        /** Read the request, then reset the connection (TCP RST); Pebble never sees the request. */
        public static Fault resetBeforeForwarding() {
            return of(Kind.RESET_BEFORE);
        }

        /** Forward, wait for Pebble's complete answer, then reset the connection (TCP RST) instead of answering. */
        public static Fault resetAfterForwarding() {
            return of(Kind.RESET_AFTER);
        }

        /** Forward, wait for Pebble's answer, then close the connection cleanly (TLS close_notify, FIN) unanswered. */
        public static Fault closeAfterForwarding() {
            return of(Kind.CLOSE_AFTER);
        }

        /**
         * Forward, then hold Pebble's answer for {@code delay} before relaying it (or, with
         * {@link #thenDrop()}, resetting the connection). Longer than the client's read timeout,
         * this makes the client time out although Pebble acted.
         */
        public static Fault delay(Duration delay) {
            if (delay.isNegative()) {
                throw new IllegalArgumentException("negative delay");
            }
            return new Fault(Kind.DELAY, 0, null, null, null, null, delay, false);
        }

        /** Forward, then replace the body with truncated JSON, keeping status and headers (content type too). */
        public static Fault malformedJson() {
            return malformedJson("{\"status\": \"valid\", \"identifiers\": [{\"type\": \"dns\", \"val");
        }

        /** Forward, then replace the body with {@code junk}, keeping status and headers. */
        public static Fault malformedJson(String junk) {
            return new Fault(Kind.MALFORMED_JSON, 0, null, null, Objects.requireNonNull(junk), null, null, false);
        }

        /**
         * For a pass-through order response whose status is {@code valid}: report
         * {@code "processing"} and drop {@code certificate}. Counts (for nth/times) only such
         * responses. Use with {@code Match.post(FaultProxy.ORDER)}.
         */
        public static Fault holdProcessing() {
            return of(Kind.HOLD);
        }

        /** {@code Retry-After: <seconds>} on an injected answer or a held order. */
        public Fault retryAfter(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("negative Retry-After");
            }
            return retryAfterHeader(Long.toString(d.toSeconds()));
        }

        /** {@code Retry-After: <HTTP-date>}. */
        public Fault retryAfter(Instant at) {
            return retryAfterHeader(HTTP_DATE.format(at));
        }

        /** {@code Retry-After} verbatim (e.g. garbage, to test lenient parsing). */
        public Fault retryAfterHeader(String raw) {
            requireKind("Retry-After", Kind.RESPOND, Kind.BAD_NONCE, Kind.HOLD);
            return new Fault(kind, status, Objects.requireNonNull(raw), contentType, body, nonce, delay,
                    dropAfterDelay);
        }

        /** An RFC 7807 body {@code {"type":"urn:ietf:params:acme:error:<acmeType>","detail":...,"status":...}}. */
        public Fault problem(String acmeType, String detail) {
            ObjectNode doc = MAPPER.createObjectNode();
            doc.put("type", acmeType.contains(":") ? acmeType : "urn:ietf:params:acme:error:" + acmeType);
            doc.put("detail", detail);
            doc.put("status", status);
            return body("application/problem+json", doc.toString());
        }

        public Fault html(String html) {
            return body("text/html; charset=utf-8", html);
        }

        public Fault body(String type, String text) {
            requireKind("a body", Kind.RESPOND, Kind.BAD_NONCE);
            return new Fault(kind, status, retryAfter, Objects.requireNonNull(type), Objects.requireNonNull(text),
                    nonce, delay, dropAfterDelay);
        }

        public Fault noBody() {
            requireKind("a body", Kind.RESPOND, Kind.BAD_NONCE);
            return new Fault(kind, status, retryAfter, null, null, nonce, delay, dropAfterDelay);
        }

        /** Whether an injected answer carries a fresh Replay-Nonce from Pebble (default: on POSTs). */
        public Fault nonce(boolean include) {
            requireKind("a nonce", Kind.RESPOND, Kind.BAD_NONCE);
            return new Fault(kind, status, retryAfter, contentType, body, include, delay, dropAfterDelay);
        }

        /** After the delay, reset the connection instead of answering. */
        public Fault thenDrop() {
            requireKind("thenDrop", Kind.DELAY);
            return new Fault(kind, status, retryAfter, contentType, body, nonce, delay, true);
        }

        private void requireKind(String what, Kind... allowed) {
            for (Kind k : allowed) {
                if (k == kind) {
                    return;
                }
            }
            throw new IllegalStateException(what + " does not apply to " + this);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case PASS -> "pass";
                case RESPOND -> "respond " + status + (retryAfter == null ? "" : " retry-after " + retryAfter);
                case BAD_NONCE -> "badNonce";
                case RESET_BEFORE -> "reset-before";
                case RESET_AFTER -> "reset-after";
                case CLOSE_AFTER -> "close-after";
                case DELAY -> "delay " + delay.toMillis() + "ms" + (dropAfterDelay ? " then reset" : "");
                case MALFORMED_JSON -> "malformed-json";
                case HOLD -> "hold-processing" + (retryAfter == null ? "" : " retry-after " + retryAfter);
            };
        }
    }

    // =================================================================== Rule

    /** An installed rule: a Match, a Fault, and its counters. */
    public static final class Rule {
        private final FaultProxy proxy;
        private final Match match;
        private final Fault fault;
        private long matched; // guarded by proxy.decisionLock
        private long hits;    // guarded by proxy.decisionLock

        private Rule(FaultProxy proxy, Match match, Fault fault) {
            this.proxy = proxy;
            this.match = match;
            this.fault = fault;
        }

        public Match match() {
            return match;
        }

        public Fault fault() {
            return fault;
        }

        /** Requests (for holdProcessing: valid-order responses) this rule's Match counted. */
        public long matched() {
            synchronized (proxy.decisionLock) {
                return matched;
            }
        }

        /** How often the fault was applied. */
        public long hits() {
            synchronized (proxy.decisionLock) {
                return hits;
            }
        }

        /** Whether the occurrence window has passed (never for an unlimited rule). */
        public boolean exhausted() {
            synchronized (proxy.decisionLock) {
                return match.exhausted(matched);
            }
        }

        /** Uninstalls this rule. */
        public void remove() {
            proxy.rules.remove(this);
        }

        /** Counts one more matching occurrence; true if it is in the window. Caller holds decisionLock. */
        private boolean count() {
            matched++;
            return match.inWindow(matched);
        }

        @Override
        public String toString() {
            return "[" + match + " => " + fault + "]";
        }
    }

    // =================================================================== serving

    private void acceptLoop() {
        while (!closed.get()) {
            Socket raw;
            try {
                raw = server.accept();
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                reset(raw);
                continue;
            }
            open.add(raw);
            try {
                executor.execute(() -> {
                    try {
                        serve(raw);
                    } finally {
                        open.remove(raw);
                        slots.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                open.remove(raw);
                slots.release();
                reset(raw);
            }
        }
    }

    private void serve(Socket raw) {
        SSLSocket tls = null;
        try {
            raw.setSoTimeout(SOCKET_TIMEOUT_MS);
            raw.setTcpNoDelay(true);
            tls = (SSLSocket) tlsFactory.createSocket(raw, null, true); // server mode, layered
            tls.startHandshake();
            InputStream in = tls.getInputStream();
            OutputStream out = tls.getOutputStream();
            Incoming req;
            try {
                req = readRequest(in);
            } catch (BadRequest e) {
                record(new Incoming("?", "?", null, List.of(), new byte[0]), Action.BAD_REQUEST, false, -1,
                        e.status, null);
                writeResponse(out, e.status, List.of(), "text/plain", e.getMessage().getBytes(StandardCharsets.UTF_8),
                        false);
                return;
            }
            if (req == null) {
                return; // connection opened and closed without a request
            }
            handle(req, raw, tls, out);
        } catch (IOException e) {
            LOG.debug("fault proxy {}: connection ended: {}", port(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("fault proxy {}: internal error", port(), e);
        } finally {
            closeQuietly(tls != null ? tls : raw);
            closeQuietly(raw);
        }
    }

    private void handle(Incoming req, Socket raw, SSLSocket tls, OutputStream out)
            throws IOException, InterruptedException {
        Rule rule = decide(req);
        Fault fault = rule == null ? Fault.passThrough() : rule.fault;
        boolean head = "HEAD".equals(req.method());
        switch (fault.kind) {
            case RESPOND, BAD_NONCE -> {
                List<String[]> headers = new ArrayList<>();
                boolean withNonce = fault.nonce != null ? fault.nonce : "POST".equals(req.method());
                if (withNonce) {
                    String nonce = freshNonce(req);
                    if (nonce != null) {
                        headers.add(new String[] {"Replay-Nonce", nonce});
                    }
                }
                if (fault.retryAfter != null) {
                    headers.add(new String[] {"Retry-After", fault.retryAfter});
                }
                headers.add(new String[] {"Cache-Control", "no-store"});
                record(req, fault.kind == Fault.Kind.BAD_NONCE ? Action.BAD_NONCE : Action.RESPONDED, false, -1,
                        fault.status, rule);
                writeResponse(out, fault.status, headers, fault.contentType,
                        fault.body == null ? new byte[0] : fault.body.getBytes(StandardCharsets.UTF_8), head);
                return;
            }
            case RESET_BEFORE -> {
                record(req, Action.RESET_BEFORE, false, -1, -1, rule);
                reset(raw);
                return;
            }
            default -> {
                // forwarded below
            }
        }

        Upstream up;
        try {
            up = forward(req);
        } catch (IOException e) {
            LOG.debug("fault proxy {}: forwarding {} {} failed: {}", port(), req.method(), req.path(), e.toString());
            record(req, Action.UPSTREAM_FAILED, true, -1, 502, rule);
            writeResponse(out, 502, List.of(), "text/plain",
                    ("fault proxy: upstream failed: " + e).getBytes(StandardCharsets.UTF_8), head);
            return;
        }

        switch (fault.kind) {
            case RESET_AFTER -> {
                record(req, Action.RESET_AFTER, true, up.status, -1, rule);
                reset(raw);
            }
            case CLOSE_AFTER -> {
                record(req, Action.CLOSED_AFTER, true, up.status, -1, rule);
                tls.close();
            }
            case DELAY -> {
                record(req, fault.dropAfterDelay ? Action.DELAYED_THEN_RESET : Action.DELAYED, true, up.status,
                        fault.dropAfterDelay ? -1 : up.status, rule);
                Thread.sleep(fault.delay.toMillis());
                if (fault.dropAfterDelay) {
                    reset(raw);
                } else {
                    writeResponse(out, up.status, up.headers, up.contentType, up.body, head);
                }
            }
            case MALFORMED_JSON -> {
                record(req, Action.MALFORMED_JSON, true, up.status, up.status, rule);
                writeResponse(out, up.status, up.headers, up.contentType,
                        fault.body.getBytes(StandardCharsets.UTF_8), head);
            }
            default -> { // PASS: response-dependent rules may still apply
                Rule hold = decideHold(req, up);
                if (hold == null) {
                    record(req, Action.PASSED, true, up.status, up.status, rule);
                    writeResponse(out, up.status, up.headers, up.contentType, up.body, head);
                } else {
                    ObjectNode order = (ObjectNode) MAPPER.readTree(up.body);
                    order.put("status", "processing");
                    order.remove("certificate");
                    List<String[]> headers = new ArrayList<>();
                    for (String[] h : up.headers) {
                        if (!h[0].equalsIgnoreCase("Retry-After")) {
                            headers.add(h);
                        }
                    }
                    if (hold.fault.retryAfter != null) {
                        headers.add(new String[] {"Retry-After", hold.fault.retryAfter});
                    }
                    record(req, Action.HELD_PROCESSING, true, up.status, up.status, hold);
                    writeResponse(out, up.status, headers, up.contentType,
                            MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(order), head);
                }
            }
        }
    }

    /**
     * The first active request-phase rule, or null. Every matching rule counts the request, so a
     * rule's occurrence numbers do not depend on the rules before it.
     */
    private Rule decide(Incoming req) {
        synchronized (decisionLock) {
            Rule winner = null;
            for (Rule r : rules) {
                if (r.fault.kind != Fault.Kind.HOLD && r.match.matches(req) && r.count() && winner == null) {
                    winner = r;
                }
            }
            if (winner != null) {
                winner.hits++;
            }
            return winner;
        }
    }

    /** The first active holdProcessing rule for a pass-through response of a valid order, or null. */
    private Rule decideHold(Incoming req, Upstream up) {
        if (up.status != 200 || !up.contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return null;
        }
        boolean any = false;
        for (Rule r : rules) {
            if (r.fault.kind == Fault.Kind.HOLD && r.match.matches(req)) {
                any = true;
                break;
            }
        }
        if (!any) {
            return null;
        }
        JsonNode doc;
        try {
            doc = MAPPER.readTree(up.body);
        } catch (IOException e) {
            return null;
        }
        if (!(doc instanceof ObjectNode) || !"valid".equals(doc.path("status").asText())) {
            return null;
        }
        synchronized (decisionLock) {
            Rule winner = null;
            for (Rule r : rules) {
                if (r.fault.kind == Fault.Kind.HOLD && r.match.matches(req) && r.count() && winner == null) {
                    winner = r;
                }
            }
            if (winner != null) {
                winner.hits++;
            }
            return winner;
        }
    }

    // =================================================================== upstream

    private record Upstream(int status, List<String[]> headers, String contentType, byte[] body) {
    }

    private Upstream forward(Incoming req) throws IOException {
        Request.Builder b = new Request.Builder().url(upstreamOrigin + req.path()
                + (req.query() == null ? "" : "?" + req.query()));
        String host = null;
        for (String[] h : req.headers()) {
            String name = h[0].toLowerCase(Locale.ROOT);
            if (name.equals("host")) {
                host = h[1];
            } else if (!HOP_BY_HOP.contains(name) && !name.equals("accept-encoding") && !name.equals("content-type")) {
                b.addHeader(h[0], h[1]);
            }
        }
        // Pebble derives its URLs (and the URL it checks the JWS "url" against) from Host.
        b.header("Host", host != null ? host : "127.0.0.1:" + port());
        String ct = req.header("Content-Type");
        RequestBody body = null;
        if (!"GET".equals(req.method()) && !"HEAD".equals(req.method())) {
            body = RequestBody.create(req.body(), ct == null ? null : MediaType.parse(ct));
        }
        b.method(req.method(), body);
        try (Response r = upstream.newCall(b.build()).execute()) {
            byte[] bytes = r.body().bytes();
            List<String[]> headers = new ArrayList<>();
            String contentType = "";
            for (int i = 0; i < r.headers().size(); i++) {
                String name = r.headers().name(i);
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("content-type")) {
                    contentType = r.headers().value(i);
                } else if (!HOP_BY_HOP.contains(lower)) {
                    headers.add(new String[] {name, r.headers().value(i)});
                }
            }
            return new Upstream(r.code(), headers, contentType, bytes);
        }
    }

    /** A fresh nonce from Pebble for an injected answer, or null if Pebble does not give one. */
    private String freshNonce(Incoming req) {
        String host = req.header("Host");
        Request r = new Request.Builder().url(upstreamOrigin + NEW_NONCE).head()
                .header("Host", host != null ? host : "127.0.0.1:" + port()).build();
        try (Response resp = upstream.newCall(r).execute()) {
            return resp.header("Replay-Nonce");
        } catch (IOException e) {
            LOG.debug("fault proxy {}: cannot fetch a nonce: {}", port(), e.toString());
            return null;
        }
    }

    // =================================================================== HTTP/1.1 wire

    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** Reads one request; null on EOF before any byte. */
    private static Incoming readRequest(InputStream in) throws IOException, BadRequest {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int last4 = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (buf.size() == 0) {
                    return null;
                }
                throw new IOException("EOF inside request head");
            }
            buf.write(b);
            if (buf.size() > MAX_HEAD_BYTES) {
                throw new BadRequest(431, "request head too large");
            }
            last4 = (last4 << 8) | b;
            if (last4 == 0x0d0a0d0a || (last4 & 0xffff) == 0x0a0a) {
                break;
            }
        }
        String[] lines = buf.toString(StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            throw new BadRequest(400, "bad request line");
        }
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                throw new BadRequest(400, "bad header line");
            }
            headers.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
        }
        String target = requestLine[1];
        int scheme = target.indexOf("://");
        if (scheme >= 0) {
            int slash = target.indexOf('/', scheme + 3);
            target = slash >= 0 ? target.substring(slash) : "/";
        }
        int q = target.indexOf('?');
        String path = q >= 0 ? target.substring(0, q) : target;
        String query = q >= 0 ? target.substring(q + 1) : null;
        Incoming head = new Incoming(requestLine[0], path, query, List.copyOf(headers), new byte[0]);
        String te = head.header("Transfer-Encoding");
        if (te != null && !te.equalsIgnoreCase("identity")) {
            throw new BadRequest(411, "chunked request bodies are not supported; send Content-Length");
        }
        String cl = head.header("Content-Length");
        int length = 0;
        if (cl != null) {
            try {
                length = Integer.parseInt(cl.trim());
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "bad Content-Length");
            }
            if (length < 0) {
                throw new BadRequest(400, "bad Content-Length");
            }
            if (length > MAX_BODY_BYTES) {
                throw new BadRequest(413, "request body larger than " + MAX_BODY_BYTES + " bytes");
            }
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("EOF inside request body");
        }
        return new Incoming(head.method(), path, query, head.headers(), body);
    }

    private static void writeResponse(OutputStream out, int status, List<String[]> headers, String contentType,
            byte[] body, boolean headOnly) throws IOException {
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status))
                .append("\r\n");
        for (String[] header : headers) {
            h.append(header[0]).append(": ").append(header[1]).append("\r\n");
        }
        if (contentType != null && !contentType.isEmpty()) {
            h.append("Content-Type: ").append(contentType).append("\r\n");
        }
        h.append("Content-Length: ").append(headOnly ? 0 : body.length).append("\r\n");
        h.append("Connection: close\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!headOnly) {
            out.write(body);
        }
        out.flush();
    }

    private static final Map<Integer, String> REASONS = Map.ofEntries(
            Map.entry(200, "OK"), Map.entry(201, "Created"), Map.entry(204, "No Content"),
            Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"), Map.entry(403, "Forbidden"),
            Map.entry(404, "Not Found"), Map.entry(405, "Method Not Allowed"), Map.entry(409, "Conflict"),
            Map.entry(411, "Length Required"), Map.entry(413, "Content Too Large"),
            Map.entry(429, "Too Many Requests"), Map.entry(431, "Request Header Fields Too Large"),
            Map.entry(500, "Internal Server Error"), Map.entry(502, "Bad Gateway"),
            Map.entry(503, "Service Unavailable"), Map.entry(504, "Gateway Timeout"));

    static String reason(int status) {
        return REASONS.getOrDefault(status, "Status " + status);
    }

    /** A true TCP reset: SO_LINGER 0 on the raw socket, closed without a TLS close_notify. */
    private static void reset(Socket raw) {
        try {
            raw.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(raw);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops listening, resets open connections, interrupts workers (idempotent). */
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
        open.forEach(FaultProxy::reset);
        executor.shutdownNow();
        try {
            acceptor.join(5_000);
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public String toString() {
        return "FaultProxy[" + origin() + " -> " + upstreamOrigin + ", " + rules.size() + " rules]";
    }
}
