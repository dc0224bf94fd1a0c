package dev.mover.encoder.text;

/**
 * A half-open range {@code [start, end)} of UTF-16 code units in a source string.
 *
 * @param start index of the first char, inclusive
 * @param end   index after the last char, exclusive
 */
public record Span(int start, int end) {

    public Span {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("[span] must satisfy 0 <= start <= end but was [" + start + ", " + end + ")");
        }
    }

    /** Number of UTF-16 code units covered. */
    public int length() {
        return end - start;
    }

    /** The covered text of {@code source} (the string the span was computed on). */
    public String text(String source) {
        return source.substring(start, end);
    }
}
