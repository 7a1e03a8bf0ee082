package dev.anvil.acme.examples;

import dev.anvil.acme.renewal.RenewalEvent;
import dev.anvil.acme.renewal.RenewalListener;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Logs every {@link RenewalEvent} with SLF4J, one line each, at a level an operator can alert on:
 * <ul>
 *   <li>{@code Scheduled}, {@code Started}, {@code Succeeded}: INFO;</li>
 *   <li>{@code Failed}: WARN with the error and the next attempt time, ERROR from
 *       {@code errorAfterFailures} failures in a row (default 3);</li>
 *   <li>{@code ExpiringSoon}: ERROR (the certificate is about to expire and no renewal has
 *       succeeded: a human should look), with the last error and the next attempt time.</li>
 * </ul>
 * Thread-safe. Wrap or replace it to feed metrics or alerts instead of (or besides) logs.
 */
public final class LoggingRenewalListener implements RenewalListener {

    private static final Logger DEFAULT_LOG = LoggerFactory.getLogger("dev.anvil.acme.examples.renewal");

    private final Logger log;
    private final int errorAfterFailures;
    /** Per certificate: when the next attempt after a failure is due, for the expiry warning. */
    private final Map<String, Instant> nextAttempt = new ConcurrentHashMap<>();

    public LoggingRenewalListener() {
        this(DEFAULT_LOG, 3);
    }

    public LoggingRenewalListener(Logger log, int errorAfterFailures) {
        if (errorAfterFailures < 1) {
            throw new IllegalArgumentException("errorAfterFailures must be at least 1");
        }
        this.log = log;
        this.errorAfterFailures = errorAfterFailures;
    }

    @Override
    public void onEvent(RenewalEvent event) {
        if (event instanceof RenewalEvent.Failed f) {
            nextAttempt.put(f.id(), f.nextAttempt());
        } else if (event instanceof RenewalEvent.Succeeded s) {
            nextAttempt.remove(s.id());
        }
        log.atLevel(level(event)).log(message(event));
    }

    /** The level {@link #onEvent} logs the event at. */
    public Level level(RenewalEvent event) {
        if (event instanceof RenewalEvent.Failed f) {
            return f.consecutiveFailures() >= errorAfterFailures ? Level.ERROR : Level.WARN;
        }
        if (event instanceof RenewalEvent.ExpiringSoon) {
            return Level.ERROR;
        }
        return Level.INFO;
    }

    /** The line {@link #onEvent} logs for the event. */
    public String message(RenewalEvent event) {
        if (event instanceof RenewalEvent.Scheduled s) {
            return "certificate " + s.id() + ": renewal scheduled for " + s.at() + " (" + s.reason() + ")";
        }
        if (event instanceof RenewalEvent.Started s) {
            return "certificate " + s.id() + ": renewal started (" + s.reason() + ")";
        }
        if (event instanceof RenewalEvent.Succeeded s) {
            return "certificate " + s.id() + ": renewed, serial " + s.serial() + " from " + s.ca()
                    + ", valid until " + s.notAfter();
        }
        if (event instanceof RenewalEvent.Failed f) {
            return "certificate " + f.id() + ": renewal failed (" + f.consecutiveFailures() + " in a row): "
                    + f.error() + "; next attempt at " + f.nextAttempt();
        }
        RenewalEvent.ExpiringSoon e = (RenewalEvent.ExpiringSoon) event;
        Instant next = nextAttempt.get(e.id());
        return "certificate " + e.id() + " expires at " + e.notAfter() + " (within " + e.threshold()
                + ") and no renewal has succeeded"
                + (e.lastError() == null ? "" : "; last error: " + e.lastError())
                + (next == null ? "" : "; next attempt at " + next);
    }
}
