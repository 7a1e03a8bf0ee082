package dev.anvil.acme.http01;

import java.util.List;

/** {@link ThumbprintSource#of}: a fixed list, primary first. */
record FixedThumbprints(List<String> thumbprints) implements ThumbprintSource {

    FixedThumbprints {
        thumbprints = List.copyOf(thumbprints);
    }

    @Override
    public String toString() {
        return "ThumbprintSource" + thumbprints;
    }
}
