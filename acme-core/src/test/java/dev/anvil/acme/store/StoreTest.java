package dev.anvil.acme.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@link Store} contract, run against every implementation, plus what only the file store promises. */
class StoreTest {

    static Stream<String> hostileKeys() {
        return Stream.of("../x", "/abs", "a//b", "A", "a/../b", ".hidden", "", "x".repeat(300),
                "a/", "a/.hidden", "..", "a\\b", "a b", "a/./b", "C:/x", "a\u0000b", "ä");
    }

    /** The shared contract: every store must pass these. */
    abstract static class Contract {

        Store store;

        abstract Store create() throws IOException;

        @BeforeEach
        void setUp() throws IOException {
            store = create();
        }

        static byte[] bytes(String s) {
            return s.getBytes(StandardCharsets.UTF_8);
        }

        @Test
        void roundTrip() {
            store.write("accounts/letsencrypt.json", bytes("{\"a\":1}"));
            assertThat(store.read("accounts/letsencrypt.json")).hasValueSatisfying(
                    v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}"));
        }

        @Test
        void roundTripOfBinaryAndEmptyValues() {
            byte[] all = new byte[256];
            for (int i = 0; i < all.length; i++) {
                all[i] = (byte) i;
            }
            store.write("bin", all);
            store.write("deep/er/still/empty.pem", new byte[0]);
            assertThat(store.read("bin")).hasValueSatisfying(v -> assertThat(v).isEqualTo(all));
            assertThat(store.read("deep/er/still/empty.pem")).hasValueSatisfying(v -> assertThat(v).isEmpty());
        }

        @Test
        void writeReplacesTheOldValue() {
            store.write("issuances/example.com.json", bytes("a much longer first value"));
            store.write("issuances/example.com.json", bytes("short"));
            assertThat(store.read("issuances/example.com.json")).hasValueSatisfying(
                    v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("short"));
        }

