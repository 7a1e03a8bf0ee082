package dev.anvil.acme;

/** The request did not complete: connection refused or reset, timeout, TLS failure. Usually transient. */
public class AcmeNetworkException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final String url;

    public AcmeNetworkException(String method, String url, Throwable cause) {
        super(method + " " + url + " failed: " + cause, cause);
        this.url = url;
    }

    public String url() {
        return url;
    }
}
