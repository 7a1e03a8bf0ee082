package dev.anvil.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.acme.crypto.KeyPairs;
import dev.anvil.acme.crypto.Pem;
import dev.anvil.acme.internal.Json;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValuesTest {

    // ---- Problem ------------------------------------------------------------------------------

    @Nested
    class Problems {

        private final Problem wildcard = new Problem("urn:ietf:params:acme:error:unsupportedIdentifier", null,
                "wildcards are not allowed", 400, null, Identifier.dns("*.example.com"), null);
        private final Problem caa = new Problem("urn:ietf:params:acme:error:caa", "CAA forbids issuance", null, 403,
                null, Identifier.dns("example.org"), null);
        private final Problem top = new Problem("urn:ietf:params:acme:error:rejectedIdentifier", "Rejected",
                "some identifiers were rejected", 400, "https://ca.test/problem/1", null, List.of(wildcard, caa));

        @Test
        void acmeTypeIsTheSuffixOfAcmeErrorTypes() {
            assertThat(top.acmeType()).isEqualTo("rejectedIdentifier");
            assertThat(wildcard.acmeType()).isEqualTo("unsupportedIdentifier");
            assertThat(new Problem("about:blank", null, null, 500, null, null, null).acmeType()).isNull();
            assertThat(new Problem(null, null, null, 500, null, null, null).acmeType()).isNull();
            assertThat(new Problem("https://ca.test/errors/custom", null, null, 400, null, null, null).acmeType()).isNull();
        }

        @Test
        void isComparesTheAcmeType() {
            assertThat(top.is("rejectedIdentifier")).isTrue();
            assertThat(top.is("badNonce")).isFalse();
            assertThat(top.is("urn:ietf:params:acme:error:rejectedIdentifier")).isFalse();
            assertThat(new Problem(null, null, null, null, null, null, null).is("badNonce")).isFalse();
        }

        @Test
        void describeIncludesDetailIdentifiersAndSubproblems() {
            assertThat(top.describe()).isEqualTo("rejectedIdentifier: some identifiers were rejected"
                    + "; unsupportedIdentifier: wildcards are not allowed [*.example.com]"
                    + "; caa: CAA forbids issuance [example.org]");
        }

        @Test
        void describeFallsBackToTitleAndType() {
            assertThat(new Problem(null, "Internal error", null, 500, null, null, null).describe())
                    .isEqualTo("about:blank: Internal error");
            assertThat(new Problem("https://ca.test/errors/x", "Title", " ", 400, null, null, null).describe())
                    .isEqualTo("https://ca.test/errors/x: Title");
            assertThat(new Problem("urn:ietf:params:acme:error:badNonce", null, null, 400, null, null, null).describe())
                    .isEqualTo("badNonce");
            assertThat(new Problem("urn:ietf:params:acme:error:dns", null, null, 400, null, Identifier.ip("192.0.2.1"),
                    null).describe()).isEqualTo("dns [192.0.2.1]");
        }

        @Test
        void subproblemsAreNeverNullAndImmutable() {
            assertThat(wildcard.subproblems()).isEmpty();
            List<Problem> subs = new ArrayList<>(List.of(wildcard));
            Problem p = new Problem(null, null, null, null, null, null, subs);
            subs.add(caa);
            assertThat(p.subproblems()).containsExactly(wildcard);
            assertThatThrownBy(() -> p.subproblems().add(caa)).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void problemDocumentBinds() {
            String json = """
                    {
                      "type": "urn:ietf:params:acme:error:malformed",
                      "detail": "Some of the identifiers requested were rejected",
                      "status": 400,
                      "extra": {"ignored": true},
                      "subproblems": [
                        {
                          "type": "urn:ietf:params:acme:error:malformed",
                          "detail": "Invalid underscore in DNS name \\"_example.org\\"",
                          "identifier": {"type": "dns", "value": "_example.org"}
                        },
                        {
                          "type": "urn:ietf:params:acme:error:rejectedIdentifier",
                          "detail": "This CA will not issue for \\"example.net\\"",
                          "identifier": {"type": "dns", "value": "example.net"}
                        }
                      ]
                    }
                    """;
            Problem p = Json.read(json.getBytes(StandardCharsets.UTF_8), Problem.class, "https://ca.test/x");
            assertThat(p.is("malformed")).isTrue();
            assertThat(p.status()).isEqualTo(400);
            assertThat(p.subproblems()).hasSize(2);
            assertThat(p.subproblems().get(0).identifier()).isEqualTo(new Identifier("dns", "_example.org"));
            assertThat(p.subproblems().get(1).is("rejectedIdentifier")).isTrue();
            assertThat(p.describe()).contains("[_example.org]", "[example.net]");
        }
    }

    // ---- Status -------------------------------------------------------------------------------

    @Test
    void statusIsCaseInsensitiveAndTolerant() {
        assertThat(Status.of("valid")).isEqualTo(Status.VALID);
        assertThat(Status.of("VALID")).isEqualTo(Status.VALID);
        assertThat(Status.of("Processing")).isEqualTo(Status.PROCESSING);
        assertThat(Status.of("deactivated")).isEqualTo(Status.DEACTIVATED);
        assertThat(Status.of("bogus")).isEqualTo(Status.UNKNOWN);
        assertThat(Status.of("")).isEqualTo(Status.UNKNOWN);
        assertThat(Status.of(null)).isEqualTo(Status.UNKNOWN);
        assertThat(Status.READY.json()).isEqualTo("ready");
        assertThat(Json.write(Status.INVALID)).isEqualTo("\"invalid\"");
    }

    @Test
    void statusDoesNotDependOnTheDefaultLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr"));
            assertThat(Status.of("invalid")).isEqualTo(Status.INVALID);
            assertThat(Status.of("pending")).isEqualTo(Status.PENDING);
            assertThat(Status.INVALID.json()).isEqualTo("invalid");
        } finally {
            Locale.setDefault(saved);
        }
    }

    // ---- NewAccount ---------------------------------------------------------------------------

    @Test
    void contactsGetMailtoWhenMissing() {
        NewAccount a = NewAccount.agreeingToTerms().withContact("admin@example.com").withContact("mailto:ops@example.org")
                .withContact(" tel:+15555550100 ");
        assertThat(a.contacts()).containsExactly("mailto:admin@example.com", "mailto:ops@example.org", "tel:+15555550100");
        assertThat(a.termsOfServiceAgreed()).isTrue();
        assertThat(a.externalAccountBinding()).isNull();
    }

    @Test
    void withContactReturnsACopy() {
        NewAccount empty = NewAccount.agreeingToTerms();
        NewAccount one = empty.withContact("a@example.com");
        assertThat(empty.contacts()).isEmpty();
        assertThat(one.contacts()).containsExactly("mailto:a@example.com");
        assertThat(new NewAccount(null, false, null).contacts()).isEmpty();
        assertThatThrownBy(() -> one.contacts().add("x")).isInstanceOf(UnsupportedOperationException.class);

        ExternalAccountBinding eab = ExternalAccountBinding.of("kid", "AAAA");
        NewAccount bound = one.withExternalAccountBinding(eab);
        assertThat(bound.externalAccountBinding()).isSameAs(eab);
        assertThat(bound.contacts()).isEqualTo(one.contacts());
        assertThat(one.externalAccountBinding()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a@b@c", "x@y.com,z@w.com", "mailto:a@b.com?subject=x", "", "   ", "mailto:",
            "no-at-sign", "mailto:a b@example.com", "a@localhost", "mailto:x@y.com,z@w.com"})
    void invalidContactsAreRejected(String contact) {
        assertThatThrownBy(() -> NewAccount.agreeingToTerms().withContact(contact))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contact");
    }

    @Test
    void nullContactIsRejected() {
        assertThatThrownBy(() -> NewAccount.agreeingToTerms().withContact(null)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- OrderRequest -------------------------------------------------------------------------

    @Test
    void orderRequestDedupesIdentifiersKeepingOrder() {
        OrderRequest r = OrderRequest.of("www.example.com", "192.0.2.1", "WWW.example.com.", "example.com",
                "[192.0.2.1]");
        assertThat(r.identifiers()).containsExactly(Identifier.dns("www.example.com"), Identifier.ip("192.0.2.1"),
                Identifier.dns("example.com"));
        assertThatThrownBy(() -> r.identifiers().add(Identifier.dns("x.example"))).isInstanceOf(UnsupportedOperationException.class);

        OrderRequest fromList = OrderRequest.of(List.of(Identifier.dns("a.example"), Identifier.dns("a.example")));
        assertThat(fromList.identifiers()).containsExactly(Identifier.dns("a.example"));
    }

    @Test
    void orderRequestNeedsAnIdentifier() {
        assertThatThrownBy(() -> OrderRequest.of(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one identifier");
        assertThatThrownBy(OrderRequest::of).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new OrderRequest(null, null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void orderRequestWithersCopy() {
        OrderRequest base = OrderRequest.of("example.com");
        Instant nb = Instant.parse("2030-01-01T00:00:00Z");
        Instant na = Instant.parse("2030-01-08T00:00:00Z");
        OrderRequest full = base.withValidity(nb, na).withProfile("shortlived").withReplaces("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        assertThat(full).isEqualTo(new OrderRequest(List.of(Identifier.dns("example.com")), nb, na, "shortlived",
                "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"));
        assertThat(base.notBefore()).isNull();
        assertThat(base.profile()).isNull();
        assertThat(base.replaces()).isNull();
    }

    // ---- ExternalAccountBinding ---------------------------------------------------------------

    @Nested
    class Eab {

        /** Distinctive bytes whose standard base64 has '+' and '/'. */
        private final byte[] key = concat(new byte[] {(byte) 0xfb, (byte) 0xff, (byte) 0xbf, (byte) 0xfb, (byte) 0xef, (byte) 0xff},
                "zQx7-SuperSecretMacMaterial-9Kp".getBytes(StandardCharsets.US_ASCII));
        private final String url = Base64.getUrlEncoder().withoutPadding().encodeToString(key);
        private final String std = Base64.getEncoder().encodeToString(key);

        @Test
        void keyNeverAppearsInToString() {
            assertThat(std).contains("+").contains("/").endsWith("=");
            ExternalAccountBinding eab = ExternalAccountBinding.of("kid-42", url);
            String s = eab.toString();
            assertThat(s).contains("kid-42").contains("HS256").contains("redacted");
            assertThat(s).doesNotContain(url).doesNotContain(std).doesNotContain("SuperSecretMacMaterial")
                    .doesNotContain(HexFormat.of().formatHex(key)).doesNotContain(url.substring(0, 12));
        }

        @Test
        void decodesBase64UrlAndToleratesPaddingWhitespaceAndStandardAlphabet() {
            ExternalAccountBinding plain = ExternalAccountBinding.of("kid", url);
            assertThat(plain.macKey()).isEqualTo(key);
            assertThat(ExternalAccountBinding.of("kid", std).macKey()).isEqualTo(key);
            String wrapped = " " + url.substring(0, 10) + "\n" + url.substring(10, 20) + "\t " + url.substring(20) + "==\r\n";
            assertThat(ExternalAccountBinding.of("kid", wrapped).macKey()).isEqualTo(key);
            assertThat(ExternalAccountBinding.of("kid", std)).isEqualTo(plain);
            assertThat(ExternalAccountBinding.of(" kid ", url).kid()).isEqualTo("kid");
        }

        @Test
        void macKeyIsACopy() {
            ExternalAccountBinding eab = ExternalAccountBinding.of("kid", url);
            eab.macKey()[0] = 0;
            assertThat(eab.macKey()).isEqualTo(key);
        }

        @Test
        void algorithms() {
            assertThat(ExternalAccountBinding.of("kid", url).algorithm()).isEqualTo("HS256");
            for (String alg : List.of("HS256", "HS384", "HS512")) {
                ExternalAccountBinding eab = ExternalAccountBinding.of("kid", url, alg);
                assertThat(eab.algorithm()).isEqualTo(alg);
                assertThat(eab.jwsAlgorithm().getName()).isEqualTo(alg);
            }
            assertThat(ExternalAccountBinding.of("kid", url, "HS384")).isNotEqualTo(ExternalAccountBinding.of("kid", url));
        }

        @ParameterizedTest
        @ValueSource(strings = {"HS1", "hs256", "RS256", "ES256", "none", ""})
        void invalidAlgorithmsAreRejected(String alg) {
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid", url, alg))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("HS256, HS384 or HS512")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(url));
        }

        @Test
        void invalidBase64IsRejectedWithoutEchoingTheKey() {
            String bad = "SuperSecretKeyMaterial!*Tail";
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid-7", bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("kid-7")
                    .hasMessageContaining("base64")
                    .hasNoCause()
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("SuperSecret", "Tail", "!*"));
            String wrongLength = url.substring(0, 5); // 5 characters cannot be base64
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid-7", wrongLength))
                    .isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrongLength));
        }

        @Test
        void emptyKeyOrKidIsRejected() {
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid", "")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("empty");
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid", "  ==  ")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ExternalAccountBinding.of("kid", null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ExternalAccountBinding.of(" ", url)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("key id");
            assertThatThrownBy(() -> ExternalAccountBinding.of(null, url)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ---- Directory ----------------------------------------------------------------------------

    @Test
    void directoryWithoutMetaGetsAnEmptyOne() {
        Directory d = new Directory("https://ca.test/nonce", "https://ca.test/acct", "https://ca.test/order", null,
                "https://ca.test/revoke", "https://ca.test/key-change", null, null);
        assertThat(d.meta()).isNotNull();
        assertThat(d.meta().termsOfService()).isNull();
        assertThat(d.meta().caaIdentities()).isEmpty();
        assertThat(d.meta().profiles()).isEmpty();
        assertThat(d.meta().externalAccountRequired()).isFalse();
        assertThat(d.supportsPreAuthorization()).isFalse();
        assertThat(d.supportsRenewalInfo()).isFalse();
    }

    @Test
    void directoryJsonBinds() {
        String json = """
                {
                  "newNonce": "https://ca.test/acme/new-nonce",
                  "newAccount": "https://ca.test/acme/new-account",
                  "newOrder": "https://ca.test/acme/new-order",
                  "newAuthz": "https://ca.test/acme/new-authz",
                  "revokeCert": "https://ca.test/acme/revoke-cert",
                  "keyChange": "https://ca.test/acme/key-change",
                  "renewalInfo": "https://ca.test/acme/renewal-info",
                  "Rand0mKey": "https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417",
                  "meta": {
                    "termsOfService": "https://ca.test/acme/terms/2017-5-30",
                    "website": "https://www.ca.test/",
                    "caaIdentities": ["ca.test"],
                    "externalAccountRequired": true,
                    "profiles": {"classic": "The same profile you're accustomed to", "tlsserver": "TLS server"},
                    "somethingNew": [1, 2]
                  }
                }
                """;
        Directory d = Json.read(json.getBytes(StandardCharsets.UTF_8), Directory.class, "https://ca.test/dir");
        assertThat(d.newOrder()).isEqualTo("https://ca.test/acme/new-order");
        assertThat(d.supportsPreAuthorization()).isTrue();
        assertThat(d.supportsRenewalInfo()).isTrue();
        assertThat(d.meta().externalAccountRequired()).isTrue();
        assertThat(d.meta().caaIdentities()).containsExactly("ca.test");
        assertThat(d.meta().profiles()).containsOnlyKeys("classic", "tlsserver");

        Directory bare = Json.read("{\"newNonce\":\"https://ca.test/n\"}".getBytes(StandardCharsets.UTF_8), Directory.class,
                "https://ca.test/dir");
        assertThat(bare.meta()).isNotNull();
        assertThat(bare.meta().externalAccountRequired()).isFalse();
    }

    // ---- JSON binding -------------------------------------------------------------------------

    @Test
    void orderJsonBinds() {
        String json = """
                {
                  "status": "valid",
                  "expires": "2016-01-20T14:09:07.99Z",
                  "identifiers": [
                    {"type": "dns", "value": "www.example.org"},
                    {"type": "ip", "value": "192.0.2.1"}
                  ],
                  "notBefore": "2016-01-01T00:00:00Z",
                  "notAfter": "2016-01-08T00:00:00+01:00",
                  "authorizations": [
                    "https://example.com/acme/authz/PAniVnsZcis",
                    "https://example.com/acme/authz/r4HqLzrSrpI"
                  ],
                  "finalize": "https://example.com/acme/order/TOlocE8rfgo/finalize",
                  "certificate": "https://example.com/acme/cert/mAt3xBGaobw",
                  "profile": "tlsserver",
                  "someExtension": {"nested": [1, 2, {"deep": null}]},
                  "anotherOne": 42
                }
                """;
        Order o = Json.read(json.getBytes(StandardCharsets.UTF_8), Order.class, "https://example.com/acme/order/TOlocE8rfgo");
        assertThat(o.status()).isEqualTo(Status.VALID);
        assertThat(o.expires()).isEqualTo(Instant.parse("2016-01-20T14:09:07.990Z"));
        assertThat(o.notBefore()).isEqualTo(Instant.parse("2016-01-01T00:00:00Z"));
        assertThat(o.notAfter()).isEqualTo(Instant.parse("2016-01-07T23:00:00Z"));
        assertThat(o.identifiers()).containsExactly(new Identifier("dns", "www.example.org"), new Identifier("ip", "192.0.2.1"));
        assertThat(o.authorizations()).hasSize(2);
        assertThat(o.finalizeUrl()).isEqualTo("https://example.com/acme/order/TOlocE8rfgo/finalize");
        assertThat(o.certificateUrl()).isEqualTo("https://example.com/acme/cert/mAt3xBGaobw");
        assertThat(o.profile()).isEqualTo("tlsserver");
        assertThat(o.error()).isNull();
        assertThat(o.url()).isNull();
        assertThat(o.retryAfter()).isNull();
    }

    @Test
    void orderWithUnknownStatusAndErrorBinds() {
        String json = """
                {"status": "someFutureStatus", "error": {"type": "urn:ietf:params:acme:error:caa", "detail": "no"}}
                """;
        Order o = Json.read(json.getBytes(StandardCharsets.UTF_8), Order.class, "https://ca.test/o");
        assertThat(o.status()).isEqualTo(Status.UNKNOWN);
        assertThat(o.error().is("caa")).isTrue();
        assertThat(o.identifiers()).isEmpty();
        assertThat(o.authorizations()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"status\": }", "[]", "\"just a string\"", "{} {}", "{\"expires\": \"yesterday\"}",
            "null", "", "<html>502 Bad Gateway</html>"})
    void malformedJsonIsAProtocolError(String body) {
        assertThatThrownBy(() -> Json.read(body.getBytes(StandardCharsets.UTF_8), Order.class, "https://ca.test/order/9"))
                .isInstanceOf(AcmeProtocolException.class)
                .hasMessageContaining("https://ca.test/order/9");
    }

    // ---- CertificateChain ---------------------------------------------------------------------

    @Nested
    class Chains {

        private final KeyPair rootKey = KeyPairs.generate();
        private final KeyPair intermediateKey = KeyPairs.generate();
        private final KeyPair leafKey = KeyPairs.generate();
        private final X500Principal rootName = new X500Principal("CN=Anvil Test Root X1, O=Anvil Test, C=US");
        private final X500Principal intermediateName = new X500Principal("CN=Anvil Test E1, O=Anvil Test, C=US");

        private final X509Certificate root = cert(rootName, rootKey, rootName, rootKey, true);
        private final X509Certificate intermediate = cert(rootName, rootKey, intermediateName, intermediateKey, true);
        private final X509Certificate leaf = cert(intermediateName, intermediateKey, new X500Principal("CN=www.example.com"),
                leafKey, false);

        @Test
        void chainBuiltByTheTestIsValid() throws Exception {
            leaf.verify(intermediateKey.getPublic());
            intermediate.verify(rootKey.getPublic());
            root.verify(rootKey.getPublic());
        }

        @Test
        void topIssuerIsTheCommonNameOfTheRoot() {
            CertificateChain chain = new CertificateChain("https://ca.test/cert/1", "", List.of(leaf, intermediate), List.of());
            assertThat(chain.leaf()).isEqualTo(leaf);
            assertThat(chain.topIssuer()).isEqualTo("Anvil Test Root X1");

            CertificateChain leafOnly = new CertificateChain("https://ca.test/cert/1", "", List.of(leaf), List.of());
            assertThat(leafOnly.topIssuer()).isEqualTo("Anvil Test E1");
        }

        @Test
        void hasIssuerMatchesCommonNameOrDnCaseInsensitively() {
            CertificateChain chain = new CertificateChain("https://ca.test/cert/1", "", List.of(leaf, intermediate), List.of());
            assertThat(chain.hasIssuer("Anvil Test Root X1")).isTrue();
            assertThat(chain.hasIssuer("  anvil test ROOT x1 ")).isTrue();
            assertThat(chain.hasIssuer("CN=Anvil Test Root X1,O=Anvil Test,C=US")).isTrue();
            assertThat(chain.hasIssuer("cn=anvil test root x1,o=anvil test,c=us")).isTrue();
            assertThat(chain.hasIssuer("Anvil Test E1")).isFalse();
            assertThat(chain.hasIssuer("Anvil Test Root")).isFalse();
            assertThat(chain.hasIssuer("Anvil Test")).isFalse();
            assertThat(chain.hasIssuer("")).isFalse();
        }

        @Test
        void rootWithoutCommonNameIsNamedByItsDn() {
            X500Principal noCn = new X500Principal("OU=Roots, O=No CN Inc, C=DE");
            X509Certificate inter = cert(noCn, rootKey, intermediateName, intermediateKey, true);
            CertificateChain chain = new CertificateChain("u", "", List.of(leaf, inter), List.of());
            assertThat(chain.topIssuer()).isEqualTo("OU=Roots,O=No CN Inc,C=DE");
            assertThat(chain.hasIssuer("ou=roots,o=no cn inc,c=de")).isTrue();
        }

        @Test
        void commonNameWithSpecialCharactersIsNotEscaped() {
            X500Principal special = new X500Principal("CN=\"Example Trust, Inc. Root + 2\", O=Example Trust");
            X509Certificate inter = cert(special, rootKey, intermediateName, intermediateKey, true);
            CertificateChain chain = new CertificateChain("u", "", List.of(leaf, inter), List.of());
            assertThat(chain.topIssuer()).isEqualTo("Example Trust, Inc. Root + 2");
            assertThat(chain.hasIssuer("Example Trust, Inc. Root + 2")).isTrue();
        }

        @Test
        void parsesAPemChainLeafFirst() {
            String pem = Pem.write(leaf) + Pem.write(intermediate);
            CertificateChain chain = CertificateChain.parse("https://ca.test/cert/1", pem,
                    List.of("https://ca.test/cert/1/1"));
            assertThat(chain.certificates()).containsExactly(leaf, intermediate);
            assertThat(chain.pem()).isEqualTo(pem);
            assertThat(chain.alternates()).containsExactly("https://ca.test/cert/1/1");
            assertThat(chain.hasIssuer("Anvil Test Root X1")).isTrue();
        }

        @Test
        void unparseableDownloadsAreProtocolErrors() {
            assertThatThrownBy(() -> CertificateChain.parse("https://ca.test/cert/2", "", List.of()))
                    .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("no certificate");
            assertThatThrownBy(() -> CertificateChain.parse("https://ca.test/cert/2",
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", List.of()))
                    .isInstanceOf(AcmeProtocolException.class).hasMessageContaining("https://ca.test/cert/2");
        }

        @Test
        void chainListsAreImmutableCopies() {
            List<X509Certificate> certs = new ArrayList<>(List.of(leaf));
            CertificateChain chain = new CertificateChain("u", "", certs, new ArrayList<>());
            certs.add(intermediate);
            assertThat(chain.certificates()).containsExactly(leaf);
            assertThatThrownBy(() -> chain.alternates().add("x")).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static long serial = 1;

    private static synchronized X509Certificate cert(X500Principal issuer, KeyPair issuerKey, X500Principal subject,
                                                     KeyPair subjectKey, boolean ca) {
        try {
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(serial++),
                    java.util.Date.from(now.minusSeconds(60)), java.util.Date.from(now.plusSeconds(86_400)), subject,
                    subjectKey.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
