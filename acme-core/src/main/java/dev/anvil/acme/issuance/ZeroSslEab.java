package dev.anvil.acme.issuance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.acme.AcmeException;
import dev.anvil.acme.AcmeNetworkException;
import dev.anvil.acme.AcmeProtocolException;
import dev.anvil.acme.AcmeServerException;
import dev.anvil.acme.ExternalAccountBinding;
import dev.anvil.acme.internal.Json;
import dev.anvil.acme.internal.Transport;
import java.io.IOException;
import java.time.Clock;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Obtains ZeroSSL EAB credentials automatically, from an email address
 * ({@code POST /acme/eab-credentials-email}) or a ZeroSSL API access key
 * ({@code POST /acme/eab-credentials?access_key=...}). The access key never appears in
 * messages or logs.
 */
public final class ZeroSslEab implements EabProvider {

    public static final String API = "https://api.zerossl.com";
    private static final int MAX_BODY = 64 * 1024;

    private final String apiBase;
    private final String email;
    private final String accessKey;

    private ZeroSslEab(String apiBase, String email, String accessKey) {
        this.apiBase = apiBase;
        this.email = email;
        this.accessKey = accessKey;
    }

    public static ZeroSslEab forEmail(String email) {
        return forEmail(API, email);
    }

    public static ZeroSslEab forApiKey(String accessKey) {
        return forApiKey(API, accessKey);
    }

    /** For tests: another API base URL. */
    public static ZeroSslEab forEmail(String apiBase, String email) {
        if (email == null || !email.matches("[^@\\s]+@[^@\\s]+\\.[^@\\s]+")) {
            throw new IllegalArgumentException("invalid email for ZeroSSL EAB: '" + email + "'");
        }
        return new ZeroSslEab(apiBase, email, null);
    }

    public static ZeroSslEab forApiKey(String apiBase, String accessKey) {
        if (accessKey == null || accessKey.isBlank()) {
            throw new IllegalArgumentException("ZeroSSL API access key is empty");
        }
        return new ZeroSslEab(apiBase, null, accessKey.trim());
    }

    @Override
    public ExternalAccountBinding fetch(OkHttpClient http) {
        HttpUrl base = HttpUrl.get(apiBase);
        Request request;
        if (email != null) {
            request = new Request.Builder().url(base.newBuilder().addPathSegments("acme/eab-credentials-email").build())
                    .post(new FormBody.Builder().add("email", email).build()).build();
        } else {
            request = new Request.Builder().url(base.newBuilder().addPathSegments("acme/eab-credentials")
                    .addQueryParameter("access_key", accessKey).build())
                    .post(new FormBody.Builder().build()).build();
        }
        String where = base.newBuilder().addPathSegments(email != null ? "acme/eab-credentials-email"
                : "acme/eab-credentials").build().toString();
        try (Response response = http.newCall(request).execute()) {
            byte[] body = response.body().byteStream().readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw new AcmeProtocolException("ZeroSSL EAB response from " + where + " exceeds " + MAX_BODY + " bytes");
            }
            JsonNode json;
            try {
                json = Json.tree(body, where);
            } catch (AcmeProtocolException e) {
                if (response.isSuccessful()) {
                    throw e;
                }
                // An HTML error page from a proxy or an outage: say which status, so 5xx is retried.
                throw new AcmeServerException(where, response.code(), null,
                        Transport.parseRetryAfter(response.header("Retry-After"), Clock.systemUTC()));
            }
            if (!json.path("success").asBoolean(false)) {
                JsonNode error = json.path("error");
                throw new AcmeException("ZeroSSL refused EAB credentials (HTTP " + response.code() + "): "
                        + error.path("type").asText("unknown") + " (code " + error.path("code").asText("?") + ")"
                        + (accessKey != null ? "; check the API access key" : "; check the email address"));
            }
            String kid = json.path("eab_kid").asText(null);
            String key = json.path("eab_hmac_key").asText(null);
            if (kid == null || key == null) {
                throw new AcmeProtocolException("ZeroSSL EAB response from " + where + " lacks eab_kid or eab_hmac_key");
            }
            try {
                return ExternalAccountBinding.of(kid, key);
            } catch (IllegalArgumentException e) {
                throw new AcmeProtocolException("ZeroSSL EAB response from " + where + ": " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new AcmeNetworkException("POST", where, e);
        }
    }

    @Override
    public String toString() {
        return "ZeroSslEab[" + (email != null ? "email " + email : "API key <redacted>") + "]";
    }
}
