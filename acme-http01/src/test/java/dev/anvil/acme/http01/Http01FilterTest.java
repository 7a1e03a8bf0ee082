package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The servlet filter against minimal fakes of the Servlet API (no container in the test class path). */
class Http01FilterTest {

    private static final String P = Http01Responder.PATH_PREFIX;

    /** What the filter did to the response, and whether it passed the request on. */
    static final class Exchange {
        int status = 200;
        final Map<String, String> headers = new HashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        int contentLength = -1;
        final AtomicInteger chained = new AtomicInteger();

        String body() {
            return body.toString(StandardCharsets.US_ASCII);
        }
    }

    private static Exchange run(Http01Filter filter, String method, String contextPath, String uri) throws Exception {
        Exchange x = new Exchange();
        HttpServletRequest req = (HttpServletRequest) Proxy.newProxyInstance(Http01FilterTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "getRequestURI" -> uri;
                    case "getContextPath" -> contextPath;
                    case "getRemoteAddr" -> "198.51.100.4";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        ServletOutputStream out = new ServletOutputStream() {
            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
            }

            @Override
            public void write(int b) {
                x.body.write(b);
            }
        };
        HttpServletResponse res = (HttpServletResponse) Proxy.newProxyInstance(Http01FilterTest.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                    case "setStatus" -> {
                        x.status = (Integer) a[0];
                        yield null;
                    }
                    case "setHeader" -> {
                        x.headers.put((String) a[0], (String) a[1]);
                        yield null;
                    }
                    case "setContentLength" -> {
                        x.contentLength = (Integer) a[0];
                        yield null;
                    }
                    case "getOutputStream" -> out;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        FilterChain chain = (rq, rs) -> x.chained.incrementAndGet();
        filter.doFilter(req, res, chain);
        return x;
    }

    @Test
    void answersChallengePathsAndPassesEverythingElseOn() throws Exception {
        Http01Responder responder = Http01Responder.stateful();
        String token = Challenges.token();
        String ka = token + "." + Challenges.thumbprint();
        responder.register(token, ka);
        Http01Filter filter = new Http01Filter(responder);

        Exchange ok = run(filter, "GET", "", P + token);
        assertThat(ok.status).isEqualTo(200);
        assertThat(ok.body()).isEqualTo(ka);
        assertThat(ok.contentLength).isEqualTo(ka.length());
        assertThat(ok.headers).containsEntry("Content-Type", "text/plain");
        assertThat(ok.chained).hasValue(0);

        Exchange head = run(filter, "HEAD", "", P + token);
        assertThat(head.status).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.contentLength).isEqualTo(ka.length());

        assertThat(run(filter, "GET", "", P + Challenges.token()).status).isEqualTo(404);
        Exchange post = run(filter, "POST", "", P + token);
        assertThat(post.status).isEqualTo(405);
        assertThat(post.headers).containsEntry("Allow", "GET, HEAD");

        Exchange app = run(filter, "GET", "", "/index.html");
        assertThat(app.chained).hasValue(1);
        assertThat(app.body()).isEmpty();
    }

    @Test
    void pathsAreRelativeToTheContextPath() throws Exception {
        Http01Responder responder = Http01Responder.stateless(Challenges.thumbprint());
        Http01Filter filter = new Http01Filter(responder);
        String token = Challenges.token();
        assertThat(run(filter, "GET", "/app", "/app" + P + token).body()).startsWith(token + ".");
        assertThat(run(filter, "GET", "/app", "/app/index.html").chained).hasValue(1);
    }

    @Test
    void hostileTokensAre400AndNeverReachTheApplication() throws Exception {
        Http01Filter filter = new Http01Filter(Http01Responder.stateless(Challenges.thumbprint()));
        for (String hostile : new String[] {"..", "../../WEB-INF/web.xml", "%2e%2e%2fWEB-INF", "a\\b", "", "a;jsessionid=1",
                "x".repeat(5000)}) {
            Exchange x = run(filter, "GET", "", P + hostile);
            assertThat(x.status).as(hostile).isEqualTo(400);
            assertThat(x.chained).hasValue(0);
            assertThat(x.body()).startsWith("invalid ACME challenge token");
        }
    }

    @Test
    void webXmlConfigurationFindsTheResponder() throws Exception {
        Http01Responder shared = Http01Responder.stateful();
        String token = Challenges.token();
        shared.register(token, token + "." + Challenges.thumbprint());
        Http01Filter fromAttribute = new Http01Filter();
        fromAttribute.init(config(shared, null));
        assertThat(run(fromAttribute, "GET", "", P + token).status).isEqualTo(200);

        String a = Challenges.thumbprint();
        String b = Challenges.thumbprint();
        Http01Filter fromParameter = new Http01Filter();
        fromParameter.init(config(null, " " + a + " , " + b + " "));
        assertThat(run(fromParameter, "GET", "", P + token).body()).isEqualTo(token + "." + a);

        assertThatThrownBy(() -> new Http01Filter().init(config(null, "nope"))).isInstanceOf(ServletException.class)
                .hasMessageContaining("thumbprints");
        assertThatThrownBy(() -> new Http01Filter().init(config(null, null))).isInstanceOf(ServletException.class)
                .hasMessageContaining(Http01Filter.RESPONDER_ATTRIBUTE);
        // Not initialised: behaves as if absent.
        assertThat(run(new Http01Filter(), "GET", "", P + token).chained).hasValue(1);
    }

    private static FilterConfig config(Http01Responder attribute, String thumbprints) {
        ServletContext ctx = (ServletContext) Proxy.newProxyInstance(Http01FilterTest.class.getClassLoader(),
                new Class<?>[] {ServletContext.class}, (p, m, a) -> {
                    if (m.getName().equals("getAttribute")) {
                        return Http01Filter.RESPONDER_ATTRIBUTE.equals(a[0]) ? attribute : null;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
        return (FilterConfig) Proxy.newProxyInstance(Http01FilterTest.class.getClassLoader(),
                new Class<?>[] {FilterConfig.class}, (p, m, a) -> switch (m.getName()) {
                    case "getServletContext" -> ctx;
                    case "getInitParameter" -> Http01Filter.THUMBPRINTS_PARAMETER.equals(a[0]) ? thumbprints : null;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }
}
