package dev.anvil.acme.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.acme.examples.SelfRenewingHttpsServer.Settings;
import dev.anvil.acme.renewal.RenewalEvent;
import dev.anvil.acme.renewal.RenewalListener;
import dev.anvil.acme.renewal.RenewalManager;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * The self-renewing server against a real Pebble: a client sees the first certificate, the
 * renewal manager renews (its clock moved past the planned moment; Pebble and the engine keep
 * real time), and a new connection to the same running server sees the new serial while a
 * connection opened before the renewal keeps working.
 */
class SelfRenewingHttpsServerTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void servesTheRenewedCertificateWithoutARestart() throws Exception {
        MovableClock clock = new MovableClock();
        Recording events = new Recording(new LoggingRenewalListener());
        Path store = dir.resolve("store");
        Duration validity = Duration.ofSeconds(90);

        try (SelfRenewingHttpsServer server = SelfRenewingHttpsServer.start(Settings.defaults()
                .withCertificateValidity(validity).withStoreDir(store).withClock(clock)
                .withListener(events).withRenewInBackground(false))) {
            X509Certificate root = server.pebble().rootCertificate(0);
            int port = server.port();
            String id = server.certificateId();

            // start() obtained the first certificate before listening.
            assertThat(events.types()).containsExactly(RenewalEvent.Started.class, RenewalEvent.Succeeded.class);
            String firstSerial = server.currentSerial();

            Response first;
            try (TlsConnection c = TlsConnection.open(trusting(root), port)) {
                first = c.get("/", true);
            }
            assertThat(first.serial()).isEqualTo(firstSerial);
            assertThat(first.body()).isEqualTo("hello from " + firstSerial + "\n");
            assertThat(first.leaf().getSubjectAlternativeNames()).extracting(san -> (Object) san.get(1))
                    .contains(SelfRenewingHttpsServer.DNS_NAME, SelfRenewingHttpsServer.IP_ADDRESS);
            assertThat(Duration.between(first.leaf().getNotBefore().toInstant(), first.leaf().getNotAfter().toInstant()))
                    .isBetween(validity.minusSeconds(2), validity.plusSeconds(1));

            // SNI with the DNS name works as well (Pebble's resolver sends every name to 127.0.0.1).
            try (TlsConnection c = TlsConnection.open(trusting(root), port, SelfRenewingHttpsServer.DNS_NAME)) {
                assertThat(c.get("/", true).serial()).isEqualTo(firstSerial);
            }

            // A connection opened before the renewal, kept alive across it.
            try (TlsConnection before = TlsConnection.open(trusting(root), port)) {
                assertThat(before.get("/", false).body()).isEqualTo("hello from " + firstSerial + "\n");

                // The manager's next pass plans the renewal and persists the plan...
                RenewalManager renewals = server.renewals();
                Instant wake = renewals.runDueWork();
                RenewalManager.Plan plan = renewals.plan(id).orElseThrow();
                assertThat(plan.serial()).isEqualTo(firstSerial);
                assertThat(plan.renewAt()).isAfter(clock.instant()).isBefore(first.leaf().getNotAfter().toInstant());
                assertThat(wake).isEqualTo(plan.renewAt());
                assertThat(Files.readString(store.resolve("renewals/" + id + ".json"))).contains(firstSerial);
                assertThat(events.types()).endsWith(RenewalEvent.Scheduled.class);
                assertThat(server.currentSerial()).isEqualTo(firstSerial); // nothing due yet

                // ...and renews once its clock reaches the planned moment.
                clock.advanceTo(plan.renewAt().plusSeconds(1));
                renewals.runDueWork();
                assertThat(events.types()).endsWith(RenewalEvent.Started.class, RenewalEvent.Succeeded.class);
                String renewedSerial = server.currentSerial();
                assertThat(renewedSerial).isNotEqualTo(firstSerial);
                assertThat(events.last(RenewalEvent.Succeeded.class).serial()).isEqualTo(renewedSerial);

                // A new connection to the same server (same port, never restarted) gets the new certificate.
                Response after;
                try (TlsConnection c = TlsConnection.open(trusting(root), port)) {
                    after = c.get("/", true);
                }
                assertThat(server.port()).isEqualTo(port);
                assertThat(after.serial()).isEqualTo(renewedSerial);
                assertThat(after.body()).isEqualTo("hello from " + renewedSerial + "\n");
                assertThat(after.leaf().getPublicKey()).isNotEqualTo(first.leaf().getPublicKey()); // KeyPolicy.ROTATE

                // The connection from before keeps serving, with the certificate it was set up with.
                Response stillOpen = before.get("/", false);
                assertThat(stillOpen.body()).isEqualTo("hello from " + firstSerial + "\n");
                assertThat(before.peerSerial()).isEqualTo(firstSerial);
            }

            // What the logging listener made of it: scheduled, started, succeeded, all at INFO.
            assertThat(events.types()).containsExactly(RenewalEvent.Started.class, RenewalEvent.Succeeded.class,
                    RenewalEvent.Scheduled.class, RenewalEvent.Started.class, RenewalEvent.Succeeded.class);
            assertThat(events.logged).allSatisfy(l -> assertThat(l.level()).isEqualTo(Level.INFO));
            assertThat(events.logged.get(2).message()).startsWith("certificate " + id + ": renewal scheduled for ");
            assertThat(events.logged.get(4).message()).contains("renewed, serial " + server.currentSerial(), "from pebble");
            assertThat(events.types()).doesNotContain(RenewalEvent.Failed.class, RenewalEvent.ExpiringSoon.class);
        }
    }

    // ------------------------------------------------------------------------------- helpers

    /** Wraps the logging listener and records each event with the level and line it logs. */
    static final class Recording implements RenewalListener {
        record Logged(RenewalEvent event, Level level, String message) {
        }

        final LoggingRenewalListener delegate;
        final List<Logged> logged = new CopyOnWriteArrayList<>();

        Recording(LoggingRenewalListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onEvent(RenewalEvent event) {
            logged.add(new Logged(event, delegate.level(event), delegate.message(event)));
            delegate.onEvent(event);
        }

        List<Class<?>> types() {
            return logged.stream().<Class<?>>map(l -> l.event().getClass()).toList();
        }

        <T extends RenewalEvent> T last(Class<T> type) {
            for (int i = logged.size() - 1; i >= 0; i--) {
                if (type.isInstance(logged.get(i).event())) {
                    return type.cast(logged.get(i).event());
                }
            }
            throw new AssertionError("no " + type.getSimpleName() + " in " + types());
        }
    }

    /** Real time plus an offset the test moves forward. */
    static final class MovableClock extends Clock {
        private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

        void advanceTo(Instant when) {
            Duration by = Duration.between(instant(), when);
            if (!by.isNegative()) {
                offset.accumulateAndGet(by, Duration::plus);
            }
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset.get());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** A fresh client context (no session to resume) trusting only Pebble's root. */
    static SSLContext trusting(X509Certificate root) throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("pebble-root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    record Response(String serial, X509Certificate leaf, String body) {
    }

    /** One TLS connection with host name verification, speaking just enough HTTP/1.1. */
    static final class TlsConnection implements Closeable {
        private final SSLSocket socket;

        private TlsConnection(SSLSocket socket) {
            this.socket = socket;
        }

        static TlsConnection open(SSLContext ctx, int port) throws IOException {
            return open(ctx, port, null);
        }

        /**
         * Connects to 127.0.0.1 and checks the certificate against {@code hostName} (sent as SNI)
         * or, if null, against the address itself.
         */
        static TlsConnection open(SSLContext ctx, int port, String hostName) throws IOException {
            Socket tcp = new Socket(SelfRenewingHttpsServer.IP_ADDRESS, port);
            String host = hostName == null ? SelfRenewingHttpsServer.IP_ADDRESS : hostName;
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(tcp, host, port, true);
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            if (hostName != null) {
                p.setServerNames(List.of(new SNIHostName(hostName)));
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return new TlsConnection(s);
        }

        String peerSerial() throws IOException {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber().toString(16);
        }

        Response get(String path, boolean close) throws IOException {
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + SelfRenewingHttpsServer.IP_ADDRESS + "\r\n"
                    + (close ? "Connection: close\r\n" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String status = line(in);
            assertThat(status).startsWith("HTTP/1.1 200");
            int length = -1;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(h.substring(h.indexOf(':') + 1).trim());
                }
            }
            assertThat(length).isNotNegative();
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            return new Response(leaf.getSerialNumber().toString(16), leaf, body);
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed mid-response");
                }
                if (c != '\r') {
                    b.write(c);
                }
            }
            return b.toString(StandardCharsets.US_ASCII);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
