package dev.anvil.acme.http01;

/**
 * The one place that decides whether a challenge token is acceptable. RFC 8555 section 8.1
 * makes a token base64url; anything else ({@code ..}, {@code /}, {@code \}, {@code %2e}, an
 * empty or oversized string) is refused before it can become a file name or reach a response.
 * The limit matches core's {@link dev.anvil.acme.AccountSession#keyAuthorization(String)}.
 */
public final class ChallengeTokens {

    /** Longest token accepted; real CAs send 43 characters (256 bits). */
    public static final int MAX_LENGTH = 512;

    private ChallengeTokens() {
    }

    /** Whether the token is 1 to {@link #MAX_LENGTH} characters of {@code [A-Za-z0-9_-]}. */
    public static boolean isValid(String token) {
        if (token == null || token.isEmpty() || token.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Returns the token when valid, throws {@link InvalidTokenException} naming the problem otherwise. */
    public static String requireValid(String token) {
        if (isValid(token)) {
            return token;
        }
        String why;
        if (token == null) {
            why = "it is missing";
        } else if (token.isEmpty()) {
            why = "it is empty";
        } else if (token.length() > MAX_LENGTH) {
            why = "it is " + token.length() + " characters long (at most " + MAX_LENGTH + ")";
        } else {
            why = "it contains characters outside base64url [A-Za-z0-9_-]";
        }
        throw new InvalidTokenException("ACME challenge token refused: " + why
                + (token == null || token.isEmpty() ? "" : " ('" + printable(token) + "')"));
    }

    /** A short, escaped rendering of untrusted input for messages and logs. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(s.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '\'' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > n) {
            b.append("...");
        }
        return b.toString();
    }
}
