package dev.anvil.acme.dns;

import dev.anvil.acme.AcmeException;

/**
 * A DNS lookup (CNAME, SOA, NS, address) could not be answered: the resolver timed out, was
 * unreachable or answered SERVFAIL. Transient by nature: trying again later may succeed.
 */
public class DnsLookupException extends AcmeException {

    private static final long serialVersionUID = 1L;

    public DnsLookupException(String message, Throwable cause) {
        super(message, cause);
    }
}
