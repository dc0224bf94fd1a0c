package dev.mover.bench.eval;

import dev.mover.scoring.MassRule;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --variants} systems of {@code ./mover eval sts} (issue 9), over the product's default int8 storage.
 *
 * <ul>
 *   <li>{@code hybrid-wrd} = 0.5 x pooled cosine + 0.5 x (1 − WRD);</li>
 *   <li>{@code hybrid-maxsim} = 0.5 x pooled cosine + 0.5 x maxSim;</li>
 *   <li>{@code wrd-idf} = 1 − WRD with masses idf x token norm, idf from the file's own sentences (no labels):
 *       {@code idf = ln(1 + (N − df + 0.5) / (df + 0.5))}, N the number of sentences (both sides of every pair), df
 *       the number of those sentences containing the token id;</li>
 *   <li>{@code hybrid-wrd-idf} = 0.5 x pooled cosine + 0.5 x (1 − WRD-idf);</li>
 *   <li>{@code wrd-nopunct} = 1 − WRD with norm masses after dropping punctuation-only tokens (no letter or digit in
 *       the token's span) and stop-like tokens (an id in more than 10% of the file's sentences); a sentence that
 *       would lose every token keeps them all.</li>
 * </ul>
 * <ul>
 *   <li>{@code wrd-centered}, {@code maxsim-centered}, {@code hybrid-maxsim-centered}: the same over token vectors minus
 *       the mean token vector of the file (both sides of every pair; no labels), the cheapest form of whitening;</li>
 *   <li>{@code wrd-partial} = 1 − partial transport (cosine cost, norm masses) from the shorter sentence onto the
 *       longer with the rescorer's {@code doc_mass: auto} fraction min(1, shorter / longer), so a pair of equal
 *       lengths gets plain WRD; {@code hybrid-wrd-partial} its hybrid with pooled.</li>
 * </ul>
 * The hybrid weight is fixed in advance at one half (both similarities live in comparable ranges) and never tuned
 * on a file.
 */
final class Variants {

    /** System names, in table order. */
    static final String[] SYSTEMS = {"hybrid-wrd", "hybrid-maxsim", "wrd-idf", "hybrid-wrd-idf", "wrd-nopunct",
        "wrd-centered", "maxsim-centered", "hybrid-maxsim-centered", "wrd-partial", "hybrid-wrd-partial"};

    /** A token id in more than this share of a file's sentences is stop-like for {@code wrd-nopunct}. */
    static final double STOP_SHARE = 0.1;

    /** The fixed hybrid weight of the pooled cosine. */
    static final double POOLED_WEIGHT = 0.5;

    private Variants() {}

    /** {@code 0.5 * pooled + 0.5 * token}; NaN when either is NaN. */
    static double hybrid(double pooled, double token) {
        if (Double.isNaN(pooled) || Double.isNaN(token)) {
            return Double.NaN;
        }
        return POOLED_WEIGHT * pooled + (1 - POOLED_WEIGHT) * token;
    }

    /**
     * BM25-style idf of every token id of {@code sentences}: {@code ln(1 + (N - df + 0.5) / (df + 0.5))} with N the
     * number of sentences and df the number of sentences containing the id (a repeated id counts once per sentence).
     */
    static Map<Integer, Double> idf(List<int[]> sentences) {
        Map<Integer, Integer> df = df(sentences);
        int n = sentences.size();
        Map<Integer, Double> idf = new HashMap<>(df.size() * 2);
        for (Map.Entry<Integer, Integer> e : df.entrySet()) {
            int d = e.getValue();
            idf.put(e.getKey(), Math.log(1 + (n - d + 0.5) / (d + 0.5)));
        }
        return idf;
    }

    /** Number of {@code sentences} that contain each token id (a repeated id counts once per sentence). */
    static Map<Integer, Integer> df(List<int[]> sentences) {
        Map<Integer, Integer> df = new HashMap<>();
        Set<Integer> seen = new HashSet<>();
        for (int[] ids : sentences) {
            seen.clear();
            for (int id : ids) {
                if (seen.add(id)) {
                    df.merge(id, 1, Integer::sum);
                }
            }
        }
        return df;
    }

    /**
     * Which tokens are punctuation only: their span of {@code text} is non-empty and holds no letter or digit
     * (a span outside the text counts as not punctuation).
     */
    static boolean[] punctuation(String text, int[] starts, int[] ends) {
        boolean[] p = new boolean[starts.length];
        for (int t = 0; t < starts.length; t++) {
            int a = starts[t];
            int b = ends[t];
            if (a < 0 || b > text.length() || a >= b) {
                continue;
            }
            boolean any = false;
            for (int i = a; i < b && !any; ) {
                int cp = text.codePointAt(i);
                any = Character.isLetterOrDigit(cp);
                i += Character.charCount(cp);
            }
            p[t] = !any;
        }
        return p;
    }

