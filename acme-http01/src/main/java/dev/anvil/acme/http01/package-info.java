/**
 * http-01 challenge responders (RFC 8555 section 8.3) plugged into core's solver SPI.
 *
 * <ul>
 *   <li>{@link dev.anvil.acme.http01.Http01Responder}: the responder as a plain function
 *       (method and path in, {@link dev.anvil.acme.http01.Http01Response} out), stateful or
 *       stateless; its {@link dev.anvil.acme.http01.Http01Responder#solver() solver} is what the
 *       issuance engine uses.</li>
 *   <li>Adapters: {@link dev.anvil.acme.http01.Http01Server} (standalone, JDK {@code HttpServer}),
 *       {@link dev.anvil.acme.http01.Http01Handler} (an existing JDK {@code HttpServer}),
 *       {@link dev.anvil.acme.http01.Http01Filter} (Jakarta Servlet).</li>
 *   <li>{@link dev.anvil.acme.http01.WebrootSolver}: token files for an existing nginx or Apache.</li>
 *   <li>{@link dev.anvil.acme.http01.ThumbprintSource}: the account thumbprints of stateless mode.</li>
 * </ul>
 * Tokens that are not base64url are refused everywhere ({@link dev.anvil.acme.http01.ChallengeTokens}).
 * tls-alpn-01 (RFC 8737) lives in {@link dev.anvil.acme.http01.tlsalpn}.
 */
package dev.anvil.acme.http01;
