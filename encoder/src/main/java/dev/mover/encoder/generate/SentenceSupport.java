package dev.mover.encoder.generate;

/**
 * One sentence of a generated summary and how well the source supports it.
 *
 * @param start     offset of the sentence in the summary text (UTF-16, inclusive)
 * @param end       offset after the sentence (exclusive)
 * @param text      the sentence
 * @param overlap   share of the sentence's n-grams found in the source, in [0, 1]
 * @param ngrams    number of n-grams the sentence has (0 for a sentence without words, which counts as supported)
 * @param supported whether {@code overlap} reaches the checker's threshold
 */
public record SentenceSupport(int start, int end, String text, double overlap, int ngrams, boolean supported) {}
