package dev.anvil.acme.http01;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.Objects;

/**
 * {@link Http01Responder} as a {@code com.sun.net.httpserver} handler, for an application that
 * already runs a JDK {@code HttpServer}: {@code server.createContext(Http01Responder.PATH_PREFIX, handler)}.
 * {@link Http01Server} is the standalone variant. The request body is never read.
 */
public final class Http01Handler implements HttpHandler {

    private final Http01Responder responder;

    public Http01Handler(Http01Responder responder) {
        this.responder = Objects.requireNonNull(responder, "responder");
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String remote = exchange.getRemoteAddress() == null ? null
                    : exchange.getRemoteAddress().getAddress().getHostAddress();
            // The raw path: decoding would turn %2e%2e into ".." before the token check sees it.
            Http01Response r = responder.respond(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), remote);
            for (Map.Entry<String, String> h : r.headers().entrySet()) {
                exchange.getResponseHeaders().set(h.getKey(), h.getValue());
            }
            if (!r.sendBody()) {
                exchange.getResponseHeaders().set("Content-Length", Integer.toString(r.contentLength()));
                exchange.sendResponseHeaders(r.status(), -1);
                return;
            }
            byte[] body = r.bytes();
            exchange.sendResponseHeaders(r.status(), body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
