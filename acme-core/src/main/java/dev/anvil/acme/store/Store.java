package dev.anvil.acme.store;

import java.util.Optional;

/**
 * Where the issuance engine keeps what it must not lose: checkpoints of issuances in flight,
 * account keys and URLs, issued certificates and their keys. A small key-value contract so a
 * database, a secret store or a file system can back it. Keys are relative paths of
 * lowercase letters, digits, '.', '-', '_' and '/'. Values may hold private keys: an
 * implementation must protect them (the file store makes them owner-only).
 */
public interface Store {

    /** The value under the key, or empty. */
    Optional<byte[]> read(String key);

    /** Replaces the value atomically: a reader sees the old value or the new one, never a mix. */
    void write(String key, byte[] value);

    /** Removes the value; no error when absent. */
    void delete(String key);

    /** Rejects keys that could escape the store or collide: only {@code [a-z0-9._-]} segments joined by '/'. */
    static String checkKey(String key) {
        if (key == null || key.isEmpty() || key.length() > 255 || !key.matches("[a-z0-9_-][a-z0-9._-]*(/[a-z0-9_-][a-z0-9._-]*)*")
                || key.contains("..")) {
            throw new IllegalArgumentException("invalid store key '" + key + "'");
        }
        return key;
    }
}
