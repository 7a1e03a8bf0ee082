package dev.anvil.acme.http01.tlsalpn;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * Drives an {@link SSLEngine} handshake over a blocking socket, then closes the TLS session:
 * a tls-alpn-01 validation exchanges no application data (RFC 8737 section 3). Reads go through
 * the socket's stream so the read timeout applies; the whole exchange has a deadline; the input
 * buffer never grows past what the engine needs for one TLS record.
 */
final class EngineHandshake {

    private final Socket socket;
    private final SSLEngine engine;
    private final long deadlineNanos;
    private final InputStream in;
    private final OutputStream out;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private ByteBuffer appIn;

    EngineHandshake(Socket socket, SSLEngine engine, long timeoutMillis) throws IOException {
        this.socket = socket;
        this.engine = engine;
        this.deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000L;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet);
        this.netOut = ByteBuffer.allocate(packet);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    }

    /** Runs the handshake to completion, then sends close_notify. Throws on any failure or timeout. */
    void run() throws IOException {
        engine.beginHandshake();
        try {
            HandshakeStatus hs = engine.getHandshakeStatus();
            while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
                hs = switch (hs) {
                    case NEED_TASK -> {
                        Runnable task;
                        while ((task = engine.getDelegatedTask()) != null) {
                            task.run();
                        }
                        yield engine.getHandshakeStatus();
                    }
                    case NEED_WRAP -> wrap();
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrap();
                    default -> throw new SSLException("unexpected handshake status " + hs);
                };
            }
        } catch (SSLException e) {
            flushAlert();
            throw e;
        }
        close();
    }

    private HandshakeStatus wrap() throws IOException {
        while (true) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = ByteBuffer.allocate(netOut.capacity() * 2);
                continue;
            }
            send();
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                throw new SSLException("the TLS engine closed during the handshake");
            }
            return r.getHandshakeStatus();
        }
    }

    private HandshakeStatus unwrap() throws IOException {
        while (true) {
            netIn.flip();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                netIn.compact();
            }
            switch (r.getStatus()) {
                case OK -> {
                    appIn.clear(); // no application data is expected; whatever arrives is dropped
                    return r.getHandshakeStatus();
                }
                case BUFFER_UNDERFLOW -> {
                    int need = engine.getSession().getPacketBufferSize();
                    if (netIn.capacity() < need) {
                        ByteBuffer bigger = ByteBuffer.allocate(need);
                        netIn.flip();
                        bigger.put(netIn);
                        netIn = bigger;
                    }
                    read();
                }
                case BUFFER_OVERFLOW -> appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
                case CLOSED -> throw new EOFException("the client closed the TLS session during the handshake");
                default -> throw new SSLException("unexpected unwrap status " + r.getStatus());
            }
        }
    }

    private void read() throws IOException {
        long left = (deadlineNanos - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw new SocketTimeoutException("tls-alpn-01 handshake took too long");
        }
        socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
        if (!netIn.hasRemaining()) {
            throw new SSLException("TLS record larger than the engine's packet size");
        }
        int n = in.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
        if (n < 0) {
            throw new EOFException("the client closed the connection during the handshake");
        }
        netIn.position(netIn.position() + n);
    }

    private void send() throws IOException {
        netOut.flip();
        if (netOut.hasRemaining()) {
            out.write(netOut.array(), netOut.arrayOffset() + netOut.position(), netOut.remaining());
            out.flush();
        }
    }

    /** Sends close_notify (and anything the engine still holds, such as a session ticket). */
    private void close() throws IOException {
        engine.closeOutbound();
        for (int i = 0; i < 8 && !engine.isOutboundDone(); i++) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = ByteBuffer.allocate(netOut.capacity() * 2);
                continue;
            }
            send();
        }
    }

    /** After a failure the engine may hold an alert for the client; sending it is a courtesy. */
    private void flushAlert() {
        try {
            engine.closeOutbound();
            for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
                netOut.clear();
                engine.wrap(ByteBuffer.allocate(0), netOut);
                send();
            }
        } catch (IOException | RuntimeException ignored) {
            // the connection is being dropped anyway
        }
    }
}
