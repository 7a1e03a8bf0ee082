package dev.anvil.acme;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Map;

/** The CA's directory of endpoints and metadata (RFC 8555 section 7.1.1; renewalInfo RFC 9773). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Directory(String newNonce, String newAccount, String newOrder, String newAuthz,
                        String revokeCert, String keyChange, String renewalInfo, Meta meta) {

    public Directory {
        meta = meta == null ? new Meta(null, null, null, false, null) : meta;
    }

    /** Directory metadata (section 7.1.1; profiles per the ACME profiles extension). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Meta(String termsOfService, String website, List<String> caaIdentities,
                       boolean externalAccountRequired, Map<String, String> profiles) {
        public Meta {
            caaIdentities = caaIdentities == null ? List.of() : List.copyOf(caaIdentities);
            profiles = profiles == null ? Map.of() : Map.copyOf(profiles);
        }
    }

    public boolean supportsPreAuthorization() {
        return newAuthz != null;
    }

    public boolean supportsRenewalInfo() {
        return renewalInfo != null;
    }
}