        @Test
        void valuesAreCopiedInAndOut() {
            byte[] value = bytes("abc");
            store.write("k", value);
            value[0] = 'X';
            byte[] read = store.read("k").orElseThrow();
            assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("abc");
            read[0] = 'Y';
            assertThat(new String(store.read("k").orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("abc");
        }

        @Test
        void readOfMissingKeyIsEmpty() {
            assertThat(store.read("certificates/none.pem")).isEmpty();
            assertThat(store.read("never-written")).isEmpty();
        }

        @Test
        void deleteRemovesAndIsIdempotent() {
            store.write("certificates/a.pem", bytes("x"));
            store.delete("certificates/a.pem");
            assertThat(store.read("certificates/a.pem")).isEmpty();
            store.delete("certificates/a.pem");
            store.delete("certificates/never-written.pem");
            store.delete("no-such-dir/no-such-file");
            assertThat(store.read("certificates/a.pem")).isEmpty();
        }

        @Test
        void keysAreDistinct() {
            store.write("a/b", bytes("1"));
            store.write("a/c", bytes("2"));
            store.write("a.b", bytes("3"));
            store.delete("a/c");
            assertThat(store.read("a/b").map(String::new)).contains("1");
            assertThat(store.read("a.b").map(String::new)).contains("3");
            assertThat(store.read("a/c")).isEmpty();
        }

        @Test
        void acceptsTheKeysTheEngineUses() {
            for (String key : List.of("issuances/example.com.json", "certificates/wildcard.example.com.pem",
                    "accounts/letsencrypt-staging.json", "issuances/2001-db8--1.json", "z", "0", "_x", "-x",
                    "a/b/c/d", "x".repeat(255))) {
                store.write(key, bytes(key));
                assertThat(store.read(key).map(String::new)).as(key).contains(key);
            }
        }

        @ParameterizedTest
        @MethodSource("dev.anvil.acme.store.StoreTest#hostileKeys")
        void hostileKeysAreRejected(String key) {
            assertThatThrownBy(() -> store.write(key, bytes("evil"))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.read(key)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.delete(key)).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void nullKeyIsRejected() {
            assertThatThrownBy(() -> store.write(null, bytes("x"))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.read(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.delete(null)).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void concurrentWritersLeaveOneCompleteValue() throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> futures = new java.util.ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    byte[] value = bytes(String.valueOf((char) ('a' + t)).repeat(10_000));
                    futures.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < 20; i++) {
                            store.write("race/value", value);
                            byte[] read = store.read("race/value").orElseThrow();
                            assertThat(read).hasSize(10_000);
                            assertThat(new String(read, StandardCharsets.UTF_8).chars().distinct().count()).isEqualTo(1);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : futures) {
                    f.get(20, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Nested
    class MemoryStoreContract extends Contract {
        @Override
        Store create() {
            return new MemoryStore();
        }

        @Test
        void sizeCountsKeys() {
            MemoryStore m = (MemoryStore) store;
            m.write("a", bytes("1"));
            m.write("b/c", bytes("2"));
            m.write("a", bytes("3"));
            assertThat(m.size()).isEqualTo(2);
            m.delete("a");
            assertThat(m.size()).isEqualTo(1);
        }
    }

    @Nested
    class FileStoreContract extends Contract {

        @TempDir
        Path dir;

        Path root;

        @Override
        Store create() {
            root = dir.resolve("store");
            return new FileStore(root);
        }

        FileStore fileStore() {
            return (FileStore) store;
        }

        @Test
        void createsTheRootAndPersistsAcrossInstances() {
            assertThat(root).isDirectory();
            store.write("accounts/x.json", bytes("persisted"));
            assertThat(root.resolve("accounts/x.json")).hasContent("persisted");
            FileStore again = new FileStore(root);
            assertThat(again.read("accounts/x.json").map(String::new)).contains("persisted");
            assertThat(again.root()).isEqualTo(root.toAbsolutePath().normalize());
        }

        @Test
        void pathStaysInsideTheRoot() {
            assertThat(fileStore().path("certificates/a.pem")).isEqualTo(root.resolve("certificates/a.pem"));
            assertThatThrownBy(() -> fileStore().path("../outside")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> fileStore().path("/etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void hostileKeysWriteNothingOutsideTheRoot() throws IOException {
            for (String key : hostileKeys().toList()) {
                try {
                    store.write(key, bytes("evil"));
                } catch (IllegalArgumentException expected) {
                    // checked below
                }
            }
            try (Stream<Path> all = Files.walk(dir)) {
                assertThat(all.filter(Files::isRegularFile).toList()).isEmpty();
            }
        }

        @Test
        void atomicReplaceLeavesNoTemporaryFiles() throws IOException {
            for (int i = 0; i < 5; i++) {
                store.write("issuances/example.com.json", bytes("value " + i));
                store.write("top.json", bytes("value " + i));
            }
            try (Stream<Path> all = Files.walk(root)) {
                List<String> files = all.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted()
                        .toList();
                assertThat(files).containsExactly("issuances/example.com.json", "top.json");
            }
            assertThat(root.resolve("issuances/example.com.json")).hasContent("value 4");
        }

        @Test
        void failedWriteKeepsTheOldValueAndLeavesNoTemporaryFile() throws IOException {
            store.write("slot/value", bytes("old"));
            // a directory where the target file should go: the rename must fail
            Files.createDirectories(root.resolve("slot/blocked"));
            Files.writeString(root.resolve("slot/blocked/inner"), "keeps the directory non-empty");
            assertThatThrownBy(() -> store.write("slot/blocked", bytes("new")))
                    .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("slot/blocked");
            try (Stream<Path> all = Files.list(root.resolve("slot"))) {
                assertThat(all.map(p -> p.getFileName().toString()).sorted().toList())
                        .containsExactly("blocked", "value");
            }
            assertThat(store.read("slot/value").map(String::new)).contains("old");
        }

        @Test
        void filesAndDirectoriesAreOwnerOnly() throws IOException {
            assertThat(FileSystems.getDefault().supportedFileAttributeViews()).as("tests run on a POSIX file system").contains("posix");
            store.write("certificates/deep/er/example.com.pem", bytes("-----BEGIN PRIVATE KEY-----"));
            store.write("top.json", bytes("{}"));
            Set<PosixFilePermission> file = PosixFilePermissions.fromString("rw-------");
            Set<PosixFilePermission> directory = PosixFilePermissions.fromString("rwx------");
            assertThat(Files.getPosixFilePermissions(root.resolve("certificates/deep/er/example.com.pem")))
                    .isEqualTo(file);
            assertThat(Files.getPosixFilePermissions(root.resolve("top.json"))).isEqualTo(file);
            assertThat(Files.getPosixFilePermissions(root)).isEqualTo(directory);
            assertThat(Files.getPosixFilePermissions(root.resolve("certificates"))).isEqualTo(directory);
            assertThat(Files.getPosixFilePermissions(root.resolve("certificates/deep"))).isEqualTo(directory);
            assertThat(Files.getPosixFilePermissions(root.resolve("certificates/deep/er"))).isEqualTo(directory);
            // replacing keeps the permissions
            store.write("top.json", bytes("{\"again\":true}"));
            assertThat(Files.getPosixFilePermissions(root.resolve("top.json"))).isEqualTo(file);
        }

        @Test
        void replacingAFileWithLooserPermissionsTightensThem() throws IOException {
            assertThat(FileSystems.getDefault().supportedFileAttributeViews()).as("tests run on a POSIX file system").contains("posix");
            Path p = root.resolve("loose.pem");
            Files.writeString(p, "old");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
            store.write("loose.pem", bytes("new"));
            assertThat(Files.getPosixFilePermissions(p)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(p).hasContent("new");
        }

        @Test
        void deleteLeavesOtherFiles() {
            store.write("a/one", bytes("1"));
            store.write("a/two", bytes("2"));
            store.delete("a/one");
            assertThat(root.resolve("a/one")).doesNotExist();
            assertThat(root.resolve("a/two")).exists();
        }

        @Test
        void toStringNamesTheRoot() {
            assertThat(store.toString()).contains(root.toString());
        }
    }
}
