package dev.anvil.acme;

import java.util.List;

/**
 * No directory URL of a CA could be read: unreachable past the retries, an error status (a wrong
 * URL often answers 403 or 404), or not an ACME directory. Another CA may still work.
 */
public class AcmeDirectoryException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public AcmeDirectoryException(String ca, List<String> urls, AcmeException last) {
        super("no directory of CA " + ca + " could be read (" + String.join(", ", urls) + "): " + last.getMessage(), last);
    }
}
