package dev.anvil.acme.issuance;

import java.time.Duration;

/**
 * How long each phase of an issuance may take, and the whole. When a wait would pass one,
 * the engine stops with {@link dev.anvil.acme.AcmeDeadlineException} (or fails over to the next
 * CA while the total allows) instead of sleeping blindly.
 *
 * @param setup         directory, account and order
 * @param authorization presenting challenges until the order is ready
 * @param finalization  finalize, processing and download
 * @param total         the whole issuance, across CAs
 */
public record Deadlines(Duration setup, Duration authorization, Duration finalization, Duration total) {

    public static Deadlines defaults() {
        return new Deadlines(Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(15), Duration.ofMinutes(30));
    }

    /** Every phase and the total set to the same duration. */
    public static Deadlines all(Duration d) {
        return new Deadlines(d, d, d, d);
    }
}
