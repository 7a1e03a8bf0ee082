package dev.anvil.acme.store;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link Store} in memory: for tests and for applications that persist elsewhere. */
public final class MemoryStore implements Store {

    private final Map<String, byte[]> values = new ConcurrentHashMap<>();

    public MemoryStore() {
    }

    @Override
    public Optional<byte[]> read(String key) {
        return Optional.ofNullable(values.get(Store.checkKey(key))).map(byte[]::clone);
    }

    @Override
    public void write(String key, byte[] value) {
        values.put(Store.checkKey(key), value.clone());
    }

    @Override
    public void delete(String key) {
        values.remove(Store.checkKey(key));
    }

    public int size() {
        return values.size();
    }
}
