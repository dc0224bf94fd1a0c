package dev.mover.encoder.summarize;

import dev.mover.encoder.text.SentenceSplitter;
import dev.mover.encoder.text.Span;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Query-aware extractive summarizer over pooled sentence vectors (the extract stage of SPACES-style
 * extract-then-generate summarization). Pure Java; the vectors come from a {@link SentenceEmbedder}.
 *
 * <p>Modes, all under the same {@link Budget} and packing rule (units in score order; a unit that would overflow
 * the character budget is skipped and the next one tried):
 * <ul>
 *   <li>{@link Mode#LEAD}: the leading sentences of the document (baseline, no model).</li>
 *   <li>{@link Mode#EXTRACT}: sentences scored by salience and selected by MMR.</li>
 *   <li>{@link Mode#COMPRESSIVE}: the same selection over SPACES clauses ({@code ，：；}), near-duplicate clauses
 *       dropped, the selected clauses fused in document order (adjacent clauses keep the original text between
 *       them, so connectives and punctuation survive).</li>
 * </ul>
 *
 * <p>Scoring rule (fixed in advance, not fitted to any data set). Unit vectors and the query vector are
 * L2-normalized. <em>centrality</em>{@code (i) = cos(e_i, c)} with {@code c} the mean of the unit vectors;
 * <em>relevance</em>{@code (i) = cos(e_i, q)} when a query is given (or the {@link RelevanceScorer}'s value when one is
 * configured). The salience is
 * {@code w·relevance + (1 − w)·centrality} with a query ({@code w = 0.7}: the query is what was asked, centrality
 * breaks ties toward the document's main content, as in query-biased LexRank), {@code centrality} without.
 * Selection is maximal marginal relevance (Carbonell and Goldstein 1998) with both terms cosines on the same scale:
 * repeatedly take {@code argmax λ·salience(i) − (1 − λ)·max_{j selected} cos(e_i, e_j)} with {@code λ = 0.7}
 * (the customary value), ties to the earlier unit. (Rescaling the salience, e.g. min-max, would break that balance:
 * sentence encoders put most cosines in a narrow band, so the redundancy term would stop mattering.) Units with
 * fewer than {@link Settings#minUnitChars()} letters, digits or ideographs are not candidates of the model modes.
 *
 * <p>Bounds: at most {@link Settings#maxCharsRead()} characters of the document are read (a unit cut by that
 * limit is dropped), at most {@link Settings#maxUnits()} units are considered, and embedding stops at the first
 * batch that ends after {@link Settings#timeBudgetMillis()}; each of these sets {@link Summary#truncated()}.
 *
 * <p>Instances are immutable and thread-safe when the embedder is.
 */
public final class Summarizer {

    /** Summarization mode. */
    public enum Mode {
        /** Leading sentences (baseline). */
        LEAD,
        /** MMR selection of sentences. */
        EXTRACT,
        /** MMR selection of clauses, fused in document order. */
        COMPRESSIVE;

        /** Lower-case name as used in requests and figures ({@code lead}, {@code extract}, {@code compressive}). */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses {@link #label()}. */
        public static Mode fromLabel(String label) {
            for (Mode m : values()) {
                if (m.label().equals(label)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("[mode] must be one of " + Arrays.toString(labels()) + " but was [" + label + "]");
        }

        private static String[] labels() {
            return Arrays.stream(values()).map(Mode::label).toArray(String[]::new);
        }
    }

    /** Hard upper bound on {@link Budget#maxUnits()}. */
    public static final int MAX_BUDGET_UNITS = 1_000;
    /** Hard upper bound on {@link Budget#maxChars()}. */
    public static final int MAX_BUDGET_CHARS = 100_000;

    /**
     * Length budget of a summary; a zero component is unlimited, but not both.
     *
     * @param maxUnits maximum number of selected units, in [0, {@value #MAX_BUDGET_UNITS}]
     * @param maxChars maximum total characters of the selected units (UTF-16, separators not counted),
     *                 in [0, {@value #MAX_BUDGET_CHARS}]
     */
    public record Budget(int maxUnits, int maxChars) {
        public Budget {
            if (maxUnits < 0 || maxUnits > MAX_BUDGET_UNITS) {
                throw new IllegalArgumentException("[max_units] must be in [0, " + MAX_BUDGET_UNITS + "] but was [" + maxUnits + "]");
            }
            if (maxChars < 0 || maxChars > MAX_BUDGET_CHARS) {
                throw new IllegalArgumentException("[max_chars] must be in [0, " + MAX_BUDGET_CHARS + "] but was [" + maxChars + "]");
            }
            if (maxUnits == 0 && maxChars == 0) {
                throw new IllegalArgumentException("[budget] needs max_units or max_chars above 0 but both were [0]");
            }
        }

        /** A budget of {@code n} units. */
        public static Budget units(int n) {
            return new Budget(n, 0);
        }

        /** A budget of {@code n} characters. */
        public static Budget chars(int n) {
            return new Budget(0, n);
        }
    }

    /**
     * Bounds and constants of the summarizer.
     *
     * @param maxCharsRead       characters of the document read at most (default 100,000)
     * @param maxUnits           units considered at most, the first ones in document order (default 4,096)
     * @param lambda             MMR trade-off between salience and redundancy, in [0, 1] (default 0.7)
     * @param queryWeight        weight of query relevance against centrality when a query is given, in [0, 1]
     *                           (default 0.7)
     * @param minUnitChars       letters/digits/ideographs a unit needs to be a candidate (default 2)
     * @param duplicateCosine    compressive mode: a clause whose cosine to a selected one reaches this is
     *                           dropped as a duplicate (default 0.95)
     * @param embedBatch         units per embedder call (default 64)
     * @param timeBudgetMillis   wall-time budget for embedding, 0 = none (default 0)
     */
    public record Settings(int maxCharsRead, int maxUnits, double lambda, double queryWeight, int minUnitChars,
                           double duplicateCosine, int embedBatch, long timeBudgetMillis) {
        /** The defaults documented on each component. */
        public static final Settings DEFAULT = new Settings(100_000, 4_096, 0.7, 0.7, 2, 0.95, 64, 0);

        public Settings {
            if (maxCharsRead < 1) {
                throw new IllegalArgumentException("[max_chars_read] must be >= 1 but was [" + maxCharsRead + "]");
            }
            if (maxUnits < 1) {
                throw new IllegalArgumentException("[max_units] must be >= 1 but was [" + maxUnits + "]");
            }
            if (!(lambda >= 0 && lambda <= 1)) {
                throw new IllegalArgumentException("[lambda] must be in [0, 1] but was [" + lambda + "]");
            }
            if (!(queryWeight >= 0 && queryWeight <= 1)) {
                throw new IllegalArgumentException("[query_weight] must be in [0, 1] but was [" + queryWeight + "]");
            }
            if (minUnitChars < 0) {
                throw new IllegalArgumentException("[min_unit_chars] must be >= 0 but was [" + minUnitChars + "]");
            }
            if (!(duplicateCosine > 0 && duplicateCosine <= 1)) {
                throw new IllegalArgumentException("[duplicate_cosine] must be in (0, 1] but was [" + duplicateCosine + "]");
            }
            if (embedBatch < 1) {
                throw new IllegalArgumentException("[embed_batch] must be >= 1 but was [" + embedBatch + "]");
            }
            if (timeBudgetMillis < 0) {
                throw new IllegalArgumentException("[time_budget_millis] must be >= 0 but was [" + timeBudgetMillis + "]");
            }
        }

        /** A copy with another {@code maxCharsRead}. */
        public Settings withMaxCharsRead(int v) {
            return new Settings(v, maxUnits, lambda, queryWeight, minUnitChars, duplicateCosine, embedBatch, timeBudgetMillis);
        }

        /** A copy with another {@code maxUnits}. */
        public Settings withMaxUnits(int v) {
            return new Settings(maxCharsRead, v, lambda, queryWeight, minUnitChars, duplicateCosine, embedBatch, timeBudgetMillis);
        }

        /** A copy with another {@code timeBudgetMillis}. */
        public Settings withTimeBudgetMillis(long v) {
            return new Settings(maxCharsRead, maxUnits, lambda, queryWeight, minUnitChars, duplicateCosine, embedBatch, v);
        }
    }

    /**
     * One selected unit.
     *
     * @param span       UTF-16 offsets into the document
     * @param text       the unit's text
     * @param score      salience used for selection (a cosine; lead: 1 − position / units)
     * @param relevance  cosine to the query (or the {@link RelevanceScorer}'s score), NaN without a query or in lead mode
     * @param centrality cosine to the document centroid, NaN in lead mode
     */
    public record Unit(Span span, String text, double score, double relevance, double centrality) {}

    /**
     * A summary.
     *
     * @param mode            the mode that produced it
     * @param text            the selected units joined in document order
     * @param units           the selected units in document order
     * @param unitsConsidered how many units were candidates
     * @param truncated       whether a bound (characters read, units, time) cut the input
     */
    public record Summary(Mode mode, String text, List<Unit> units, int unitsConsidered, boolean truncated) {}

    private final SentenceEmbedder embedder;
    private final RelevanceScorer relevanceScorer;
    private final Settings settings;

    /**
     * @param embedder pooled-vector embedder; may be null when only {@link Mode#LEAD} is used
     * @param settings bounds and constants
     */
    public Summarizer(SentenceEmbedder embedder, Settings settings) {
        this(embedder, null, settings);
    }

    /**
     * @param embedder        pooled-vector embedder; may be null when only {@link Mode#LEAD} is used
     * @param relevanceScorer replaces the pooled cosine as the query relevance when a query is given; null keeps it
     * @param settings        bounds and constants
     */
    public Summarizer(SentenceEmbedder embedder, RelevanceScorer relevanceScorer, Settings settings) {
        this.embedder = embedder;
        this.relevanceScorer = relevanceScorer;
        this.settings = settings == null ? Settings.DEFAULT : settings;
    }

    /** The settings in use. */
    public Settings settings() {
        return settings;
    }

    /**
     * Summarizes {@code document}.
     *
     * @param document the text (null or blank gives an empty summary)
     * @param query    optional query text (null or blank: no query)
     * @param budget   length budget
     * @param mode     lead, extract or compressive
     */
    public Summary summarize(String document, String query, Budget budget, Mode mode) {
        if (budget == null) {
            throw new IllegalArgumentException("[budget] must not be null");
        }
        if (mode == null) {
            throw new IllegalArgumentException("[mode] must not be null");
        }
        if (mode != Mode.LEAD && embedder == null) {
            throw new IllegalStateException("[" + mode.label() + "] needs an embedder but none was given");
        }
        String doc = document == null ? "" : document;
        boolean truncated = false;
        int readEnd = doc.length();
        if (readEnd > settings.maxCharsRead()) {
            readEnd = settings.maxCharsRead();
            if (Character.isHighSurrogate(doc.charAt(readEnd - 1))) {
                readEnd--;
            }
            truncated = true;
        }
        String read = doc.substring(0, readEnd);
        List<Span> units = SentenceSplitter.split(read,
            mode == Mode.COMPRESSIVE ? SentenceSplitter.Mode.CLAUSES : SentenceSplitter.Mode.SENTENCES);
        if (truncated && !units.isEmpty() && units.get(units.size() - 1).end() == readEnd && units.size() > 1) {
            units = units.subList(0, units.size() - 1); // cut by the read limit
        }
        if (mode == Mode.LEAD) {
            if (units.size() > settings.maxUnits()) {
                units = units.subList(0, settings.maxUnits());
                truncated = true;
            }
            return lead(doc, units, budget, truncated);
        }
        List<Span> candidates = new ArrayList<>();
        for (Span s : units) {
            if (contentChars(doc, s) >= settings.minUnitChars()) {
                candidates.add(s);
            }
        }
        if (candidates.size() > settings.maxUnits()) {
            candidates = candidates.subList(0, settings.maxUnits());
            truncated = true;
        }
        if (candidates.isEmpty()) {
            return new Summary(mode, "", List.of(), 0, truncated);
        }
        String q = query == null || query.isBlank() ? null : query;
        float[] qv = null;
        if (q != null) {
            qv = normalizedCopy(checkVectors(embedder.embed(List.of(q)), 1)[0]);
        }
        // Embed the candidates in batches, stopping at the time budget.
        long deadline = settings.timeBudgetMillis() > 0 ? System.nanoTime() + settings.timeBudgetMillis() * 1_000_000L : Long.MAX_VALUE;
        List<float[]> vecs = new ArrayList<>(candidates.size());
        List<String> batch = new ArrayList<>(settings.embedBatch());
        for (int from = 0; from < candidates.size(); from += settings.embedBatch()) {
            int to = Math.min(candidates.size(), from + settings.embedBatch());
            batch.clear();
            for (int k = from; k < to; k++) {
                batch.add(candidates.get(k).text(doc));
            }
            float[][] out = checkVectors(embedder.embed(batch), batch.size());
            for (float[] v : out) {
                if (qv != null && v.length != qv.length) {
                    throw new IllegalStateException("[embedder] returned vectors of [" + v.length + "] and [" + qv.length + "] dims");
                }
                vecs.add(normalizedCopy(v));
            }
            if (to < candidates.size() && System.nanoTime() > deadline) {
                candidates = candidates.subList(0, to);
                truncated = true;
                break;
            }
        }
        float[][] e = vecs.toArray(new float[0][]);
        double[] external = null;
        if (q != null && relevanceScorer != null) {
            List<String> texts = new ArrayList<>(candidates.size());
            for (Span s : candidates) {
                texts.add(s.text(doc));
            }
            external = relevanceScorer.score(q, texts);
            if (external == null || external.length != candidates.size()) {
                throw new IllegalStateException("[relevance_scorer] must return [" + candidates.size() + "] scores but returned ["
                    + (external == null ? "null" : external.length) + "]");
            }
        }
        return select(doc, candidates, e, qv, external, budget, mode, truncated);
    }

    private Summary lead(String doc, List<Span> units, Budget budget, boolean truncated) {
        List<Unit> picked = new ArrayList<>();
        int chars = 0;
        for (int i = 0; i < units.size(); i++) {
            if (budget.maxUnits() > 0 && picked.size() >= budget.maxUnits()) {
                break;
            }
            Span s = units.get(i);
            if (budget.maxChars() > 0 && chars + s.length() > budget.maxChars()) {
                continue;
            }
            chars += s.length();
            picked.add(new Unit(s, s.text(doc), 1.0 - (double) i / units.size(), Double.NaN, Double.NaN));
        }
        return new Summary(Mode.LEAD, join(doc, picked), picked, units.size(), truncated);
    }

    private Summary select(String doc, List<Span> cands, float[][] e, float[] qv, double[] externalRelevance, Budget budget,
                           Mode mode, boolean truncated) {
        final int n = cands.size();
        final int dims = e[0].length;
        double[] centroid = new double[dims];
        for (float[] v : e) {
            if (v.length != dims) {
                throw new IllegalStateException("[embedder] returned vectors of [" + v.length + "] and [" + dims + "] dims");
            }
            for (int d = 0; d < dims; d++) {
                centroid[d] += v[d];
            }
        }
        double cn = 0;
        for (double x : centroid) {
            cn += x * x;
        }
        cn = Math.sqrt(cn);
        double[] centrality = new double[n];
        double[] relevance = new double[n];
        for (int i = 0; i < n; i++) {
            double dot = 0;
            for (int d = 0; d < dims; d++) {
                dot += e[i][d] * centroid[d];
            }
            centrality[i] = cn > 0 ? dot / cn : 0;
            relevance[i] = qv == null ? Double.NaN : externalRelevance != null ? externalRelevance[i] : dot(e[i], qv);
        }
        double[] salience = new double[n];
        double w = qv == null ? 0 : settings.queryWeight();
        for (int i = 0; i < n; i++) {
            salience[i] = qv == null ? centrality[i] : w * relevance[i] + (1 - w) * centrality[i];
        }
        double lambda = settings.lambda();
        double[] maxSim = new double[n];
        Arrays.fill(maxSim, Double.NEGATIVE_INFINITY);
        boolean[] done = new boolean[n];
        List<Integer> chosen = new ArrayList<>();
        int chars = 0;
        while (budget.maxUnits() == 0 || chosen.size() < budget.maxUnits()) {
            int best = -1;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                if (done[i]) {
                    continue;
                }
                if (budget.maxChars() > 0 && chars + cands.get(i).length() > budget.maxChars()) {
                    done[i] = true; // can never fit again: the total only grows
                    continue;
                }
                double red = chosen.isEmpty() ? 0 : maxSim[i];
                double mmr = lambda * salience[i] - (1 - lambda) * red;
                if (mmr > bestScore) {
                    bestScore = mmr;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            done[best] = true;
            chosen.add(best);
            chars += cands.get(best).length();
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    double s = dot(e[i], e[best]);
                    if (s > maxSim[i]) {
                        maxSim[i] = s;
                    }
                    if (mode == Mode.COMPRESSIVE && s >= settings.duplicateCosine()) {
                        done[i] = true; // near-duplicate clause
                    }
                }
            }
        }
        chosen.sort(null);
        List<Unit> picked = new ArrayList<>(chosen.size());
        for (int i : chosen) {
            Span s = cands.get(i);
            picked.add(new Unit(s, s.text(doc), salience[i], relevance[i], centrality[i]));
        }
        String text = mode == Mode.COMPRESSIVE ? fuse(doc, picked) : join(doc, picked);
        return new Summary(mode, text, picked, n, truncated);
    }

    /** Joins units in document order: a space between two units unless both sides are CJK. */
    static String join(String doc, List<Unit> units) {
        StringBuilder sb = new StringBuilder();
        for (Unit u : units) {
            if (sb.length() > 0 && needsSpace(sb.charAt(sb.length() - 1), u.text().charAt(0))) {
                sb.append(' ');
            }
            sb.append(u.text());
        }
        return sb.toString();
    }

    /**
     * Fuses clauses in document order: two clauses adjacent in the document keep the text between them;
     * otherwise they are joined as in {@link #join}.
     */
    static String fuse(String doc, List<Unit> units) {
        StringBuilder sb = new StringBuilder();
        Span prev = null;
        for (Unit u : units) {
            if (prev != null) {
                String gap = doc.substring(prev.end(), u.span().start());
                if (gap.isBlank()) {
                    sb.append(gap);
                } else if (needsSpace(sb.charAt(sb.length() - 1), u.text().charAt(0))) {
                    sb.append(' ');
                }
            }
            sb.append(u.text());
            prev = u.span();
        }
        return sb.toString();
    }

    private static boolean needsSpace(char a, char b) {
        return !(isWide(a) && isWide(b));
    }

    private static boolean isWide(char c) {
        return c >= 0x2E80 || Character.isSurrogate(c);
    }

    private static int contentChars(String doc, Span s) {
        int k = 0;
        for (int i = s.start(); i < s.end(); i++) {
            if (Character.isLetterOrDigit(doc.charAt(i))) {
                k++;
            }
        }
        return k;
    }

    private static float[][] checkVectors(float[][] out, int expected) {
        if (out == null || out.length != expected) {
            throw new IllegalStateException("[embedder] must return [" + expected + "] vectors but returned ["
                + (out == null ? "null" : out.length) + "]");
        }
        return out;
    }

    private static float[] normalizedCopy(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        float[] out = new float[v.length];
        if (s > 0) {
            double inv = 1.0 / Math.sqrt(s);
            for (int d = 0; d < v.length; d++) {
                out[d] = (float) (v[d] * inv);
            }
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int d = 0; d < a.length; d++) {
            s += a[d] * b[d];
        }
        return s;
    }
}
