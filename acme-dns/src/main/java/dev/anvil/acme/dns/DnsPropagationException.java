package dev.anvil.acme.dns;

import dev.anvil.acme.AcmeException;
import java.util.List;

/**
 * A TXT value did not reach every authoritative server before the propagation timeout.
 * {@link #laggingServers()} names each server that never served it and what it answered last.
 */
public class DnsPropagationException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final String name;
    private final List<String> laggingServers;

    public DnsPropagationException(String message, String name, List<String> laggingServers) {
        super(message);
        this.name = name;
        this.laggingServers = List.copyOf(laggingServers);
    }

    /** The record name that was checked (after following CNAMEs). */
    public String name() {
        return name;
    }

    /** The servers that did not serve the value, e.g. "ns2.example.com (192.0.2.2:53): NXDOMAIN". */
    public List<String> laggingServers() {
        return laggingServers;
    }
}
