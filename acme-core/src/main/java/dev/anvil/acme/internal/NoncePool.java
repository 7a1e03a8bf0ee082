package dev.anvil.acme.internal;

import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Replay nonces (RFC 8555 section 6.5) saved from every response. Thread-safe; the newest is
 * used first (least likely to have expired) and the pool is bounded.
 */
public final class NoncePool {

    private static final int MAX = 32;
    private final ConcurrentLinkedDeque<String> nonces = new ConcurrentLinkedDeque<>();

    public void offer(String nonce) {
        if (nonce == null || nonce.isEmpty() || nonce.length() > 512 || !nonce.chars().allMatch(NoncePool::base64url)) {
            return;
        }
        nonces.addFirst(nonce);
        while (nonces.size() > MAX) {
            nonces.pollLast();
        }
    }

    /** A nonce or null when the pool is empty. */
    public String poll() {
        return nonces.pollFirst();
    }

    public int size() {
        return nonces.size();
    }

    private static boolean base64url(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }
}
