package dev.anvil.acme.http01;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * {@link Http01Responder} as a Jakarta Servlet filter (Servlet API 6, provided by the container):
 * requests under {@value Http01Responder#PATH_PREFIX} (relative to the context path) are answered
 * here, everything else passes down the chain.
 *
 * <p>Either construct it with a responder ({@code ServletContext.addFilter}, Spring's
 * {@code FilterRegistrationBean}), or declare it in {@code web.xml} and let {@link #init} find the
 * responder: the servlet context attribute {@value #RESPONDER_ATTRIBUTE}, else a stateless
 * responder from the init parameter {@value #THUMBPRINTS_PARAMETER} (comma-separated, primary first).
 */
public final class Http01Filter implements Filter {

    /** Servlet context attribute holding the {@link Http01Responder} to use. */
    public static final String RESPONDER_ATTRIBUTE = "dev.anvil.acme.http01.Http01Responder";
    /** Init parameter with account thumbprints for a stateless responder. */
    public static final String THUMBPRINTS_PARAMETER = "thumbprints";

    private volatile Http01Responder responder;

    /** For {@code web.xml}: the responder comes from {@link #init}. */
    public Http01Filter() {
    }

    public Http01Filter(Http01Responder responder) {
        this.responder = Objects.requireNonNull(responder, "responder");
    }

    @Override
    public void init(FilterConfig config) throws ServletException {
        if (responder != null) {
            return;
        }
        Object attribute = config.getServletContext().getAttribute(RESPONDER_ATTRIBUTE);
        if (attribute instanceof Http01Responder r) {
            responder = r;
            return;
        }
        String thumbprints = config.getInitParameter(THUMBPRINTS_PARAMETER);
        if (thumbprints != null && !thumbprints.isBlank()) {
            try {
                responder = Http01Responder.stateless(Arrays.stream(thumbprints.split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new));
                return;
            } catch (IllegalArgumentException e) {
                throw new ServletException("Http01Filter: init parameter " + THUMBPRINTS_PARAMETER + ": " + e.getMessage(), e);
            }
        }
        throw new ServletException("Http01Filter has no responder: construct it with one, set the servlet context"
                + " attribute " + RESPONDER_ATTRIBUTE + ", or give the init parameter " + THUMBPRINTS_PARAMETER);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Http01Responder r = responder;
        if (r != null && request instanceof HttpServletRequest req && response instanceof HttpServletResponse res) {
            String path = pathInApplication(req);
            if (Http01Responder.isChallengePath(path)) {
                write(r.respond(req.getMethod(), path, req.getRemoteAddr()), res);
                return;
            }
        }
        chain.doFilter(request, response);
    }

    /** The raw (undecoded) request URI without the context path, so "%2e%2e" reaches the token check as is. */
    private static String pathInApplication(HttpServletRequest req) {
        String uri = req.getRequestURI();
        String context = req.getContextPath();
        if (uri == null) {
            return "";
        }
        return context != null && !context.isEmpty() && uri.startsWith(context) ? uri.substring(context.length()) : uri;
    }

    private static void write(Http01Response r, HttpServletResponse res) throws IOException {
        res.setStatus(r.status());
        for (Map.Entry<String, String> h : r.headers().entrySet()) {
            res.setHeader(h.getKey(), h.getValue());
        }
        res.setContentLength(r.contentLength());
        if (r.sendBody()) {
            OutputStream out = res.getOutputStream();
            out.write(r.bytes());
            out.flush();
        }
    }
}
