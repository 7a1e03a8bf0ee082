package dev.anvil.acme.renewal;

/** Hears renewal events (for logs, metrics, alerts). Exceptions are logged and ignored. */
@FunctionalInterface
public interface RenewalListener {

    void onEvent(RenewalEvent event);
}
