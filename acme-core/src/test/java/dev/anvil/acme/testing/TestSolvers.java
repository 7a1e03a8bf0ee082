package dev.anvil.acme.testing;

import dev.anvil.acme.Challenge;
import dev.anvil.acme.solver.ChallengeContext;
import dev.anvil.acme.solver.ChallengeSolver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Minimal solvers on the test responders, for engine tests (the real ones live in acme-http01 and acme-dns). */
public final class TestSolvers {

    private TestSolvers() {
    }

    /** http-01 through an {@link Http01TestResponder}; records what is presented and cleaned up. */
    public static final class Http01 implements ChallengeSolver {
        private final Http01TestResponder responder;
        public final Set<String> presented = ConcurrentHashMap.newKeySet();
        public final Set<String> cleaned = ConcurrentHashMap.newKeySet();

        public Http01(Http01TestResponder responder) {
            this.responder = responder;
        }

        @Override
        public List<String> types() {
            return List.of(Challenge.HTTP_01);
        }

        @Override
        public void present(ChallengeContext c) {
            presented.add(c.token());
            responder.put(c.token(), c.keyAuthorization());
        }

        @Override
        public void cleanUp(ChallengeContext c) {
            cleaned.add(c.token());
            responder.remove(c.token());
        }
    }

    /** dns-01 through pebble-challtestsrv's TXT records. */
    public static final class Dns01 implements ChallengeSolver {
        private final ChallTestSrv dns;

        public Dns01(ChallTestSrv dns) {
            this.dns = dns;
        }

        @Override
        public List<String> types() {
            return List.of(Challenge.DNS_01);
        }

        @Override
        public void present(ChallengeContext c) {
            dns.setTxt(c.dnsRecordName() + ".", c.dnsTxtValue());
        }

        @Override
        public void cleanUp(ChallengeContext c) {
            dns.clearTxt(c.dnsRecordName() + ".");
        }
    }
}
