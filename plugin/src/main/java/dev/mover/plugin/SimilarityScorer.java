package dev.mover.plugin;

import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.Alignment;
import dev.mover.scoring.MassRule;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.PartialTransport;
import dev.mover.scoring.Solver;
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
    private final RescoreOptions options;
    /** Whether {@code doc_mass} makes the transport partial (metric wrd or wmd). */
    private final boolean partial;

    /**
     * One hit's similarity ({@code score}: non-negative, larger is better) and the raw value behind it (the transport
     * distance, or for maxSim the mean max cosine).
     */
    record Result(double score, double distance, boolean converged, List<Alignment> alignments, int[] docStarts, int[] docEnds) {
        List<String> describeAlignments(ModelService.QueryVectors q) {
            List<String> out = new ArrayList<>();
            for (Alignment a : alignments) {
                out.add(String.format(Locale.ROOT, "query token [%s] -> doc chars [%d, %d) flow %.4f cost %.4f",
                    q.token(a.queryToken()), docStarts[a.docToken()], docEnds[a.docToken()], a.flow(), a.cost()));
            }
            return out;
        }
    }

    /** @param queryWeights explicit query token weights (idf), or null for the metric's own masses */
    SimilarityScorer(MoverRescorerBuilder.MoverMetric metric, RescoreOptions options, ModelService.QueryVectors query,
                     double[] queryWeights) {
        this.metric = metric;
        this.query = query;
        this.options = options;
        OtScorer.Builder b = OtScorer.builder(metric == MoverRescorerBuilder.MoverMetric.WMD ? Metric.WMD : Metric.WRD);
        if (queryWeights != null) {
            b.massRule(MassRule.EXPLICIT);
        }
        if (options.solver() == RescoreOptions.Solver.SINKHORN) {
            b.solver(Solver.SINKHORN)
                .sinkhornEpsilon(options.epsilon(), options.epsilonRelative())
                .sinkhornTolerance(options.tolerance())
                .sinkhornMaxIterations(options.maxIterations());
        }
        this.scorer = b.build();
        this.prepared = scorer.prepareQuery(query.matrix(), queryWeights);
        this.partial = options.partial() && metric != MoverRescorerBuilder.MoverMetric.MAXSIM;
    }

    TokenVectorCodec.Decoded decodeRaw(BytesRef value, String field) {
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
        return d;
    }

    /** Similarity from a distance (or its lower bound, giving an upper bound of the similarity). */
    private double similarityOf(double distance) {
        return metric == MoverRescorerBuilder.MoverMetric.WRD ? Math.max(0.0, 1.0 - distance) : 1.0 / (1.0 + distance);
    }

    /**
     * The similarity implied by the centroid distance alone (one pass over the document's stored rows, no cost
     * matrix); +inf for maxSim. For exact EMD it is an upper bound of {@link Result#score()} (WCD bounds the distance
     * from below); for Sinkhorn it is not a bound, only a good guess of which hits score high, so solving in its order
     * raises the k-th best score early.
     */
    double centroidSimilarity(TokenMatrix doc, double[] docWeights) {
        if (metric == MoverRescorerBuilder.MoverMetric.MAXSIM) {
            return Double.POSITIVE_INFINITY;
        }
        return similarityOf(scorer.wcd(prepared, doc, docWeights));
    }

    /**
     * A cheap upper bound of {@link Result#score()} given {@link #centroidSimilarity}: that value for exact full EMD;
     * the similarity's own maximum (1) for Sinkhorn and for partial transport, whose values WCD does not bound (a
     * partial plan may leave part of the document unmatched, so its value can fall below the centroid distance);
     * +inf for maxSim.
     */
    double cheapUpperBound(double centroidSimilarity) {
        if (metric == MoverRescorerBuilder.MoverMetric.MAXSIM) {
            return Double.POSITIVE_INFINITY;
        }
        return partial || options.solver() == RescoreOptions.Solver.SINKHORN ? 1.0 : centroidSimilarity;
    }

    private OtScorer.Problem built;

    /**
     * Builds the transport problem (cost matrix and bounds) for {@code doc} and returns the tight upper bound of its
     * similarity; {@link #solveBuilt} then solves that same problem without building it again.
     */
    double buildAndBound(TokenMatrix doc, double[] docWeights) {
        built = scorer.buildProblem(prepared, doc, docWeights);
        double lb;
        if (partial) {
            // partial transport moves every query unit to some document token: RWMD(q -> d) is its only valid bound
            lb = built.rwmdQueryToDoc();
        } else if (options.solver() == RescoreOptions.Solver.SINKHORN) {
            // Sinkhorn's plan meets the query-side marginals exactly but the document side only within the tolerance,
            // so its value can fall below WCD or the document-side RWMD: only bounds that survive that are used.
            lb = Math.max(built.rwmdQueryToDoc(), built.rwmdDocToQuery() - options.tolerance() * built.costMax());
        } else {
            lb = Math.max(built.rwmd(), built.wcd());
        }
        return similarityOf(lb);
    }

    /**
     * For partial transport, the upper bound of the similarity from the ICT capacity bound of the problem
     * {@link #buildAndBound} built ({@link OtScorer#capacityBoundQueryToDoc} with the document capacities
     * {@code b_j / s}, less a {@code 1e-12 x cost_max} allowance for rounding), worth computing only when RWMD(q -> d)
     * failed to prune: it is the tightest bound partial transport has. +inf (no refinement) otherwise: on query-vs-passage
     * pairs the full ICT pruned no hit that max(WCD, RWMD, dual) kept ({@code ./mover bench rescore}: the same prunable
     * share) while taking about a sixth of the pruned path's time.
     */
    double capacityBound() {
        if (built == null || partial == false) {
            return Double.POSITIVE_INFINITY;
        }
        return similarityOf(scorer.capacityBoundQueryToDoc(built, fraction(built)) - 1e-12 * built.costMax());
    }

    /**
     * A tighter upper bound of the similarity of the problem {@link #buildAndBound} built, worth computing only when
     * that bound failed to prune (a few passes over the cost matrix, a small fraction of a solve): for exact full EMD,
     * from the dual bound {@link OtScorer#dualBound} (less a {@code 1e-12 x cost_max} allowance for rounding); +inf (no
     * refinement) for Sinkhorn and partial transport.
     */
    double refinedBound() {
        if (partial || options.solver() != RescoreOptions.Solver.EMD || built == null) {
            return Double.POSITIVE_INFINITY;
        }
        double dual = scorer.dualBound(built) - 1e-12 * built.costMax();
        return similarityOf(Math.max(dual, Math.max(built.rwmd(), built.wcd())));
    }

    Result solveBuilt(int alignments, int[] starts, int[] ends) {
        if (partial) {
            Result r = solvePartial(built, alignments, starts, ends);
            built = null;
            return r;
        }
        OtResult r = scorer.solve(built, alignments);
        built = null;
        return new Result(Math.max(0.0, r.similarity()), r.distance(), r.converged(), r.alignments(), starts, ends);
    }

    Result score(TokenMatrix doc, double[] docWeights, int alignments, int[] starts, int[] ends) {
        if (metric == MoverRescorerBuilder.MoverMetric.MAXSIM) {
            double m = scorer.maxSim(prepared, doc);
            return new Result(Math.max(0.0, m), m, true, List.of(), starts, ends);
        }
        if (partial) {
            return solvePartial(scorer.buildProblem(prepared, doc, docWeights), alignments, starts, ends);
        }
        OtResult r = scorer.score(prepared, doc, docWeights, alignments);
        return new Result(Math.max(0.0, r.similarity()), r.distance(), r.converged(), r.alignments(), starts, ends);
    }

    /** The document mass fraction: {@code doc_mass}, or for {@code auto} min(1, query tokens / document tokens). */
    private double fraction(OtScorer.Problem p) {
        return options.docMass() == RescoreOptions.DOC_MASS_AUTO ? PartialTransport.autoFraction(p.n(), p.m()) : options.docMass();
    }

    /**
     * Exact partial transport of the built problem: document mass fraction {@code doc_mass}, or for {@code auto}
     * min(1, query tokens / document tokens) counted over the tokens with positive mass.
     */
    private Result solvePartial(OtScorer.Problem p, int alignments, int[] starts, int[] ends) {
        OtResult r = scorer.solvePartial(p, fraction(p), alignments);
        return new Result(Math.max(0.0, r.similarity()), r.distance(), true, r.alignments(), starts, ends);
    }

    /** Decodes and scores; null for a value without tokens. */
    Result score(BytesRef value, String field, int alignments, java.util.function.Function<TokenVectorCodec.Decoded, double[]> docWeights) {
        TokenVectorCodec.Decoded d = decodeRaw(value, field);
        if (d.tokens() == 0) {
            return null;
        }
        TokenMatrix m = TokenMatrix.of(d);
        return score(m, docWeights == null ? null : docWeights.apply(d), alignments, d.starts(), d.ends());
    }
}
