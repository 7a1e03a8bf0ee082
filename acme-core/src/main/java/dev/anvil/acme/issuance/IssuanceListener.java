package dev.anvil.acme.issuance;

/** Hears an issuance's progress. Called on the issuing thread; exceptions are logged and ignored. */
@FunctionalInterface
public interface IssuanceListener {

    void onEvent(IssuanceEvent event);

    IssuanceListener NONE = event -> { };
}
