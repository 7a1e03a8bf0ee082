package dev.anvil.acme.http01;

import java.nio.file.Path;

/** A challenge file could not be written under (or removed from) a webroot. */
public final class WebrootException extends ResponderException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;

    public WebrootException(String message, Path path, Throwable cause) {
        super(message, cause);
        this.path = path;
    }

    /** The file or directory concerned. */
    public Path path() {
        return path;
    }
}
