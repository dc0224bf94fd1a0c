package dev.mover.bench.eval;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * Correlation and ranking metrics, written from their definitions.
 *
 * <ul>
 *   <li>Spearman's rho: the Pearson correlation of the average ranks (ties share the mean of the ranks they span).</li>
 *   <li>nDCG@k with linear gain as trec_eval / pytrec_eval (BEIR) compute it: {@code DCG = Σ_{i<=k} rel_i / log2(i + 1)},
 *       divided by the DCG of the ideal ordering of all judged grades; graded and binary judgments alike.</li>
 *   <li>Recall@k: relevant documents (grade &gt; 0) in the top k over all relevant documents.</li>
 *   <li>MRR@k: 1 / rank of the first relevant document within the top k, else 0.</li>
 *   <li>Paired bootstrap: resample items with replacement, recompute the statistic of the difference, take the
 *       2.5 and 97.5 percentiles.</li>
 * </ul>
 */
public final class RankMetrics {

    private RankMetrics() {}

    /** 1-based ranks of {@code x} in ascending order, ties averaged (NaN values are not allowed). */
    public static double[] averageRanks(double[] x) {
        int n = x.length;
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(x[i])) {
                throw new IllegalArgumentException("[ranks] value [" + i + "] is NaN");
            }
            int first = lowerBound(sorted, x[i]);
            int last = x[i] == Double.POSITIVE_INFINITY ? n - 1 : lowerBound(sorted, Math.nextUp(x[i])) - 1;
            r[i] = (first + last) / 2.0 + 1;
        }
        return r;
    }

    /** First index whose value is {@code >= v}. */
    private static int lowerBound(double[] sorted, double v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Pearson correlation; NaN if either side is constant or the lengths are below 2. */
    public static double pearson(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("[pearson] lengths differ: [" + x.length + "] and [" + y.length + "]");
        }
        int n = x.length;
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x[i] - mx;
            double dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) {
            return Double.NaN;
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    /** Spearman's rho with average ranks for ties. */
    public static double spearman(double[] x, double[] y) {
        return pearson(averageRanks(x), averageRanks(y));
    }

    /**
     * nDCG@k of a ranking.
     *
     * @param ranked document ids, best first
     * @param qrels  judged grades of this query (grades &lt;= 0 count as non-relevant)
     * @return nDCG in [0, 1]; 0 when the query has no relevant document
     */
    public static double ndcg(List<String> ranked, Map<String, Integer> qrels, int k) {
        double dcg = 0;
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            Integer g = qrels.get(ranked.get(i));
            if (g != null && g > 0) {
                dcg += g / log2(i + 2);
            }
        }
        int[] grades = qrels.values().stream().mapToInt(Integer::intValue).filter(g -> g > 0).toArray();
        Arrays.sort(grades);
        double idcg = 0;
        for (int i = 0; i < Math.min(k, grades.length); i++) {
            idcg += grades[grades.length - 1 - i] / log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /** Recall@k: share of the relevant documents (grade &gt; 0) found in the top k; 0 without relevant documents. */
    public static double recall(List<String> ranked, Map<String, Integer> qrels, int k) {
        long relevant = qrels.values().stream().filter(g -> g > 0).count();
        if (relevant == 0) {
            return 0;
        }
        int found = 0;
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            Integer g = qrels.get(ranked.get(i));
            if (g != null && g > 0) {
                found++;
            }
        }
        return (double) found / relevant;
    }

    /** MRR@k: reciprocal rank of the first relevant document within the top k, else 0. */
    public static double mrr(List<String> ranked, Map<String, Integer> qrels, int k) {
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            Integer g = qrels.get(ranked.get(i));
            if (g != null && g > 0) {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }

    /**
     * Paired bootstrap percentile interval of a statistic of a difference between two systems measured on the same
     * {@code n} items.
     *
     * @param n         number of items
     * @param diff      computes the difference statistic (e.g. {@code spearman(A) − spearman(B)} or
     *                  {@code mean(a_i − b_i)}) on a resample given as an array of item indices (with repeats)
     * @param resamples number of bootstrap resamples (e.g. 1,000)
     * @param seed      random seed, so the interval is reproducible
     * @return {@code {lower 2.5%, upper 97.5%}}
     */
    public static double[] pairedBootstrap(int n, ToDoubleFunction<int[]> diff, int resamples, long seed) {
        if (n < 1 || resamples < 1) {
            throw new IllegalArgumentException("[bootstrap] needs n >= 1 and resamples >= 1 but was [" + n + ", " + resamples + "]");
        }
        Random rnd = new Random(seed);
        double[] stats = new double[resamples];
        int[] idx = new int[n];
        int kept = 0;
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                idx[i] = rnd.nextInt(n);
            }
            double s = diff.applyAsDouble(idx);
            if (!Double.isNaN(s)) {
                stats[kept++] = s;
            }
        }
        if (kept == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double[] st = Arrays.copyOf(stats, kept);
        Arrays.sort(st);
        return new double[] {percentile(st, 0.025), percentile(st, 0.975)};
    }

    /** Linear-interpolated percentile of sorted values, {@code q} in [0, 1]. */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Values of {@code x} at the given indices. */
    public static double[] pick(double[] x, int[] idx) {
        double[] out = new double[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = x[idx[i]];
        }
        return out;
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
