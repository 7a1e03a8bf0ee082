package dev.anvil.acme.testing;

import dev.anvil.acme.AccountSession;
import dev.anvil.acme.AcmeException;
import dev.anvil.acme.Authorization;
import dev.anvil.acme.CertificateChain;
import dev.anvil.acme.Challenge;
import dev.anvil.acme.Order;
import dev.anvil.acme.OrderRequest;
import dev.anvil.acme.Status;
import dev.anvil.acme.crypto.Csr;
import dev.anvil.acme.crypto.KeyPairs;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A plain, linear issuance on the protocol primitives, for tests and the demo: one order,
 * http-01 or dns-01, polling the order (not the authorizations) to save requests.
 * The real engine with backoff, resume and failover lives in the issuance issue.
 */
public final class TestIssuance {

    /** How a challenge is made visible to the CA. */
    public interface Presenter {
        String type();

        void present(Authorization authorization, Challenge challenge, AccountSession account);
    }

    public static Presenter http01(Http01TestResponder responder) {
        return new Presenter() {
            public String type() {
                return Challenge.HTTP_01;
            }

            public void present(Authorization a, Challenge c, AccountSession account) {
                responder.put(c.token(), account.keyAuthorization(c.token()));
            }
        };
    }

    public static Presenter dns01(ChallTestSrv dns) {
        return new Presenter() {
            public String type() {
                return Challenge.DNS_01;
            }

            public void present(Authorization a, Challenge c, AccountSession account) {
                dns.setTxt("_acme-challenge." + a.identifier().value() + ".", account.dns01Digest(c.token()));
            }
        };
    }

    public record Result(Order order, KeyPair certificateKey, CertificateChain chain) {
    }

    private TestIssuance() {
    }

    public static Result issue(AccountSession account, OrderRequest request, Presenter presenter) {
        return issue(account, request, presenter, null, s -> { });
    }

    public static Result issue(AccountSession account, OrderRequest request, Presenter presenter,
                               String preferredIssuer, Consumer<String> log) {
        Order order = account.newOrder(request);
        log.accept("newOrder -> " + order.status() + " " + order.url());
        for (String authzUrl : order.authorizations()) {
            Authorization authz = account.fetchAuthorization(authzUrl);
            log.accept("authorization " + authz.identifier().value() + " -> " + authz.status());
            if (authz.status() == Status.VALID) {
                continue;
            }
            Challenge challenge = authz.challenge(presenter.type()).orElseThrow(() ->
                    new AcmeException("no " + presenter.type() + " challenge for " + authz.identifier().value()));
            presenter.present(authz, challenge, account);
            Challenge responded = account.respond(challenge);
            log.accept("challenge " + challenge.type() + " -> " + responded.status());
        }
        order = pollWhile(account, order, Status.PENDING, log);
        if (order.status() != Status.READY) {
            throw new AcmeException("order " + order.url() + " is " + order.status()
                    + (order.error() == null ? "" : ": " + order.error().describe()));
        }
        KeyPair certificateKey = KeyPairs.generate();
        order = account.finalizeOrder(order, Csr.create(certificateKey, order.identifiers()));
        log.accept("finalize -> " + order.status());
        order = pollWhile(account, order, Status.PROCESSING, log);
        if (order.status() != Status.VALID) {
            throw new AcmeException("order " + order.url() + " is " + order.status()
                    + (order.error() == null ? "" : ": " + order.error().describe()));
        }
        CertificateChain chain = preferredIssuer == null ? account.downloadCertificate(order.certificateUrl())
                : account.downloadCertificate(order.certificateUrl(), preferredIssuer);
        log.accept("certificate -> " + chain.certificates().size() + " certificates, serial "
                + chain.leaf().getSerialNumber().toString(16));
        return new Result(order, certificateKey, chain);
    }

    private static Order pollWhile(AccountSession account, Order order, Status status, Consumer<String> log) {
        Instant deadline = Instant.now().plusSeconds(60);
        long delayMs = 50;
        while (order.status() == status) {
            if (Instant.now().isAfter(deadline)) {
                throw new AcmeException("order " + order.url() + " still " + status + " after 60 s");
            }
            sleep(order.retryAfter() != null
                    ? Math.min(Duration.between(Instant.now(), order.retryAfter()).toMillis(), 2000) : delayMs);
            delayMs = Math.min(delayMs * 2, 1000);
            order = account.fetchOrder(order.url());
            log.accept("poll order -> " + order.status());
        }
        return order;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(Math.max(ms, 0));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AcmeException("interrupted", e);
        }
    }
}
