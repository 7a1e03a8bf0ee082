package dev.anvil.acme.http01;

import dev.anvil.acme.Identifier;
import dev.anvil.acme.Problem;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Delegates to a real solver and records the challenges it was given, so tests can check what the CA used. */
public final class RecordingSolver implements ChallengeSolver {

    private final ChallengeSolver delegate;
    public final List<ChallengeContext> presented = new CopyOnWriteArrayList<>();
    public final List<ChallengeContext> cleaned = new CopyOnWriteArrayList<>();
    public final List<String> diagnoses = new CopyOnWriteArrayList<>();

    public RecordingSolver(ChallengeSolver delegate) {
        this.delegate = delegate;
    }

    @Override
    public List<String> types() {
        return delegate.types();
    }

    @Override
    public boolean supports(Identifier identifier, String type) {
        return delegate.supports(identifier, type);
    }

    @Override
    public void present(ChallengeContext challenge) throws Exception {
        presented.add(challenge);
        delegate.present(challenge);
    }

    @Override
    public void awaitReady(ChallengeContext challenge, Instant deadline) throws Exception {
        delegate.awaitReady(challenge, deadline);
    }

    @Override
    public void cleanUp(ChallengeContext challenge) throws Exception {
        cleaned.add(challenge);
        delegate.cleanUp(challenge);
    }

    @Override
    public String diagnose(ChallengeContext challenge, Problem problem) {
        String d = delegate.diagnose(challenge, problem);
        if (d != null) {
            diagnoses.add(d);
        }
        return d;
    }

    @Override
    public boolean parallel() {
        return delegate.parallel();
    }

    public List<String> thumbprintsUsed() {
        return presented.stream().map(ChallengeContext::accountThumbprint).distinct().toList();
    }
}
