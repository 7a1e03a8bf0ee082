package dev.anvil.acme.http01;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The http-01 responder as a plain function: request method and path in, {@link Http01Response}
 * out (RFC 8555 section 8.3). Any server can call {@link #respond}; {@link Http01Server},
 * {@link Http01Handler} and {@link Http01Filter} are ready adapters. Thread-safe.
 *
 * <h2>What it serves for {@code GET /.well-known/acme-challenge/<token>}</h2>
 * <ol>
 *   <li>A token that is not base64url (traversal, {@code /}, {@code \}, empty, oversized): 400,
 *       and nothing is looked up.</li>
 *   <li>A token registered by a solver ({@link #register}, or {@link #solver()} while an
 *       issuance runs): its key authorization, until the solver's cleanUp.</li>
 *   <li>Stateless mode only: any other well-formed token is answered with
 *       {@code <token>.<primary thumbprint>}, the first of the {@link ThumbprintSource}.</li>
 *   <li>Otherwise 404.</li>
 * </ol>
 * Other paths answer 404; methods other than GET and HEAD answer 405.
 *
 * <h2>Stateless mode and several accounts</h2>
 * A token does not say which account it belongs to, so with several thumbprints configured a
 * responder cannot know which one the CA expects. The rule: while an issuance runs in this
 * process, its solver registers each token with that account's thumbprint (only if the
 * thumbprint is configured, so this process answers exactly as its stateless peers would),
 * and that is what is served; for any other token the primary thumbprint is served. So a
 * process that runs the engine answers every configured account correctly, across a CA switch
 * or failover. A responder that never sees the registrations (another node behind the same
 * name, an nginx rule) can only answer for the primary account: give every CA the same account
 * key (one thumbprint) or route {@code /.well-known/acme-challenge/} to the engine's process.
 */
public final class Http01Responder {

    private static final Logger LOG = LoggerFactory.getLogger(Http01Responder.class);

    /** The path prefix of http-01 resources (RFC 8555 section 8.3). */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

    private static final int RECENT = 256;

    private final ThumbprintSource thumbprints; // null: stateful only
    private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    /** What was served for recently released tokens, so a diagnosis after cleanUp still knows. Bounded. */
    private final Map<String, Served> recent = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Served> eldest) {
            return size() > RECENT;
        }
    };
    private final Http01Solver solver;

    /** A token a solver presented: its key authorization (null when only watched) and how many presents hold it. */
    private record Tracked(String keyAuthorization, int refs) {
    }

    /** The last answer given for a tracked token, for diagnosing a failed validation. */
    record Served(int status, String body, String remote, Instant at, int count) {
    }

    private Http01Responder(ThumbprintSource thumbprints) {
        this.thumbprints = thumbprints;
        this.solver = new Http01Solver(this);
    }

    /** Answers only tokens registered by a solver (or {@link #register}). */
    public static Http01Responder stateful() {
        return new Http01Responder(null);
    }

    /** Answers {@code <token>.<thumbprint>} for any well-formed token; registered tokens first. */
    public static Http01Responder stateless(ThumbprintSource thumbprints) {
        return new Http01Responder(Objects.requireNonNull(thumbprints, "thumbprints"));
    }

    /** As {@link #stateless(ThumbprintSource)} with fixed thumbprints, primary first. */
    public static Http01Responder stateless(String... thumbprints) {
        return stateless(ThumbprintSource.of(thumbprints));
    }

    /** The solver that registers challenges here for the issuance engine. */
    public Http01Solver solver() {
        return solver;
    }

    public boolean isStateless() {
        return thumbprints != null;
    }

    ThumbprintSource thumbprintSource() {
        return thumbprints == null ? List::of : thumbprints;
    }

    /** The configured thumbprints, primary first; empty in stateful mode. */
    public List<String> thumbprints() {
        return thumbprints == null ? List.of() : thumbprints.thumbprints();
    }

    /** Whether the path (without query) is under {@value #PATH_PREFIX}: the requests this responder owns. */
    public static boolean isChallengePath(String path) {
        return path != null && path.startsWith(PATH_PREFIX);
    }

    /** As {@link #respond(String, String, String)} without a remote address. */
    public Http01Response respond(String method, String path) {
        return respond(method, path, null);
    }

    /**
     * Answers one request. {@code path} is the raw (not percent-decoded) request path; a query
     * string is ignored. {@code remote} is only recorded for diagnostics and may be null.
     */
    public Http01Response respond(String method, String path, String remote) {
        String p = path == null ? "" : path;
        int q = p.indexOf('?');
        if (q >= 0) {
            p = p.substring(0, q);
        }
        boolean head = "HEAD".equals(method);
        if (!isChallengePath(p)) {
            return new Http01Response(404, "not found\n", !head);
        }
        if (!head && !"GET".equals(method)) {
            return new Http01Response(405, "only GET and HEAD are allowed\n", true);
        }
        String token = p.substring(PATH_PREFIX.length());
        if (!ChallengeTokens.isValid(token)) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("http-01: refused malformed token '{}' from {}", ChallengeTokens.printable(token), remote);
            }
            return new Http01Response(400, "invalid ACME challenge token: must be 1 to " + ChallengeTokens.MAX_LENGTH
                    + " base64url characters\n", !head);
        }
        Optional<String> keyAuthorization = lookup(token);
        Http01Response response = keyAuthorization.map(k -> new Http01Response(200, k, !head))
                .orElseGet(() -> new Http01Response(404, "no ACME challenge for this token\n", !head));
        record(token, response, remote);
        return response;
    }

    /** The key authorization a GET for this token would be answered with now, if any. */
    public Optional<String> keyAuthorization(String token) {
        return lookup(ChallengeTokens.requireValid(token));
    }

    private Optional<String> lookup(String token) {
        Tracked t = tracked.get(token);
        if (t != null && t.keyAuthorization() != null) {
            return Optional.of(t.keyAuthorization());
        }
        if (thumbprints != null) {
            List<String> list = thumbprints.thumbprints();
            if (!list.isEmpty()) {
                return Optional.of(token + "." + list.get(0));
            }
        }
        return Optional.empty();
    }

    /**
     * Serves {@code keyAuthorization} for {@code token} until a matching {@link #unregister}.
     * Registrations are counted: two orders presenting the same challenge each unregister once.
     *
     * @throws InvalidTokenException if the token is not base64url
     * @throws IllegalArgumentException if the key authorization is not {@code <token>.<thumbprint>}
     */
    public void register(String token, String keyAuthorization) {
        ChallengeTokens.requireValid(token);
        Objects.requireNonNull(keyAuthorization, "keyAuthorization");
        if (!keyAuthorization.startsWith(token + ".")
                || !Thumbprints.isValid(keyAuthorization.substring(token.length() + 1))) {
            throw new IllegalArgumentException("key authorization for token " + token
                    + " must be '<token>.<43-character thumbprint>'");
        }
        track(token, keyAuthorization);
    }

    /** Undoes one {@link #register} (or one watch by the solver); unknown tokens are ignored. */
    public void unregister(String token) {
        if (!ChallengeTokens.isValid(token)) {
            return; // never registered: register refuses such tokens
        }
        tracked.computeIfPresent(token, (k, t) -> {
            if (t.refs() > 1) {
                return new Tracked(t.keyAuthorization(), t.refs() - 1);
            }
            Served last = served.remove(token);
            if (last != null) {
                synchronized (recent) {
                    recent.put(token, last);
                }
            }
            return null;
        });
    }

    /** Records what is served for a token without registering an answer (stateless mode, unconfigured account). */
    void watch(String token) {
        track(ChallengeTokens.requireValid(token), null);
    }

    private void track(String token, String keyAuthorization) {
        tracked.compute(token, (k, t) -> t == null ? new Tracked(keyAuthorization, 1)
                : new Tracked(keyAuthorization != null ? keyAuthorization : t.keyAuthorization(), t.refs() + 1));
    }

    /** Whether a solver holds this token (registered or watched). */
    boolean isTracked(String token) {
        return tracked.containsKey(token);
    }

    Optional<Served> lastServed(String token) {
        Served s = served.get(token);
        if (s == null) {
            synchronized (recent) {
                s = recent.get(token);
            }
        }
        return Optional.ofNullable(s);
    }

    private void record(String token, Http01Response response, String remote) {
        // Only tokens a solver holds are recorded: bounded by the challenges in flight, whatever clients send.
        if (!tracked.containsKey(token)) {
            LOG.debug("http-01: token {} -> {} for {}", token, response.status(), remote);
            return;
        }
        served.compute(token, (k, s) -> new Served(response.status(), response.body(), remote, Instant.now(),
                s == null ? 1 : s.count() + 1));
        if (!tracked.containsKey(token)) {
            served.remove(token); // unregistered meanwhile
        }
        LOG.info("http-01: answered {} for token {} to {}", response.status(), token, remote == null ? "?" : remote);
    }

    @Override
    public String toString() {
        return "Http01Responder[" + (thumbprints == null ? "stateful" : "stateless " + thumbprints) + ", "
                + tracked.size() + " tokens]";
    }
}
