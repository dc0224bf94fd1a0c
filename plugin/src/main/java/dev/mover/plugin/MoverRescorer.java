package dev.mover.plugin;

import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.TokenMatrix;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.IndexReader;
import org.elasticsearch.common.xcontent.support.XContentMapValues;
import org.elasticsearch.search.lookup.SearchLookup;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.common.breaker.CircuitBreaker;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.Rescorer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Re-ranks the window by the mover similarity. Hits are visited in doc-id order so doc values are read forward only;
 * hits past the window are treated like hits without the field (first-pass score times {@code query_weight}),
 * exactly as Elasticsearch's query rescorer treats them.
 *
 * <p><b>Pruning</b> ({@code prune: true}, the default): every hit of the window gets an upper bound of its final
 * score from the WCD / RWMD lower bounds of its distance (before each solve, also the ICT capacity bound for partial
 * transport and the dual c-transform bound for exact EMD); exact solves run in descending order of that bound and stop
 * once the next bound is strictly below the {@code top_k}-th exact final score (top_k defaults to the request's
 * {@code from + size}). The hits left unsolved keep their upper bound as score, which is strictly below every hit of
 * the exact top k, so the top k (and the global top k after the shards' results merge) equal an unpruned run's. This
 * needs a final score that cannot decrease when the similarity grows: {@code rescore_query_weight >= 0}, and for
 * {@code score_mode: multiply} non-negative first-pass scores; otherwise every hit is solved.
 */
final class MoverRescorer implements Rescorer {
    static final MoverRescorer INSTANCE = new MoverRescorer();

    private static final Comparator<ScoreDoc> BY_SCORE = (a, b) -> {
        int c = Float.compare(b.score, a.score);
        return c != 0 ? c : Integer.compare(a.doc, b.doc);
    };

    static final class Context extends RescoreContext {
        final String field;
        final MoverRescorerBuilder.MoverMetric metric;
        final float queryWeight;
        final float rescoreQueryWeight;
        final MoverRescorerBuilder.ScoreMode scoreMode;
        final RescoreOptions options;
        final ModelService.QueryVectors query;
        final ModelService models;
        final Analyzer analyzer;
        final SearchLookup lookup;

        Context(int windowSize, String field, MoverRescorerBuilder.MoverMetric metric, float queryWeight, float rescoreQueryWeight,
                MoverRescorerBuilder.ScoreMode scoreMode, RescoreOptions options, ModelService.QueryVectors query, ModelService models,
                Analyzer analyzer, SearchLookup lookup) {
            super(windowSize, INSTANCE);
            this.field = field;
            this.metric = metric;
            this.queryWeight = queryWeight;
            this.rescoreQueryWeight = rescoreQueryWeight;
            this.scoreMode = scoreMode;
            this.options = options;
            this.query = query;
            this.models = models;
            this.analyzer = analyzer;
            this.lookup = lookup;
        }

        /** The similarity the final score uses: the OT (or maxSim) similarity blended with the pooled cosine. */
        double blend(double tokenSimilarity, double pooledCosine) {
            double beta = options.pooledWeight();
            if (beta == 0) {
                return tokenSimilarity;
            }
            return (1 - beta) * tokenSimilarity + beta * Math.max(0.0, Double.isNaN(pooledCosine) ? 0.0 : pooledCosine);
        }

        float combine(float firstPass, double similarity) {
            return scoreMode.combine(firstPass * queryWeight, (float) similarity * rescoreQueryWeight);
        }

        float combineMissing(float firstPass) {
            return firstPass * queryWeight;
        }

        /** Idf weights for this shard, or null when the request uses the metric's own masses. */
        IdfWeights idf(IndexReader reader) throws IOException {
            if (options.weights() == RescoreOptions.Weights.DEFAULT) {
                return null;
            }
            return new IdfWeights(options.textField(), analyzer, reader, options.weights() == RescoreOptions.Weights.NORM_IDF);
        }

        SimilarityScorer newScorer(IdfWeights idf) {
            double[] qw = idf == null ? null : idf.weights(query.text(), query.starts(), query.ends(), query.matrix());
            return new SimilarityScorer(metric, options, query, qw);
        }

        /** The document weights of one hit from its source text; throws if the text does not fit the stored offsets. */
        double[] docWeights(IdfWeights idf, LeafReaderContext leaf, int leafDoc, int[] starts, int[] ends, TokenMatrix doc)
            throws IOException {
            Object v = XContentMapValues.extractValue(options.textField(), lookup.getSource(leaf, leafDoc).source());
            if (v instanceof String == false) {
                throw new IllegalArgumentException("[text_field] [" + options.textField() + "] holds no text in a document that has ["
                    + field + "]");
            }
            String text = (String) v;
            if (starts.length > 0 && ends[ends.length - 1] > text.length()) {
                throw new IllegalArgumentException("[text_field] [" + options.textField() + "] is not the text [" + field
                    + "] was encoded from (token offsets run past its end)");
            }
            return idf.weights(text, starts, ends, doc);
        }
    }

    /** One window hit with its decoded vectors (null if the hit has no tokens). */
    private static final class Candidate {
        final ScoreDoc hit;
        final float firstPass;
        final TokenMatrix doc;
        final double[] weights;
        final double pooledCosine;
        float upperBound;
        float order;

        Candidate(ScoreDoc hit, TokenMatrix doc, double[] weights, double pooledCosine) {
            this.hit = hit;
            this.firstPass = hit.score;
            this.doc = doc;
            this.weights = weights;
            this.pooledCosine = pooledCosine;
        }
    }

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        Context ctx = (Context) rescoreContext;
        ScoreDoc[] hits = topDocs.scoreDocs;
        int window = Math.min(hits.length, ctx.getWindowSize());
        if (window == 0) {
            return topDocs;
        }
        ScoreDoc[] byDoc = Arrays.copyOf(hits, window);
        Arrays.sort(byDoc, Comparator.comparingInt(d -> d.doc));
        IdfWeights idf = ctx.idf(searcher.getIndexReader());
        SimilarityScorer scorer = ctx.newScorer(idf);
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int leafIdx = -1;
        int endDoc = 0;
        LeafReaderContext leaf = null;
        BinaryDocValues values = null;
        FloatVectorValues pooledValues = null;
        List<Candidate> candidates = new ArrayList<>(window);
        Set<Integer> rescored = new HashSet<>();
        CircuitBreaker breaker = ctx.models.requestBreaker();
        long accounted = 0;
        long maxWorkspace = 0;
        try {
        for (ScoreDoc hit : byDoc) {
            ctx.checkCancellation();
            while (hit.doc >= endDoc) {
                leaf = leaves.get(++leafIdx);
                endDoc = leaf.docBase + leaf.reader().maxDoc();
                values = leaf.reader().getBinaryDocValues(ctx.field);
                pooledValues = ctx.options.pooledField() == null ? null : leaf.reader().getFloatVectorValues(ctx.options.pooledField());
            }
            double pooledCosine = Double.NaN;
            if (pooledValues != null) {
                int leafDoc = hit.doc - leaf.docBase;
                if (pooledValues.docID() < leafDoc) {
                    pooledValues.advance(leafDoc);
                }
                if (pooledValues.docID() == leafDoc) {
                    pooledCosine = cosine(ctx.query.pooled(), pooledValues.vectorValue());
                }
            }
            TokenMatrix doc = null;
            double[] weights = null;
            if (values != null && values.advanceExact(hit.doc - leaf.docBase)) {
                BytesRef value = MoverTokensFieldMapper.unwrapDocValue(values.binaryValue(), ctx.field);
                TokenVectorCodec.Decoded decoded = scorer.decodeRaw(value, ctx.field);
                if (decoded.tokens() > 0) {
                    doc = TokenMatrix.of(decoded);
                    if (idf != null) {
                        weights = ctx.docWeights(idf, leaf, hit.doc - leaf.docBase, decoded.starts(), decoded.ends(), doc);
                    }
                }
                if (doc != null && breaker != null) {
                    // the decoded vectors stay alive for the whole rescore; the solver's workspace (cost matrix,
                    // plan, potentials) is reused, so only its largest size counts
                    long bytes = (long) doc.rows() * doc.dims() * Float.BYTES;
                    long workspace = workspaceBytes(doc.rows(), ctx.query.matrix().rows());
                    if (workspace > maxWorkspace) {
                        bytes += workspace - maxWorkspace;
                        maxWorkspace = workspace;
                    }
                    breaker.addEstimateBytesAndMaybeBreak(bytes, "mover_rescore");
                    accounted += bytes;
                }
            }
            candidates.add(new Candidate(hit, doc, weights, pooledCosine));
            rescored.add(hit.doc);
        }

        int topK = ctx.options.topK();
        boolean monotone = ctx.rescoreQueryWeight >= 0
            && (ctx.scoreMode != MoverRescorerBuilder.ScoreMode.MULTIPLY || allNonNegative(candidates));
        boolean prune = ctx.options.prune() && ctx.metric != MoverRescorerBuilder.MoverMetric.MAXSIM
            && topK > 0 && topK < window && monotone;
        int exact = 0;
        int pruned = 0;
        int notConverged = 0;
        if (prune) {
            PriorityQueue<Float> best = new PriorityQueue<>(topK);   // the top_k exact final scores, smallest on top
            List<Candidate> open = new ArrayList<>();
            for (Candidate c : candidates) {
                if (c.doc == null) {
                    c.hit.score = ctx.combineMissing(c.firstPass);
                    offer(best, topK, c.hit.score);
                } else {
                    double centroid = scorer.centroidSimilarity(c.doc, c.weights);
                    c.upperBound = ctx.combine(c.firstPass, ctx.blend(scorer.cheapUpperBound(centroid), c.pooledCosine));
                    c.order = ctx.combine(c.firstPass, ctx.blend(centroid, c.pooledCosine));
                    open.add(c);
                }
            }
            // Solve in descending order of the centroid estimate (no cost matrix; for exact EMD it is also the cheap
            // bound); a hit whose cheap or tight bound is strictly below the current top_k-th exact score can never
            // enter the top k, since that score only grows.
            open.sort((a, b) -> Float.compare(b.order, a.order));
            for (Candidate c : open) {
                ctx.checkCancellation();
                if (best.size() >= topK && c.upperBound < best.peek()) {
                    c.hit.score = c.upperBound;
                    pruned++;
                    continue;
                }
                float bound = ctx.combine(c.firstPass, ctx.blend(scorer.buildAndBound(c.doc, c.weights), c.pooledCosine));
                if (best.size() >= topK) {
                    // before paying for a solve: the ICT capacity bound (partial transport), the dual (c-transform)
                    // bound (exact EMD)
                    if (bound >= best.peek()) {
                        bound = ctx.combine(c.firstPass, ctx.blend(scorer.capacityBound(), c.pooledCosine));
                    }
                    if (bound >= best.peek()) {
                        bound = ctx.combine(c.firstPass, ctx.blend(scorer.refinedBound(), c.pooledCosine));
                    }
                    if (bound < best.peek()) {
                        c.hit.score = bound;
                        pruned++;
                        continue;
                    }
                }
                SimilarityScorer.Result r = scorer.solveBuilt(0, null, null);
                exact++;
                if (r.converged() == false) {
                    notConverged++;
                }
                c.hit.score = ctx.combine(c.firstPass, ctx.blend(r.score(), c.pooledCosine));
                offer(best, topK, c.hit.score);
            }
        } else {
            for (Candidate c : candidates) {
                ctx.checkCancellation();
                if (c.doc == null) {
                    c.hit.score = ctx.combineMissing(c.firstPass);
                } else {
                    SimilarityScorer.Result r = scorer.score(c.doc, c.weights, 0, null, null);
                    exact++;
                    if (r.converged() == false) {
                        notConverged++;
                    }
                    c.hit.score = ctx.combine(c.firstPass, ctx.blend(r.score(), c.pooledCosine));
                }
            }
        }
        for (int i = window; i < hits.length; i++) {
            hits[i].score *= ctx.queryWeight;
        }
        Arrays.sort(hits, BY_SCORE);
        ctx.setRescoredDocs(rescored);
        ctx.models.countRescore(window, exact, pruned, notConverged);
        return topDocs;
        } finally {
            if (breaker != null && accounted > 0) {
                breaker.addWithoutBreaking(-accounted);
            }
        }
    }

    /** Solver workspace for one n x m problem: the double cost matrix, a plan / kernel of the same size, and per-node arrays. */
    static long workspaceBytes(int docTokens, int queryTokens) {
        long cells = (long) docTokens * queryTokens;
        return 2 * cells * Double.BYTES + 64L * (docTokens + queryTokens);
    }

    static double cosine(float[] a, float[] b) {
        if (a == null || b == null || a.length != b.length) {
            return Double.NaN;
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? Double.NaN : dot / Math.sqrt(na * nb);
    }

    /** The pooled cosine of one hit, or NaN when the hit has no pooled vector or none is asked for. */
    static double pooledCosine(Context ctx, LeafReaderContext leaf, int leafDoc) throws IOException {
        if (ctx.options.pooledField() == null) {
            return Double.NaN;
        }
        FloatVectorValues fv = leaf.reader().getFloatVectorValues(ctx.options.pooledField());
        if (fv == null || fv.advance(leafDoc) != leafDoc) {
            return Double.NaN;
        }
        return cosine(ctx.query.pooled(), fv.vectorValue());
    }

    private static boolean allNonNegative(List<Candidate> cs) {
        for (Candidate c : cs) {
            if (c.firstPass < 0) {
                return false;
            }
        }
        return true;
    }

    private static void offer(PriorityQueue<Float> best, int k, float score) {
        if (best.size() < k) {
            best.add(score);
        } else if (score > best.peek()) {
            best.poll();
            best.add(score);
        }
    }

    /**
     * Scores single rescored hits again (explanations, alignments in the fetch phase). Built once per request and shard
     * reader, so the query is prepared and its idf weights computed once, not per hit.
     */
    static final class HitRescorer {
        private final Context ctx;
        private final IdfWeights idf;
        private final SimilarityScorer scorer;

        HitRescorer(Context ctx, IndexReader topLevelReader) throws IOException {
            this.ctx = ctx;
            this.idf = ctx.idf(topLevelReader);
            this.scorer = ctx.newScorer(idf);
        }

        /** The hit's similarity with up to {@code alignments} token pairs; null when it has no value or no tokens. */
        SimilarityScorer.Result score(LeafReaderContext leaf, int leafDoc, int alignments) throws IOException {
            BinaryDocValues values = leaf.reader().getBinaryDocValues(ctx.field);
            if (values == null || values.advanceExact(leafDoc) == false) {
                return null;
            }
            return scorer.score(MoverTokensFieldMapper.unwrapDocValue(values.binaryValue(), ctx.field), ctx.field, alignments,
                idf == null ? null : d -> {
                    try {
                        return ctx.docWeights(idf, leaf, leafDoc, d.starts(), d.ends(), TokenMatrix.of(d));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        }
    }

    @Override
    public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext, Explanation sourceExplanation)
        throws IOException {
        Context ctx = (Context) rescoreContext;
        if (sourceExplanation == null) {
            return Explanation.noMatch("no match found");
        }
        float first = sourceExplanation.getValue().floatValue();
        Explanation prim = Explanation.match(first * ctx.queryWeight, "product of:", sourceExplanation,
            Explanation.match(ctx.queryWeight, "primaryWeight"));
        if (ctx.isRescored(topLevelDocId) == false) {
            return prim;
        }
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(topLevelDocId, leaves));
        SimilarityScorer.Result r = new HitRescorer(ctx, searcher.getIndexReader())
            .score(leaf, topLevelDocId - leaf.docBase, Math.max(3, ctx.options.alignments()));
        if (r == null) {
            return Explanation.match(ctx.combineMissing(first), "document has no tokens in [" + ctx.field + "]", prim);
        }
        List<Explanation> details = new ArrayList<>();
        details.add(Explanation.match((float) r.distance(), ctx.metric == MoverRescorerBuilder.MoverMetric.MAXSIM
            ? "maxsim (mean over query tokens of the max cosine)" : ctx.metric + " distance (" + ctx.options.solver() + ")"));
        for (String a : r.describeAlignments(ctx.query)) {
            details.add(Explanation.match(0f, a));
        }
        double pooled = pooledCosine(ctx, leaf, topLevelDocId - leaf.docBase);
        double sim = ctx.blend(r.score(), pooled);
        if (ctx.options.pooledWeight() > 0) {
            details.add(Explanation.match((float) (Double.isNaN(pooled) ? 0 : pooled),
                "pooled cosine [" + ctx.options.pooledField() + "] weighted [" + ctx.options.pooledWeight() + "] against token similarity "
                    + r.score()));
        }
        Explanation sec = Explanation.match((float) sim * ctx.rescoreQueryWeight,
            "mover " + ctx.metric + " similarity " + sim + " times rescore_query_weight " + ctx.rescoreQueryWeight, details);
        return Explanation.match(ctx.combine(first, sim), "score mode [" + ctx.scoreMode + "] combined:", prim, sec);
    }
}
