package dev.mover.encoder.summarize;

import java.util.List;

/**
 * Optional replacement of the pooled-cosine query relevance of the {@link Summarizer}, e.g. a token-level score
 * (one-sided relaxed transport or maxSim between the query's and a unit's token vectors).
 */
@FunctionalInterface
public interface RelevanceScorer {

    /**
     * @param query the query text (never blank)
     * @param units the candidate units' texts, in document order
     * @return one relevance per unit, larger is more relevant, on a cosine-like scale in [-1, 1] so that it mixes with
     *     the centrality as the pooled cosine does
     */
    double[] score(String query, List<String> units);
}
