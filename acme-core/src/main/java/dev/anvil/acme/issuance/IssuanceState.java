package dev.anvil.acme.issuance;

/**
 * The states of one issuance. They follow the order's status on the server (RFC 8555
 * section 7.1.6): pending becomes AUTHORIZING, ready READY, processing PROCESSING, valid VALID.
 */
public enum IssuanceState {
    /** Nothing at the CA yet; the certificate key exists. */
    NEW,
    /** The order exists at the CA and is checkpointed. */
    ORDERED,
    /** Challenges are presented and validated. */
    AUTHORIZING,
    /** Every authorization is valid. */
    READY,
    /** The CSR is being submitted. */
    FINALIZING,
    /** The CA is issuing. */
    PROCESSING,
    /** The certificate is issued and being downloaded. */
    VALID,
    /** Chain and key are in the store. */
    STORED,
    /** Stopped with an error; the checkpoint is kept for resuming. */
    FAILED
}
