package dev.mover.plugin;

import dev.mover.encoder.TokenVectorCodec;
import dev.mover.scoring.Alignment;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;

import org.apache.lucene.util.BytesRef;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Scores stored token vectors against one query for one rescore pass (thread-confined: it owns the solver's
 * reusable buffers).
 */
final class SimilarityScorer {
    private final MoverRescorerBuilder.MoverMetric metric;
    private final ModelService.QueryVectors query;
    private final OtScorer scorer;
    private final OtScorer.Prepared prepared;
    private final int alignments;

    /** One hit's similarity ({@code score} is non-negative, larger is better) and the raw distance. */
    record Result(double score, double distance, List<Alignment> alignments, int[] docStarts, int[] docEnds) {
        List<String> describeAlignments(ModelService.QueryVectors q) {
            List<String> out = new ArrayList<>();
            for (Alignment a : alignments) {
                out.add(String.format(Locale.ROOT, "query token [%s] -> doc chars [%d, %d) flow %.4f cost %.4f",
                    q.token(a.queryToken()), docStarts[a.docToken()], docEnds[a.docToken()], a.flow(), a.cost()));
            }
            return out;
        }
    }

    SimilarityScorer(MoverRescorerBuilder.MoverMetric metric, ModelService.QueryVectors query) {
        this(metric, query, 0);
    }

    SimilarityScorer(MoverRescorerBuilder.MoverMetric metric, ModelService.QueryVectors query, int alignments) {
        this.metric = metric;
        this.query = query;
        this.alignments = alignments;
        this.scorer = OtScorer.builder(metric == MoverRescorerBuilder.MoverMetric.WMD ? Metric.WMD : Metric.WRD).build();
        this.prepared = scorer.prepareQuery(query.matrix(), null);
    }

    /** Returns null for a document whose value holds no tokens (empty text). */
    Result score(BytesRef value, String field) {
        TokenVectorCodec.Decoded d;
        try {
            d = TokenVectorCodec.decode(value.bytes, value.offset, value.length);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("[" + field + "] corrupt stored token vectors: " + e.getMessage(), e);
        }
        if (d.fingerprint() != query.fingerprint()) {
            throw new IllegalArgumentException("[" + field + "] was encoded by another model than [" + query.model()
                + "] that encoded [query_text]");
        }
        if (d.tokens() == 0) {
            return null;
        }
        TokenMatrix doc = TokenMatrix.of(d.vectors(), d.tokens(), d.dims());
        if (metric == MoverRescorerBuilder.MoverMetric.MAXSIM) {
            double m = scorer.maxSim(prepared, doc);
            return new Result(Math.max(0.0, m), 1.0 - m, List.of(), d.starts(), d.ends());
        }
        OtResult r = scorer.score(prepared, doc, null, alignments);
        return new Result(Math.max(0.0, r.similarity()), r.distance(), r.alignments(), d.starts(), d.ends());
    }
}
