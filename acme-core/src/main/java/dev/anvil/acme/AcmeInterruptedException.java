package dev.anvil.acme;

/** The thread was interrupted while waiting; its interrupt flag is set again. Resumable. */
public class AcmeInterruptedException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public AcmeInterruptedException(String message, InterruptedException cause) {
        super(message, cause);
    }
}
