package dev.anvil.acme.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * A {@link Store} on the file system: one file per key under a root directory. Writes go to a
 * temporary file in the same directory, are forced to disk, then atomically renamed over the
 * old one, so a crash leaves the old or the new value. On POSIX systems directories are
 * {@code rwx------} and files {@code rw-------}: they may hold private keys.
 */
public final class FileStore implements Store {

    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private final Path root;

    public FileStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        createDirectories(this.root);
    }

    public Path root() {
        return root;
    }

    /** The file behind a key (for applications that hand the certificate files to a server). */
    public Path path(String key) {
        Path p = root.resolve(Store.checkKey(key)).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("invalid store key '" + key + "'");
        }
        return p;
    }

    @Override
    public Optional<byte[]> read(String key) {
        try {
            return Optional.of(Files.readAllBytes(path(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + key + " from " + root, e);
        }
    }

    @Override
    public void write(String key, byte[] value) {
        Path target = path(key);
        createDirectories(target.getParent());
        Path tmp = null;
        try {
            tmp = POSIX ? Files.createTempFile(target.getParent(), ".tmp-", "",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile(target.getParent(), ".tmp-", "");
            try (var channel = Files.newByteChannel(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(java.nio.ByteBuffer.wrap(value));
                ((java.nio.channels.FileChannel) channel).force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + key + " to " + root, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray temp file holds nothing the next write needs
                }
            }
        }
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + key + " from " + root, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            if (POSIX) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectories(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create store directory " + dir, e);
        }
    }

    @Override
    public String toString() {
        return "FileStore[" + root + "]";
    }
}
