package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RankMetricsTests {

    @Test
    void testAverageRanks_whenTies_thenMeanOfSpannedRanks() {
        assertArrayEquals(new double[] {1, 2.5, 2.5, 4, 6, 6, 6}, RankMetrics.averageRanks(new double[] {1, 2, 2, 3, 9, 9, 9}));
        assertArrayEquals(new double[] {3, 1, 2}, RankMetrics.averageRanks(new double[] {0.5, -1, 0}));
    }

    @Test
    void testSpearman_whenNoTies_thenClassicFormula() {
        // x = 1..5, y ranks = 2,1,4,3,5: sum d^2 = 1+1+1+1+0 = 4, rho = 1 - 6*4/(5*24) = 0.8
        assertEquals(0.8, RankMetrics.spearman(new double[] {10, 20, 30, 40, 50}, new double[] {2.1, 1.5, 7, 3, 9}), 1e-12);
        assertEquals(-1.0, RankMetrics.spearman(new double[] {1, 2, 3}, new double[] {30, 20, 10}), 1e-12);
    }

    @Test
    void testSpearman_whenTies_thenPearsonOfAverageRanks() {
        // x = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4]; y = [1, 3, 2, 4] -> ranks [1, 3, 2, 4].
        // means 2.5; dx = [-1.5, 0, 0, 1.5], dy = [-1.5, .5, -.5, 1.5];
        // sxy = 2.25 + 0 + 0 + 2.25 = 4.5; sxx = 4.5; syy = 2.25 + .25 + .25 + 2.25 = 5; rho = 4.5 / sqrt(22.5)
        double expected = 4.5 / Math.sqrt(4.5 * 5);
        assertEquals(expected, RankMetrics.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 3, 2, 4}), 1e-12);
        assertEquals(0.9486832980505138, expected, 1e-12);
        // binary gold labels as in ATEC/BQ: x = [0, 0, 1, 1] ranks [1.5, 1.5, 3.5, 3.5]; y = [.1, .4, .3, .9]
        // y ranks [1, 3, 2, 4]; dx = [-1, -1, 1, 1], dy = [-1.5, .5, -.5, 1.5]; sxy = 1.5 - .5 - .5 + 1.5 = 2
        // sxx = 4, syy = 5 -> 2 / sqrt(20)
        assertEquals(2 / Math.sqrt(20), RankMetrics.spearman(new double[] {0, 0, 1, 1}, new double[] {.1, .4, .3, .9}), 1e-12);
        assertTrue(Double.isNaN(RankMetrics.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
    }

    @Test
    void testNdcg_whenGradedQrels_thenHandWorkedValue() {
        // ranking d1 (2), d2 (0), d3 (3), d4 (unjudged), d5 (1)
        // DCG@5 = 2/log2(2) + 0 + 3/log2(4) + 0 + 1/log2(6) = 2 + 1.5 + 0.386852807
        // IDCG@5 = 3/1 + 2/log2(3) + 1/log2(4) = 3 + 1.261859507 + 0.5
        Map<String, Integer> qrels = Map.of("d1", 2, "d2", 0, "d3", 3, "d5", 1);
        List<String> ranked = List.of("d1", "d2", "d3", "d4", "d5");
        double dcg = 2 + 1.5 + 1 / (Math.log(6) / Math.log(2));
        double idcg = 3 + 2 / (Math.log(3) / Math.log(2)) + 0.5;
        assertEquals(dcg / idcg, RankMetrics.ndcg(ranked, qrels, 10), 1e-12);
        assertEquals(3.886853 / 4.761860, RankMetrics.ndcg(ranked, qrels, 10), 1e-6); // 0.81625
        // cut at 2: DCG = 2; IDCG = 3 + 2/log2(3)
        assertEquals(2 / (3 + 2 / (Math.log(3) / Math.log(2))), RankMetrics.ndcg(ranked, qrels, 2), 1e-12);
    }

    @Test
    void testNdcg_whenBinaryQrels_thenHandWorkedValue() {
        // relevant a, c; ranking x, a, y, c: DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; IDCG = 1 + 1/log2(3)
        Map<String, Integer> qrels = Map.of("a", 1, "c", 1);
        List<String> ranked = List.of("x", "a", "y", "c");
        double expected = (1 / (Math.log(3) / Math.log(2)) + 1 / (Math.log(5) / Math.log(2))) / (1 + 1 / (Math.log(3) / Math.log(2)));
        assertEquals(expected, RankMetrics.ndcg(ranked, qrels, 10), 1e-12);
        assertEquals(0.6509, expected, 1e-4);
        assertEquals(1.0, RankMetrics.ndcg(List.of("a", "c", "x"), qrels, 10), 1e-12);
        assertEquals(0.0, RankMetrics.ndcg(List.of("x"), Map.of("a", 0), 10), 0);
    }

    @Test
    void testRecallAndMrr_thenHandWorkedValues() {
        Map<String, Integer> qrels = Map.of("a", 1, "b", 2, "c", 1, "z", 0);
        List<String> ranked = List.of("x", "z", "b", "y", "a");
        assertEquals(2.0 / 3, RankMetrics.recall(ranked, qrels, 100), 1e-12);
        assertEquals(1.0 / 3, RankMetrics.recall(ranked, qrels, 4), 1e-12);
        assertEquals(1.0 / 3, RankMetrics.mrr(ranked, qrels, 10), 1e-12);
        assertEquals(0.0, RankMetrics.mrr(ranked, qrels, 2), 0);
    }

    @Test
    void testPairedBootstrap_whenConstantDifference_thenDegenerateInterval() {
        double[] a = {3, 4, 5, 6};
        double[] b = {1, 2, 3, 4};
        double[] ci = RankMetrics.pairedBootstrap(4, idx -> {
            double s = 0;
            for (int i : idx) {
                s += a[i] - b[i];
            }
            return s / idx.length;
        }, 500, 1);
        assertEquals(2.0, ci[0], 1e-12);
        assertEquals(2.0, ci[1], 1e-12);
    }

    @Test
    void testPairedBootstrap_whenNoisyDifference_thenIntervalCoversMeanAndShrinksWithN() {
        java.util.Random rnd = new java.util.Random(7);
        int n = 2000;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = 0.5 + rnd.nextGaussian();
        }
        double[] ci = RankMetrics.pairedBootstrap(n, idx -> {
            double s = 0;
            for (int i : idx) {
                s += d[i];
            }
            return s / idx.length;
        }, 1000, 3);
        // standard error 1/sqrt(2000) = 0.0224: the 95% interval is about +-0.044 around the sample mean
        double mean = java.util.Arrays.stream(d).average().orElseThrow();
        assertTrue(ci[0] < mean && mean < ci[1]);
        assertEquals(0.088, ci[1] - ci[0], 0.015);
    }

    @Test
    void testPercentile_thenLinearInterpolation() {
        assertEquals(2.5, RankMetrics.percentile(new double[] {1, 2, 3, 4}, 0.5), 1e-12);
        assertEquals(1.075, RankMetrics.percentile(new double[] {1, 2, 3, 4}, 0.025), 1e-12);
    }
}
