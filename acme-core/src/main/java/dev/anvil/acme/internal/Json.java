package dev.anvil.acme.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.anvil.acme.AcmeProtocolException;
import java.io.IOException;

/** The one JSON mapper: tolerant of unknown fields, strict about syntax. */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
                    JsonInclude.Include.NON_NULL))
            .build();

    private Json() {
    }

    public static <T> T read(byte[] body, Class<T> type, String url) {
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw new AcmeProtocolException("empty JSON body from " + url + ", expected " + type.getSimpleName());
            }
            return value;
        } catch (IOException e) {
            throw new AcmeProtocolException("malformed " + type.getSimpleName() + " JSON from " + url + ": "
                    + firstLine(e.getMessage()), e);
        }
    }

    public static JsonNode tree(byte[] body, String url) {
        return read(body, JsonNode.class, url);
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
