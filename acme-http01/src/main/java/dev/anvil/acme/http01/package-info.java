/** http-01 responders: answer {@code /.well-known/acme-challenge/<token>} (RFC 8555 section 8.3). */
package dev.anvil.acme.http01;
