package dev.anvil.acme.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.anvil.acme.renewal.RenewalEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** Which level and line each renewal event is logged with. */
class LoggingRenewalListenerTest {

    private static final Instant NOT_AFTER = Instant.parse("2030-01-10T00:00:00Z");
    private static final Instant NEXT = Instant.parse("2030-01-02T03:04:05Z");

    private final CapturingLogger logger = new CapturingLogger();
    private final LoggingRenewalListener listener = new LoggingRenewalListener(logger, 3);

    @Test
    void routineEventsAreInfo() {
        listener.onEvent(new RenewalEvent.Scheduled("site", Instant.parse("2030-01-01T00:00:00Z"), "67% of the certificate's lifetime"));
        listener.onEvent(new RenewalEvent.Started("site", "67% of the certificate's lifetime"));
        listener.onEvent(new RenewalEvent.Succeeded("site", "abc123", NOT_AFTER, "pebble"));

        assertThat(logger.lines).containsExactly(
                tuple(Level.INFO, "certificate site: renewal scheduled for 2030-01-01T00:00:00Z (67% of the certificate's lifetime)"),
                tuple(Level.INFO, "certificate site: renewal started (67% of the certificate's lifetime)"),
                tuple(Level.INFO, "certificate site: renewed, serial abc123 from pebble, valid until 2030-01-10T00:00:00Z"));
    }

    @Test
    void failuresWarnWithTheNextAttemptAndBecomeErrorsWhenTheyRepeat() {
        listener.onEvent(new RenewalEvent.Failed("site", "connection refused", 1, NEXT));
        listener.onEvent(new RenewalEvent.Failed("site", "connection refused", 2, NEXT));
        listener.onEvent(new RenewalEvent.Failed("site", "connection refused", 3, NEXT));

        assertThat(logger.lines).extracting(t -> t.toList().get(0)).containsExactly(Level.WARN, Level.WARN, Level.ERROR);
        assertThat(logger.lines.get(0).toList().get(1)).isEqualTo(
                "certificate site: renewal failed (1 in a row): connection refused; next attempt at 2030-01-02T03:04:05Z");
    }

    @Test
    void expiringSoonIsAnErrorWithTheLastErrorAndTheNextAttempt() {
        listener.onEvent(new RenewalEvent.Failed("site", "rateLimited", 4, NEXT));
        listener.onEvent(new RenewalEvent.ExpiringSoon("site", NOT_AFTER, Duration.ofDays(7), "rateLimited"));
        // Another certificate, never failed: no next attempt to tell.
        listener.onEvent(new RenewalEvent.ExpiringSoon("other", NOT_AFTER, Duration.ofDays(14), null));

        assertThat(logger.lines.subList(1, 3)).containsExactly(
                tuple(Level.ERROR, "certificate site expires at 2030-01-10T00:00:00Z (within PT168H) and no renewal has"
                        + " succeeded; last error: rateLimited; next attempt at 2030-01-02T03:04:05Z"),
                tuple(Level.ERROR, "certificate other expires at 2030-01-10T00:00:00Z (within PT336H) and no renewal"
                        + " has succeeded"));
    }

    @Test
    void aSuccessForgetsThePendingAttempt() {
        listener.onEvent(new RenewalEvent.Failed("site", "timeout", 1, NEXT));
        listener.onEvent(new RenewalEvent.Succeeded("site", "abc123", NOT_AFTER, "pebble"));
        listener.onEvent(new RenewalEvent.ExpiringSoon("site", NOT_AFTER, Duration.ofDays(1), null));

        assertThat(logger.lines.get(2).toList().get(1)).asString().doesNotContain("next attempt");
    }

    /** Records what reaches the logger, formatted. */
    static final class CapturingLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        final transient List<Tuple> lines = new CopyOnWriteArrayList<>();

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable throwable) {
            lines.add(tuple(level, MessageFormatter.basicArrayFormat(pattern, args)));
        }

        @Override
        public String getName() {
            return "capture";
        }

        @Override
        public boolean isTraceEnabled() {
            return true;
        }

        @Override
        public boolean isDebugEnabled() {
            return true;
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }
    }
}
