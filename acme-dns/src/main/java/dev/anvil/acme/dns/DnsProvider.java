package dev.anvil.acme.dns;

import java.time.Duration;

/**
 * Publishes dns-01 TXT records through a DNS service: an RFC 2136 server, an HTTP API.
 * One TXT <em>value</em> at a time, never a whole RRset, so a wildcard and its apex, whose
 * challenges share one name, can be validated in one order. Names are fully qualified and
 * lowercase, without the trailing dot. Implementations must be thread-safe and must keep
 * credentials out of logs, {@code toString()} and exception messages.
 */
public interface DnsProvider {

    /** The zone apex that holds this name (e.g. "example.com" for "_acme-challenge.www.example.com"). */
    String findZone(String name);

    /** Adds one TXT value at the name in the zone; other values at the name stay. Idempotent. */
    void addTxt(String zone, String name, String value, Duration ttl);

    /** Removes exactly this TXT value at the name; other values stay. No error when it is absent. */
    void removeTxt(String zone, String name, String value);
}
