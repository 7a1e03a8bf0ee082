/** dns-01: publish {@code _acme-challenge} TXT records through a DNS provider (RFC 8555 section 8.4). */
package dev.anvil.acme.dns;
