package dev.mover.encoder.summarize;

import java.util.List;

/**
 * Embeds a batch of texts into one pooled sentence vector each (for example the pooled vectors of
 * {@code TextEncoder.encodeBatch(...)}). Vectors need not be normalized; all must have the same length.
 */
@FunctionalInterface
public interface SentenceEmbedder {

    /**
     * @param texts texts to embed, never empty
     * @return one vector per text, in the same order
     */
    float[][] embed(List<String> texts);
}
