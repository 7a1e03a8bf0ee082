package dev.anvil.acme.crypto;

/** Key types for account and certificate keys. EC P-256 is the default for both. */
public enum KeyType {
    EC_P256("EC", "secp256r1", 256, "SHA256withECDSA"),
    EC_P384("EC", "secp384r1", 384, "SHA384withECDSA"),
    RSA_2048("RSA", null, 2048, "SHA256withRSA"),
    RSA_3072("RSA", null, 3072, "SHA256withRSA"),
    RSA_4096("RSA", null, 4096, "SHA256withRSA");

    private final String algorithm;
    private final String curve;
    private final int bits;
    private final String signatureAlgorithm;

    KeyType(String algorithm, String curve, int bits, String signatureAlgorithm) {
        this.algorithm = algorithm;
        this.curve = curve;
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    public String algorithm() {
        return algorithm;
    }

    /** The standard curve name for EC types, null for RSA. */
    public String curve() {
        return curve;
    }

    public int bits() {
        return bits;
    }

    /** The JCA signature algorithm a CSR made with this key uses. */
    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }
}
