package dev.anvil.acme.http01;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebrootSolverTest {

    @TempDir
    Path tmp;

    @Test
    void writesTheTokenFileReadableByTheWebServerAndRemovesIt() throws Exception {
        Path webroot = Files.createDirectory(tmp.resolve("www"));
        WebrootSolver solver = WebrootSolver.of(webroot);
        ChallengeContext c = Challenges.http01("site.test", Challenges.token(), Challenges.thumbprint());
        solver.present(c);

        Path file = webroot.resolve(".well-known/acme-challenge/" + c.token());
        assertThat(solver.challengeFile(c.identifier(), c.token())).isEqualTo(file);
        assertThat(Files.readString(file, StandardCharsets.US_ASCII)).isEqualTo(c.keyAuthorization());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwxr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent().getParent())))
                .isEqualTo("rwxr-xr-x");
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertThat(files).containsExactly(file); // no temporary file left behind
        }

        solver.cleanUp(c);
        assertThat(file).doesNotExist();
        assertThat(file.getParent()).isDirectory();
    }

    @Test
    void sharedChallengesStayUntilTheLastCleanUp() throws Exception {
        Path webroot = Files.createDirectory(tmp.resolve("www"));
        WebrootSolver solver = WebrootSolver.of(webroot);
        ChallengeContext c = Challenges.http01("site.test", Challenges.token(), Challenges.thumbprint());
        solver.present(c);
        solver.present(c);
        Path file = solver.challengeFile(c.identifier(), c.token());
        solver.cleanUp(c);
        assertThat(file).exists();
        solver.cleanUp(c);
        assertThat(file).doesNotExist();
    }

    @Test
    void replacesAStaleFileAtomically() throws Exception {
        Path webroot = Files.createDirectory(tmp.resolve("www"));
        WebrootSolver solver = WebrootSolver.of(webroot);
        ChallengeContext c = Challenges.http01("site.test", Challenges.token(), Challenges.thumbprint());
        Path file = solver.challengeFile(c.identifier(), c.token());
        Files.createDirectories(file.getParent());
        Files.writeString(file, "stale from a crashed run");
        solver.present(c);
        assertThat(Files.readString(file)).isEqualTo(c.keyAuthorization());
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../../../etc/cron.d/evil", "a/b", "a\\b", "", "..%2f..", "x/../../y", "a\u0000b"})
    void hostileTokensWriteNothing(String hostile) throws Exception {
        Path webroot = Files.createDirectory(tmp.resolve("www"));
        WebrootSolver solver = WebrootSolver.of(webroot);
        ChallengeContext c = Challenges.http01("site.test", hostile, Challenges.thumbprint());
        assertThatThrownBy(() -> solver.present(c)).isInstanceOf(InvalidTokenException.class);
        solver.cleanUp(c); // the engine cleans up even after a failed present: must not throw or delete anything
        assertThat(solver.diagnose(c, null)).isNull();
        try (Stream<Path> all = Files.walk(tmp)) {
            assertThat(all).containsExactly(tmp, webroot);
        }
    }

    @Test
    void oversizedTokensWriteNothing() throws Exception {
        hostileTokensWriteNothing("x".repeat(ChallengeTokens.MAX_LENGTH + 1));
    }

    @Test
    void aMissingWebrootIsATypedError() {
        Path missing = tmp.resolve("no-such-dir");
        WebrootSolver solver = WebrootSolver.of(missing);
        ChallengeContext c = Challenges.http01("site.test", Challenges.token(), Challenges.thumbprint());
        assertThatThrownBy(() -> solver.present(c)).isInstanceOf(WebrootException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("does not exist")
                .satisfies(e -> assertThat(((WebrootException) e).path()).isEqualTo(missing));
        assertThat(missing).doesNotExist();
        solver.cleanUp(c);
    }

    @Test
    void anUnwritableWebrootIsATypedError() throws Exception {
        Path webroot = Files.createDirectory(tmp.resolve("www"));
        Files.writeString(webroot.resolve(".well-known"), "a file where the directory should be");
        WebrootSolver solver = WebrootSolver.of(webroot);
        ChallengeContext c = Challenges.http01("site.test", Challenges.token(), Challenges.thumbprint());
        assertThatThrownBy(() -> solver.present(c)).isInstanceOf(WebrootException.class)
                .hasMessageContaining("cannot write the http-01 challenge file");
        solver.cleanUp(c);
    }

    @Test
    void choosesTheWebrootPerIdentifier() throws Exception {
        Path a = Files.createDirectory(tmp.resolve("a"));
        Path b = Files.createDirectory(tmp.resolve("b"));
        WebrootSolver solver = WebrootSolver.of(id -> switch (id.value()) {
            case "a.test" -> a;
            case "b.test" -> b;
            default -> null;
        });
        assertThat(solver.supports(Identifier.dns("a.test"), "http-01")).isTrue();
        assertThat(solver.supports(Identifier.dns("c.test"), "http-01")).isFalse();
        assertThat(solver.supports(Identifier.dns("a.test"), "dns-01")).isFalse();
        ChallengeContext c = Challenges.http01("b.test", Challenges.token(), Challenges.thumbprint());
        solver.present(c);
        assertThat(b.resolve(".well-known/acme-challenge/" + c.token())).exists();
        assertThat(a.resolve(".well-known")).doesNotExist();
        String d = solver.diagnose(c, new Problem("urn:ietf:params:acme:error:unauthorized", null, "404", 403, null,
                null, null));
        assertThat(d).contains(c.keyAuthorization()).contains(b.toString()).contains("http://b.test/.well-known/acme-challenge/");
        solver.cleanUp(c);
    }
}
