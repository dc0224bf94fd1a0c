package dev.mover.scoring.lucene;

import dev.mover.scoring.Alignment;
import dev.mover.scoring.MassRule;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;
import dev.mover.scoring.codec.TokenVectorCodec;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Rescorer;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * Re-ranks the hits of a first-pass search by an optimal-transport similarity (WRD or WMD) or by ColBERT maxSim
 * between a query's token vectors and each hit's stored token vectors, with plain Lucene (no Elasticsearch).
 *
 * <p><b>Stored values.</b> The field is a binary doc-values field holding one {@link TokenVectorCodec} value per
 * document, in either of two layouts, detected per value by the codec's magic bytes {@code MVTV}:
 * <ul>
 *   <li>bare: the codec bytes alone (what {@code new BinaryDocValuesField(field, new BytesRef(codecBytes))} stores);</li>
 *   <li>Elasticsearch {@code binary} doc values, as the {@code mover_tokens} field writes them: vint value count
 *       (must be 1), vint length, then the codec bytes. So a Lucene index written by Elasticsearch can be rescored
 *       directly.</li>
 * </ul>
 *
 * <p><b>Score.</b> For each hit of the first pass (all of {@code firstPass.scoreDocs} form the window):
 * {@code score = (float) (queryWeight * firstPassScore + rescoreWeight * similarity)} with
 * <ul>
 *   <li>WRD: {@code similarity = max(0, 1 - WRD)};</li>
 *   <li>WMD: {@code similarity = 1 / (1 + WMD)};</li>
 *   <li>maxSim: {@code similarity = max(0, mean over query tokens of the max cosine to a document token)};</li>
 *   <li>hits without a value, or whose value holds no tokens: {@code similarity = 0}.</li>
 * </ul>
 * These are the formulas of the Elasticsearch {@code mover} rescorer (score mode {@code total}), so both give the
 * same scores for the same stored values. The top {@code topN} hits are returned sorted by score descending, then doc
 * id ascending; the {@link ScoreDoc}s of the first pass are not modified.
 *
 * <p><b>Pruning</b> ({@link Builder#prune(boolean)}, on by default): every hit gets an upper bound of its final score
 * from the lower bound {@code max(WCD, RWMD)} of its distance (one cost matrix, no solver). Exact solves run in
 * descending order of that bound and stop once the next bound is strictly below the {@code topN}-th exact score found
 * so far; the hits left unsolved cannot reach the top {@code topN}, so the result is identical to an unpruned run's
 * (with Sinkhorn: as long as the solves converge, see {@link Stats#notConverged()}; the bound then allows for the
 * tolerated marginal error).
 * This needs a final score that cannot decrease when the similarity grows, so it applies only when
 * {@code rescoreWeight >= 0}, for WRD and WMD (maxSim has no bound), and when {@code topN} is below the window size;
 * otherwise every hit is solved. {@link #rescoreWithStats} reports how many solves were skipped.
 *
 * <p>Hits are visited in doc-id order so doc values are read forward only, segment by segment. An instance is
 * immutable and may be shared by threads: each call makes its own solver workspace.
 *
 * <p>Example:
 * <pre>{@code
 * // indexing: one codec value per document (here bare; values written by Elasticsearch work as well)
 * byte[] value = TokenVectorCodec.encode(vectors, dims, starts, ends, TokenVectorCodec.Encoding.INT8, modelFingerprint);
 * // (from mover-encoder output: EncodedTextCodec.encode(encoder.encode(text), Encoding.INT8, encoder.fingerprint()))
 * doc.add(new BinaryDocValuesField("body_tokens", new BytesRef(value)));
 *
 * // searching: BM25 first, then WRD over the best 100 hits
 * TopDocs firstPass = searcher.search(new TermQuery(new Term("body", "fox")), 100);
 * MoverRescorer rescorer = MoverRescorer.builder("body_tokens", TokenMatrix.of(queryVectors, queryTokens, dims), modelFingerprint)
 *     .metric(Metric.WRD)             // or WMD, or .maxSim(true)
 *     .queryWeight(0).rescoreWeight(1)
 *     .build();
 * TopDocs top10 = rescorer.rescore(searcher, firstPass, 10);
 * Explanation why = rescorer.explain(searcher, searcher.explain(query, top10.scoreDocs[0].doc), top10.scoreDocs[0].doc);
 * }</pre>
 */
public final class MoverRescorer extends Rescorer {
    /** Relative slack subtracted from distance lower bounds so that rounding never prunes a hit that could win. */
    private static final double BOUND_SLACK = 1e-9;

    private static final Comparator<ScoreDoc> BY_SCORE = (a, b) -> {
        int c = Float.compare(b.score, a.score);
        return c != 0 ? c : Integer.compare(a.doc, b.doc);
    };

    private final String field;
    private final TokenMatrix query;
    private final long fingerprint;
    private final Metric metric;
    private final boolean maxSim;
    private final MassRule massRule;
    private final Solver solver;
    private final double sinkhornEpsilon;
    private final boolean sinkhornRelative;
    private final double sinkhornTolerance;
    private final int sinkhornMaxIterations;
    private final double queryWeight;
    private final double rescoreWeight;
    private final boolean prune;
    private final int explainAlignments;
    private final String[] queryLabels;
    private final OtScorer.Prepared prepared;

    private MoverRescorer(Builder b) {
        this.field = b.field;
        this.query = b.query;
        this.fingerprint = b.fingerprint;
        this.metric = b.metric;
        this.maxSim = b.maxSim;
        this.massRule = b.massRule;
        this.solver = b.solver;
        this.sinkhornEpsilon = b.sinkhornEpsilon;
        this.sinkhornRelative = b.sinkhornRelative;
        this.sinkhornTolerance = b.sinkhornTolerance;
        this.sinkhornMaxIterations = b.sinkhornMaxIterations;
        this.queryWeight = b.queryWeight;
        this.rescoreWeight = b.rescoreWeight;
        this.prune = b.prune;
        this.explainAlignments = b.explainAlignments;
        this.queryLabels = b.queryLabels;
        OtScorer scorer;
        try {
            scorer = newScorer();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] " + e.getMessage(), e);
        }
        try {
            this.prepared = scorer.prepareQuery(query, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] query tokens are unusable: " + e.getMessage(), e);
        }
    }

    /**
     * Starts a rescorer over {@code field} for a query given as token vectors.
     *
     * @param field the binary doc-values field holding the documents' token vectors
     * @param query the query's token vectors (at least one token)
     * @param queryFingerprint the fingerprint of the model that made the query vectors; stored values must carry the
     *     same one
     */
    public static Builder builder(String field, TokenMatrix query, long queryFingerprint) {
        return new Builder(field, query, queryFingerprint);
    }

    /**
     * Starts a rescorer over {@code field} for a query given as one {@link TokenVectorCodec} value (bare), which
     * carries the vectors, their dims and the model fingerprint.
     *
     * @throws IllegalArgumentException if the value is not a valid codec value or holds no tokens
     */
    public static Builder builder(String field, byte[] encodedQuery) {
        Objects.requireNonNull(encodedQuery, "encodedQuery");
        TokenVectorCodec.Decoded d;
        try {
            d = TokenVectorCodec.decode(encodedQuery, 0, encodedQuery.length);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] query value is invalid: " + e.getMessage(), e);
        }
        return new Builder(field, TokenMatrix.of(d), d.fingerprint());
    }

    /** Configuration of a {@link MoverRescorer}; defaults are those of the Elasticsearch {@code mover} rescorer. */
    public static final class Builder {
        private final String field;
        private final TokenMatrix query;
        private final long fingerprint;
        private Metric metric = Metric.WRD;
        private boolean maxSim;
        private MassRule massRule;
        private Solver solver = Solver.EMD;
        private double sinkhornEpsilon = 0.05;
        private boolean sinkhornRelative = true;
        private double sinkhornTolerance = 1e-6;
        private int sinkhornMaxIterations = 1000;
        private double queryWeight = 0.0;
        private double rescoreWeight = 1.0;
        private boolean prune = true;
        private int explainAlignments = 3;
        private String[] queryLabels;

        private Builder(String field, TokenMatrix query, long fingerprint) {
            if (field == null || field.isEmpty()) {
                throw new IllegalArgumentException("[mover] field must be a non-empty name but was [" + field + "]");
            }
            if (query == null) {
                throw new IllegalArgumentException("[" + field + "] query tokens must not be null");
            }
            this.field = field;
            this.query = query;
            this.fingerprint = fingerprint;
        }

        /** The transport distance: {@link Metric#WRD} (default) or {@link Metric#WMD}. Ignored with {@link #maxSim}. */
        public Builder metric(Metric metric) {
            if (metric == null) {
                throw new IllegalArgumentException("[" + field + "] metric must not be null");
            }
            this.metric = metric;
            return this;
        }

        /** Scores by ColBERT maxSim (mean over query tokens of the max cosine) instead of a transport distance. */
        public Builder maxSim(boolean maxSim) {
            this.maxSim = maxSim;
            return this;
        }

        /**
         * Token masses: {@link MassRule#UNIFORM} or {@link MassRule#NORM}; defaults to the metric's own rule (norm for
         * WRD, uniform for WMD). Explicit weights need per-document weights and are not supported here.
         */
        public Builder massRule(MassRule rule) {
            if (rule == MassRule.EXPLICIT) {
                throw new IllegalArgumentException("[" + field + "] mass rule [explicit] is not supported by the Lucene rescorer");
            }
            this.massRule = rule;
            return this;
        }

        /** The solver: {@link Solver#EMD} (exact, default) or {@link Solver#SINKHORN}. */
        public Builder solver(Solver solver) {
            if (solver == null) {
                throw new IllegalArgumentException("[" + field + "] solver must not be null");
            }
            this.solver = solver;
            return this;
        }

        /**
         * Sinkhorn settings (defaults: epsilon 0.05 relative to the max cost, tolerance 1e-6, 1000 iterations). Values
         * are checked when the rescorer is built.
         */
        public Builder sinkhorn(double epsilon, boolean relativeToMaxCost, double tolerance, int maxIterations) {
            this.sinkhornEpsilon = epsilon;
            this.sinkhornRelative = relativeToMaxCost;
            this.sinkhornTolerance = tolerance;
            this.sinkhornMaxIterations = maxIterations;
            return this;
        }

        /** Weight of the first-pass score (default 0: the order is the similarity's alone). */
        public Builder queryWeight(double w) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("[" + field + "] query weight must be finite but was [" + w + "]");
            }
            this.queryWeight = w;
            return this;
        }

        /** Weight of the similarity (default 1). */
        public Builder rescoreWeight(double w) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("[" + field + "] rescore weight must be finite but was [" + w + "]");
            }
            this.rescoreWeight = w;
            return this;
        }

        /** Exact WCD / RWMD pruning (default true); the top N is the same either way. */
        public Builder prune(boolean prune) {
            this.prune = prune;
            return this;
        }

        /** How many of the strongest flows {@link MoverRescorer#explain} lists (default 3). */
        public Builder explainAlignments(int k) {
            if (k < 0) {
                throw new IllegalArgumentException("[" + field + "] explain alignments must be >= 0 but was [" + k + "]");
            }
            this.explainAlignments = k;
            return this;
        }

        /** Optional text of each query token, used by {@link MoverRescorer#explain}; one label per query token. */
        public Builder queryTokenLabels(String... labels) {
            if (labels != null && labels.length != query.rows()) {
                throw new IllegalArgumentException("[" + field + "] query token labels must be one per query token: ["
                    + labels.length + "] labels for [" + query.rows() + "] tokens");
            }
            this.queryLabels = labels == null ? null : labels.clone();
            return this;
        }

        /**
         * Builds the rescorer and prepares the query once.
         *
         * @throws IllegalArgumentException if the query has no usable token or the Sinkhorn settings are invalid
         */
        public MoverRescorer build() {
            if (massRule == null) {
                massRule = metric.defaultMassRule();
            }
            return new MoverRescorer(this);
        }
    }

    /**
     * The outcome of one {@link #rescoreWithStats} call.
     *
     * @param topDocs the top N, as {@link #rescore} returns it
     * @param window number of first-pass hits considered
     * @param missing hits without a value (or with an empty one) in the field
     * @param exactSolves hits scored exactly (transport solved, or maxSim computed)
     * @param pruned hits whose exact solve was skipped because their bound could not reach the top N
     * @param notConverged exact Sinkhorn solves that stopped at the iteration cap
     */
    public record Stats(TopDocs topDocs, int window, int missing, int exactSolves, int pruned, int notConverged) {}

    @Override
    public TopDocs rescore(IndexSearcher searcher, TopDocs firstPass, int topN) throws IOException {
        return rescoreWithStats(searcher, firstPass, topN).topDocs();
    }

    /** One window hit with its decoded tokens (null if the hit has no value or no tokens). */
    private static final class Candidate {
        final ScoreDoc out;
        final float firstPass;
        final TokenMatrix doc;
        float upperBound;

        Candidate(ScoreDoc hit, TokenMatrix doc) {
            this.out = new ScoreDoc(hit.doc, hit.score, hit.shardIndex);
            this.firstPass = hit.score;
            this.doc = doc;
        }
    }

    /**
     * Like {@link #rescore} and also reports the work done.
     *
     * @throws IllegalArgumentException if a stored value was made by another model (fingerprint) or has other dims than
     *     the query, or if a distance is undefined for a document (e.g. WRD over all-zero vectors)
     * @throws IllegalStateException if a stored value is corrupt
     */
    public Stats rescoreWithStats(IndexSearcher searcher, TopDocs firstPass, int topN) throws IOException {
        Objects.requireNonNull(searcher, "searcher");
        Objects.requireNonNull(firstPass, "firstPass");
        if (topN < 0) {
            throw new IllegalArgumentException("[" + field + "] topN must be >= 0 but was [" + topN + "]");
        }
        ScoreDoc[] hits = firstPass.scoreDocs.clone();
        int window = hits.length;
        Arrays.sort(hits, Comparator.comparingInt(d -> d.doc));
        OtScorer scorer = newScorer();
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int leafIdx = -1;
        int endDoc = 0;
        LeafReaderContext leaf = null;
        BinaryDocValues values = null;
        List<Candidate> candidates = new ArrayList<>(window);
        int missing = 0;
        int lastDoc = -1;
        TokenMatrix lastMatrix = null;
        for (ScoreDoc hit : hits) {
            TokenMatrix doc;
            if (hit.doc == lastDoc) {
                doc = lastMatrix;   // a repeated hit: doc values cannot be read backwards
            } else {
                while (hit.doc >= endDoc) {
                    if (leafIdx + 1 >= leaves.size()) {
                        throw new IllegalArgumentException("[" + field + "] hit doc [" + hit.doc + "] is outside the index of ["
                            + searcher.getIndexReader().maxDoc() + "] docs");
                    }
                    leaf = leaves.get(++leafIdx);
                    endDoc = leaf.docBase + leaf.reader().maxDoc();
                    values = leaf.reader().getBinaryDocValues(field);
                }
                doc = null;
                if (values != null && values.advanceExact(hit.doc - leaf.docBase)) {
                    doc = decode(values.binaryValue(), hit.doc).matrix;
                }
                lastDoc = hit.doc;
                lastMatrix = doc;
            }
            if (doc == null) {
                missing++;
            }
            candidates.add(new Candidate(hit, doc));
        }

        int exact = 0;
        int pruned = 0;
        int notConverged = 0;
        boolean pruning = prune && !maxSim && rescoreWeight >= 0 && topN > 0 && topN < window;
        if (pruning) {
            PriorityQueue<Float> best = new PriorityQueue<>(topN);   // the topN best exact scores, smallest on top
            List<Candidate> open = new ArrayList<>();
            for (Candidate c : candidates) {
                if (c.doc == null) {
                    c.out.score = combine(c.firstPass, 0.0);
                    offer(best, topN, c.out.score);
                } else {
                    double lb = lowerBound(scorer, c.doc, c.out.doc);
                    c.upperBound = combine(c.firstPass, similarityOf(lb - BOUND_SLACK * (1 + Math.abs(lb))));
                    open.add(c);
                }
            }
            open.sort((a, b) -> {
                int cmp = Float.compare(b.upperBound, a.upperBound);
                return cmp != 0 ? cmp : Integer.compare(a.out.doc, b.out.doc);
            });
            for (Candidate c : open) {
                if (best.size() >= topN && c.upperBound < best.peek()) {
                    c.out.score = c.upperBound;   // strictly below the topN-th exact score: never returned
                    pruned++;
                    continue;
                }
                Scored s = score(scorer, c.doc, c.out.doc, 0);
                exact++;
                if (!s.converged) {
                    notConverged++;
                }
                c.out.score = combine(c.firstPass, s.similarity);
                offer(best, topN, c.out.score);
            }
        } else {
            for (Candidate c : candidates) {
                if (c.doc == null) {
                    c.out.score = combine(c.firstPass, 0.0);
                } else {
                    Scored s = score(scorer, c.doc, c.out.doc, 0);
                    exact++;
                    if (!s.converged) {
                        notConverged++;
                    }
                    c.out.score = combine(c.firstPass, s.similarity);
                }
            }
        }
        ScoreDoc[] out = new ScoreDoc[window];
        for (int i = 0; i < window; i++) {
            out[i] = candidates.get(i).out;
        }
        Arrays.sort(out, BY_SCORE);
        if (topN < window) {
            out = Arrays.copyOf(out, topN);
        }
        return new Stats(new TopDocs(firstPass.totalHits, out), window, missing, exact, pruned, notConverged);
    }

    /**
     * Explains the rescored score of {@code docID}: the first-pass part, the distance, the similarity and the strongest
     * flows. Its value equals the score {@link #rescore} gives the hit (for pruned hits, which are never returned, the
     * exact score rather than their bound).
     */
    @Override
    public Explanation explain(IndexSearcher searcher, Explanation firstPassExplanation, int docID) throws IOException {
        Objects.requireNonNull(firstPassExplanation, "firstPassExplanation");
        float first = firstPassExplanation.getValue().floatValue();
        Explanation firstPart = Explanation.match(queryWeight * first, "first pass score times query_weight [" + queryWeight + "]",
            firstPassExplanation);
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(docID, leaves));
        BinaryDocValues values = leaf.reader().getBinaryDocValues(field);
        Value v = null;
        if (values != null && values.advanceExact(docID - leaf.docBase)) {
            v = decode(values.binaryValue(), docID);
        }
        String what = "mover " + describeMeasure() + " rescore: query_weight * first pass + rescore_weight * similarity";
        if (v == null || v.matrix == null) {
            Explanation sim = Explanation.match(0.0, "similarity 0: document has no tokens in [" + field + "]");
            return Explanation.match(combine(first, 0.0), what, firstPart,
                Explanation.match(0.0, "similarity times rescore_weight [" + rescoreWeight + "]", sim));
        }
        Scored s = score(newScorer(), v.matrix, docID, explainAlignments);
        List<Explanation> details = new ArrayList<>();
        if (maxSim) {
            details.add(Explanation.match(s.raw, "maxsim: mean over query tokens of the max cosine to a document token"));
        } else {
            details.add(Explanation.match(s.raw, metric.name().toLowerCase(Locale.ROOT) + " distance (" + solver.name().toLowerCase(Locale.ROOT)
                + (s.converged ? "" : ", not converged") + "), lower bound max(wcd, rwmd) " + s.lowerBound));
            for (Alignment a : s.alignments) {
                details.add(Explanation.match(a.flow(), String.format(Locale.ROOT,
                    "flow from query token [%s] to doc token [%d] (chars [%d, %d)), cost %.6f",
                    queryLabels == null ? Integer.toString(a.queryToken()) : queryLabels[a.queryToken()],
                    a.docToken(), v.starts[a.docToken()], v.ends[a.docToken()], a.cost())));
            }
        }
        Explanation sim = Explanation.match(s.similarity, "similarity " + describeSimilarity(), details);
        return Explanation.match(combine(first, s.similarity), what, firstPart,
            Explanation.match(rescoreWeight * s.similarity, "similarity times rescore_weight [" + rescoreWeight + "]", sim));
    }

    private String describeMeasure() {
        return maxSim ? "maxsim" : metric.name().toLowerCase(Locale.ROOT);
    }

    private String describeSimilarity() {
        if (maxSim) {
            return "max(0, maxsim)";
        }
        return metric == Metric.WRD ? "max(0, 1 - wrd)" : "1 / (1 + wmd)";
    }

    /** The final score; {@link #explain} and {@link #rescore} both use this. */
    private float combine(float firstPass, double similarity) {
        return (float) (queryWeight * firstPass + rescoreWeight * similarity);
    }

    /** The similarity of a distance (or of a distance bound, giving a similarity bound). */
    private double similarityOf(double distance) {
        return metric == Metric.WRD ? Math.max(0.0, 1.0 - distance) : 1.0 / (1.0 + Math.max(0.0, distance));
    }

    private static void offer(PriorityQueue<Float> best, int k, float score) {
        if (best.size() < k) {
            best.add(score);
        } else if (score > best.peek()) {
            best.poll();
            best.add(score);
        }
    }

    private OtScorer newScorer() {
        OtScorer.Builder b = OtScorer.builder(metric).massRule(massRule).solver(solver);
        if (solver == Solver.SINKHORN) {
            b.sinkhornEpsilon(sinkhornEpsilon, sinkhornRelative)
                .sinkhornTolerance(sinkhornTolerance)
                .sinkhornMaxIterations(sinkhornMaxIterations);
        }
        return b.build();
    }

    /** The exact similarity of one document, with the raw value behind it. */
    private record Scored(double similarity, double raw, double lowerBound, boolean converged, List<Alignment> alignments) {}

    private Scored score(OtScorer scorer, TokenMatrix doc, int docID, int alignments) {
        try {
            if (maxSim) {
                double m = scorer.maxSim(prepared, doc);
                return new Scored(Math.max(0.0, m), m, Double.NaN, true, List.of());
            }
            OtResult r = scorer.score(prepared, doc, null, alignments);
            return new Scored(similarityOf(r.distance()), r.distance(), r.lowerBound(), r.converged(), r.alignments());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] cannot score doc [" + docID + "]: " + e.getMessage(), e);
        }
    }

    /**
     * A lower bound of the distance the configured solver returns. For EMD: {@code max(WCD, RWMD, dual)} with the
     * c-transform dual bound ({@link OtScorer#dualBound}, less {@code 1e-12 x cost_max} for rounding; the bound that
     * lets WMD prune at all, as in the Elasticsearch rescorer). For Sinkhorn, whose
     * plan matches the query-side marginals exactly but the document side only within the tolerance (L1), the bounds
     * that rely on exact document-side marginals are lowered by {@code tolerance * costMax}: {@code max(RWMD query->doc,
     * RWMD doc->query - tolerance * costMax)} (WCD, rarely the larger bound, is not used). Valid for converged solves.
     */
    private double lowerBound(OtScorer scorer, TokenMatrix doc, int docID) {
        try {
            OtScorer.Problem p = scorer.buildProblem(prepared, doc, null);
            if (solver == Solver.EMD) {
                return Math.max(Math.max(p.wcd(), p.rwmd()), scorer.dualBound(p) - 1e-12 * p.costMax());
            }
            return Math.max(p.rwmdQueryToDoc(), p.rwmdDocToQuery() - sinkhornTolerance * p.costMax());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] cannot score doc [" + docID + "]: " + e.getMessage(), e);
        }
    }

    /** A decoded stored value; {@code matrix} is null when it holds no tokens. */
    private record Value(TokenMatrix matrix, int[] starts, int[] ends) {}

    /** Unwraps (if needed), decodes and checks one stored value against the query. */
    private Value decode(BytesRef stored, int docID) {
        BytesRef codec = TokenVectorCodec.startsWithMagic(stored.bytes, stored.offset, stored.length) ? stored : unwrap(stored, docID);
        TokenVectorCodec.Decoded d;
        try {
            d = TokenVectorCodec.decode(codec.bytes, codec.offset, codec.length);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("[" + field + "] corrupt stored token vectors in doc [" + docID + "]: " + e.getMessage(), e);
        }
        if (d.fingerprint() != fingerprint) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[%s] doc [%d] was encoded by another model (fingerprint [%016x]) than the query (fingerprint [%016x])",
                field, docID, d.fingerprint(), fingerprint));
        }
        if (d.dims() != query.dims()) {
            throw new IllegalArgumentException("[" + field + "] doc [" + docID + "] has [" + d.dims() + "] dims but the query has ["
                + query.dims() + "]");
        }
        if (d.tokens() == 0) {
            return new Value(null, d.starts(), d.ends());
        }
        return new Value(TokenMatrix.of(d), d.starts(), d.ends());
    }

    /** The Elasticsearch {@code binary} doc-value layout: vint count (1), vint length, the bytes. */
    private BytesRef unwrap(BytesRef stored, int docID) {
        int end = stored.offset + stored.length;
        int[] pos = {stored.offset};
        long count = readVInt(stored.bytes, pos, end, docID);
        if (count != 1) {
            throw new IllegalStateException("[" + field + "] doc [" + docID + "]: stored value is neither a bare token-vector value"
                + " nor one Elasticsearch binary value (value count [" + count + "])");
        }
        long len = readVInt(stored.bytes, pos, end, docID);
        if (len != end - pos[0]) {
            throw new IllegalStateException("[" + field + "] doc [" + docID + "]: Elasticsearch binary value length [" + len
                + "] does not match the [" + (end - pos[0]) + "] bytes that follow");
        }
        BytesRef inner = new BytesRef(stored.bytes, pos[0], (int) len);
        if (!TokenVectorCodec.startsWithMagic(inner.bytes, inner.offset, inner.length)) {
            throw new IllegalStateException("[" + field + "] doc [" + docID + "]: stored value is not a Mover token-vector value");
        }
        return inner;
    }

    private long readVInt(byte[] b, int[] pos, int end, int docID) {
        long v = 0;
        for (int shift = 0; shift <= 28; shift += 7) {
            if (pos[0] >= end) {
                break;
            }
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalStateException("[" + field + "] doc [" + docID + "]: stored value is neither a bare token-vector value"
            + " nor an Elasticsearch binary value (bad vint)");
    }
}
