package dev.anvil.acme.http01;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * http-01 for a site an existing web server (nginx, Apache, ...) already serves: writes
 * {@code <webroot>/.well-known/acme-challenge/<token>} containing the key authorization and
 * removes it on cleanUp. The file appears atomically (written beside it, then renamed), so
 * the web server never serves half a file; it is world-readable (0644, directories created
 * 0755) because the web server usually runs as another user. Tokens that are not base64url
 * are refused before any path is built. The web server should serve these files as
 * {@code text/plain}. Directories are left in place.
 */
public final class WebrootSolver implements ChallengeSolver {

    private static final Logger LOG = LoggerFactory.getLogger(WebrootSolver.class);
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwxr-xr-x");

    private final Function<Identifier, Path> webroots;
    /** Presents per file: two orders may present the same challenge, and the first cleanUp must not pull it. */
    private final Map<Path, Integer> presents = new ConcurrentHashMap<>();

    private WebrootSolver(Function<Identifier, Path> webroots) {
        this.webroots = Objects.requireNonNull(webroots, "webroots");
    }

    /** One document root for every identifier. */
    public static WebrootSolver of(Path webroot) {
        Objects.requireNonNull(webroot, "webroot");
        return new WebrootSolver(id -> webroot);
    }

    /** A document root per identifier (one per virtual host); return null for identifiers this solver does not serve. */
    public static WebrootSolver of(Function<Identifier, Path> webrootFor) {
        return new WebrootSolver(webrootFor);
    }

    @Override
    public List<String> types() {
        return List.of(Challenge.HTTP_01);
    }

    @Override
    public boolean supports(Identifier identifier, String type) {
        return Challenge.HTTP_01.equals(type) && webroots.apply(identifier) != null;
    }

    /** The file a challenge is written to. @throws InvalidTokenException for a token that is not base64url */
    public Path challengeFile(Identifier identifier, String token) {
        ChallengeTokens.requireValid(token);
        Path root = webroots.apply(identifier);
        if (root == null) {
            throw new IllegalArgumentException("no webroot configured for " + identifier.value());
        }
        Path dir = root.resolve(".well-known").resolve("acme-challenge");
        Path file = dir.resolve(token);
        if (!dir.equals(file.getParent())) { // cannot happen for base64url; a guard if the rules ever change
            throw new InvalidTokenException("ACME challenge token escapes the challenge directory");
        }
        return file;
    }

    @Override
    public void present(ChallengeContext challenge) {
        Path file = challengeFile(challenge.identifier(), challenge.token());
        Path dir = file.getParent();
        Path root = dir.getParent().getParent();
        if (!Files.isDirectory(root)) {
            throw new WebrootException("webroot " + root + " for " + challenge.identifier().value()
                    + " does not exist or is not a directory", root, null);
        }
        presents.merge(file, 1, Integer::sum);
        try {
            createDirectory(dir.getParent());
            createDirectory(dir);
            Path tmp = Files.createTempFile(dir, ".anvil-", ".tmp");
            try {
                Files.write(tmp, challenge.keyAuthorization().getBytes(StandardCharsets.US_ASCII));
                setPermissions(tmp, FILE);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            LOG.info("http-01 for {}: wrote {}", challenge.identifier().value(), file);
        } catch (IOException e) {
            release(file);
            throw new WebrootException("cannot write the http-01 challenge file " + file + " for "
                    + challenge.identifier().value() + ": " + e, file, e);
        }
    }

    @Override
    public void cleanUp(ChallengeContext challenge) {
        if (!ChallengeTokens.isValid(challenge.token()) || webroots.apply(challenge.identifier()) == null) {
            return; // present refused it: nothing was written
        }
        Path file = challengeFile(challenge.identifier(), challenge.token());
        if (!release(file)) {
            return;
        }
        try {
            Files.deleteIfExists(file);
            LOG.debug("http-01 for {}: removed {}", challenge.identifier().value(), file);
        } catch (IOException e) {
            throw new WebrootException("cannot remove the http-01 challenge file " + file + ": " + e, file, e);
        }
    }

    /** Drops one present of the file; true when it was the last one, so the file may go. */
    private boolean release(Path file) {
        boolean[] last = {false};
        presents.computeIfPresent(file, (k, n) -> {
            if (n > 1) {
                return n - 1;
            }
            last[0] = true;
            return null;
        });
        return last[0];
    }

    @Override
    public String diagnose(ChallengeContext challenge, Problem problem) {
        if (!ChallengeTokens.isValid(challenge.token()) || webroots.apply(challenge.identifier()) == null) {
            return null;
        }
        Path file = challengeFile(challenge.identifier(), challenge.token());
        String name = challenge.identifier().value();
        return "http-01 for " + name + ": wrote " + challenge.keyAuthorization() + " (account thumbprint "
                + challenge.accountThumbprint() + ") to " + file + (Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? ""
                : " (the file is gone)") + "; check that the web server answering http://" + name
                + Http01Responder.PATH_PREFIX + challenge.token() + " serves that file (document root " + file.getParent().getParent()
                .getParent() + ", readable by the server's user)";
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectory(dir);
            setPermissions(dir, DIRECTORY); // explicit: the umask could make it unreadable for the web server
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static void setPermissions(Path path, Set<PosixFilePermission> permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, permissions);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system (Windows): the directory's ACLs apply
        }
    }

    @Override
    public String toString() {
        return "WebrootSolver";
    }
}