    /**
     * Masses of {@code wrd-nopunct}: the token norm, or 0 for a punctuation-only token and for a stop-like token (an id
     * found in more than {@link #STOP_SHARE} of the file's sentences). A sentence that would lose every token keeps
     * all of them with norm masses.
     */
    static double[] noPunctWeights(int[] ids, boolean[] punct, TokenMatrix m, Map<Integer, Integer> df, int sentences) {
        if (ids.length != m.rows() || punct.length != m.rows()) {
            throw new IllegalArgumentException("[sts] [" + ids.length + "] token ids and [" + punct.length
                + "] punctuation flags for [" + m.rows() + "] token vectors");
        }
        double[] w = new double[ids.length];
        boolean kept = false;
        for (int t = 0; t < ids.length; t++) {
            w[t] = norm(m, t);
            boolean stop = df.getOrDefault(ids[t], 0) > STOP_SHARE * sentences;
            if (punct[t] || stop) {
                w[t] = 0;
            } else if (w[t] > 0) {
                kept = true;
            }
        }
        if (!kept) {
            for (int t = 0; t < ids.length; t++) {
                w[t] = norm(m, t);
            }
        }
        return w;
    }

    /** Mean of every row of every matrix of {@code ms} (null entries skipped); zeros when there is no row. */
    static double[] meanVector(TokenMatrix[]... ms) {
        double[] mean = null;
        long rows = 0;
        for (TokenMatrix[] arr : ms) {
            for (TokenMatrix m : arr) {
                if (m == null) {
                    continue;
                }
                if (mean == null) {
                    mean = new double[m.dims()];
                }
                for (int r = 0; r < m.rows(); r++) {
                    for (int c = 0; c < m.dims(); c++) {
                        mean[c] += m.get(r, c);
                    }
                }
                rows += m.rows();
            }
        }
        if (mean == null) {
            return new double[0];
        }
        for (int c = 0; c < mean.length && rows > 0; c++) {
            mean[c] /= rows;
        }
        return mean;
    }

    /** {@code m} with {@code mean} subtracted from every row. */
    static TokenMatrix centered(TokenMatrix m, double[] mean) {
        float[] out = new float[m.rows() * m.dims()];
        for (int r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.dims(); c++) {
                out[r * m.dims() + c] = (float) (m.get(r, c) - mean[c]);
            }
        }
        return TokenMatrix.of(out, m.rows(), m.dims());
    }

    private static double norm(TokenMatrix m, int t) {
        double s = 0;
        for (int c = 0; c < m.dims(); c++) {
            double v = m.get(t, c);
            s += v * v;
        }
        return Math.sqrt(s);
    }

    /**
     * Explicit masses idf x Euclidean norm of each row of {@code m}; an id missing from {@code idf} gets the idf of a
     * token seen in no sentence ({@code ln(1 + (N + 0.5) / 0.5)}).
     *
     * @throws IllegalArgumentException if {@code ids} and {@code m} disagree on the number of tokens
     */
    static double[] weights(int[] ids, TokenMatrix m, Map<Integer, Double> idf, int sentences) {
        if (ids.length != m.rows()) {
            throw new IllegalArgumentException("[sts] [" + ids.length + "] token ids for [" + m.rows() + "] token vectors");
        }
        double unseen = Math.log(1 + (sentences + 0.5) / 0.5);
        double[] w = new double[ids.length];
        for (int t = 0; t < ids.length; t++) {
            w[t] = idf.getOrDefault(ids[t], unseen) * norm(m, t);
        }
        return w;
    }

    /** 1 − partial WRD from the shorter of two sequences onto the longer, fraction min(1, shorter / longer). */
    static final class PartialWrd {
        private final OtScorer scorer = OtScorer.builder(Metric.WRD).build();

        double similarity(TokenMatrix x, TokenMatrix y) {
            if (x.rows() == 0 || y.rows() == 0) {
                return Double.NaN;
            }
            TokenMatrix q = x.rows() <= y.rows() ? x : y;
            TokenMatrix d = q == x ? y : x;
            OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(q, null), d, null);
            return 1 - scorer.solvePartial(p, dev.mover.scoring.PartialTransport.autoFraction(p.n(), p.m()), 0).distance();
        }
    }

    /** 1 − WRD with explicit (idf x norm) masses; thread-confined, reuses its scorer's workspace. */
    static final class IdfWrd {
        private final OtScorer scorer = OtScorer.builder(Metric.WRD).massRule(MassRule.EXPLICIT).build();

        /** Similarity (1 − WRD) of two token sequences with the given masses; NaN when a side has no token. */
        double similarity(TokenMatrix x, double[] wx, TokenMatrix y, double[] wy) {
            if (x.rows() == 0 || y.rows() == 0) {
                return Double.NaN;
            }
            return 1 - scorer.score(scorer.prepareQuery(x, wx), y, wy, 0).distance();
        }
    }
}
