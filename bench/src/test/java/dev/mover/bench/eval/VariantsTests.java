package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VariantsTests {

    @Test
    void testHybrid_whenFourPairs_thenSpearmanWorkedByHand() {
        double[] pooled = {0.9, 0.1, 0.5, 0.3};
        double[] token = {0.1, 0.6, 0.7, 0.2};
        double[] gold = {3, 1, 2, 4};
        double[] hybrid = new double[4];
        for (int i = 0; i < 4; i++) {
            hybrid[i] = Variants.hybrid(pooled[i], token[i]);
        }
        // hybrid = [0.5, 0.35, 0.6, 0.25] -> ranks [3, 2, 4, 1]; gold ranks [3, 1, 2, 4];
        // d = [0, 1, 2, -3], sum d^2 = 14, rho = 1 - 6*14/(4*15) = -0.4
        assertArrayEquals(new double[] {0.5, 0.35, 0.6, 0.25}, hybrid, 1e-12);
        assertEquals(-0.4, RankMetrics.spearman(hybrid, gold), 1e-12);
        // pooled alone: ranks [4, 1, 3, 2]; d = [1, 0, 1, -2], sum d^2 = 6, rho = 1 - 36/60 = 0.4
        assertEquals(0.4, RankMetrics.spearman(pooled, gold), 1e-12);
    }

    @Test
    void testHybrid_whenEitherUndefined_thenNaN() {
        assertTrue(Double.isNaN(Variants.hybrid(Double.NaN, 0.5)));
        assertTrue(Double.isNaN(Variants.hybrid(0.5, Double.NaN)));
    }

    @Test
    void testIdf_whenThreeSentences_thenBm25IdfOfDocumentFrequency() {
        // N = 3; df(1) = 1, df(2) = 3 (repeated 2 in the third sentence counts once), df(3) = 1, df(4) = 1
        Map<Integer, Double> idf = Variants.idf(List.of(new int[] {1, 2}, new int[] {2, 3}, new int[] {2, 2, 4}));
        assertEquals(4, idf.size());
        assertEquals(Math.log(1 + 2.5 / 1.5), idf.get(1), 1e-12);
        assertEquals(Math.log(1 + 0.5 / 3.5), idf.get(2), 1e-12);
        assertEquals(Math.log(8.0 / 3), idf.get(4), 1e-12);
    }

    @Test
    void testWeights_whenIdsAndRows_thenIdfTimesNorm() {
        Map<Integer, Double> idf = Variants.idf(List.of(new int[] {1, 2}, new int[] {2, 3}, new int[] {2, 2, 4}));
        TokenMatrix m = TokenMatrix.of(new float[] {3, 4, 0, 2, 1, 0}, 3, 2);
        double[] w = Variants.weights(new int[] {1, 2, 9}, m, idf, 3);
        // norms 5, 2, 1; id 9 was never seen: idf = ln(1 + 3.5 / 0.5) = ln 8
        assertArrayEquals(new double[] {5 * Math.log(8.0 / 3), 2 * Math.log(8.0 / 7), Math.log(8)}, w, 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Variants.weights(new int[] {1}, m, idf, 3));
    }

    @Test
    void testIdfWrd_whenWeightsAreNorms_thenEqualsPlainWrd() {
        TokenMatrix x = TokenMatrix.of(new float[] {1, 0, 0.5f, 0.5f, 0, 2}, 3, 2);
        TokenMatrix y = TokenMatrix.of(new float[] {0.2f, 1, 1, 1}, 2, 2);
        double[] nx = {1, Math.sqrt(0.5), 2};
        double[] ny = {Math.sqrt(1.04), Math.sqrt(2)};
        OtScorer wrd = OtScorer.builder(Metric.WRD).build();
        double plain = 1 - wrd.score(wrd.prepareQuery(x, null), y, null, 0).distance();
        Variants.IdfWrd idfWrd = new Variants.IdfWrd();
        assertEquals(plain, idfWrd.similarity(x, nx, y, ny), 1e-9);
        // different masses move the value: all mass on the first x token (cos to y's tokens 0.196 and 0.707)
        double skewed = idfWrd.similarity(x, new double[] {1, 0, 0}, y, ny);
        assertTrue(Math.abs(skewed - plain) > 1e-3, "skewed " + skewed + " plain " + plain);
        assertTrue(Double.isNaN(idfWrd.similarity(TokenMatrix.of(new float[0], 0, 2), new double[0], y, ny)));
    }

    @Test
    void testPunctuation_whenSpans_thenOnlyTokensWithoutLetterOrDigit() {
        String text = "Hi, 2 dogs!? \u4f60\u597d\u3002";
        // spans: "Hi" "," "2" "dogs" "!?" "\u4f60" "\u3002" and an empty span
        int[] starts = {0, 2, 4, 6, 10, 13, 15, 3};
        int[] ends = {2, 3, 5, 10, 12, 14, 16, 3};
        assertArrayEquals(new boolean[] {false, true, false, false, true, false, true, false},
            Variants.punctuation(text, starts, ends));
    }

    @Test
    void testNoPunctWeights_whenPunctuationAndStopLike_thenZeroMassUnlessAllDropped() {
        // 20 sentences; id 7 in 3 of them (> 10% of 20 = 2: stop-like), id 5 in 2 (not above), id 6 in 1
        List<int[]> sentences = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sentences.add(i < 3 ? new int[] {7, 7} : i < 5 ? new int[] {5} : i < 6 ? new int[] {6} : new int[] {100 + i});
        }
        Map<Integer, Integer> df = Variants.df(sentences);
        assertEquals(3, df.get(7));
        assertEquals(2, df.get(5));
        TokenMatrix m = TokenMatrix.of(new float[] {3, 4, 0, 2, 1, 0, 0, 1}, 4, 2);
        double[] w = Variants.noPunctWeights(new int[] {5, 7, 6, 6}, new boolean[] {false, false, false, true}, m, df, 20);
        assertArrayEquals(new double[] {5, 0, 1, 0}, w, 1e-12);
        // every token dropped: all kept with norm masses
        double[] all = Variants.noPunctWeights(new int[] {7, 6}, new boolean[] {false, true},
            TokenMatrix.of(new float[] {3, 4, 0, 2}, 2, 2), df, 20);
        assertArrayEquals(new double[] {5, 2}, all, 1e-12);
    }

    @Test
    void testCentered_whenTwoMatrices_thenMeanOfAllRowsSubtracted() {
        TokenMatrix a = TokenMatrix.of(new float[] {1, 2, 3, 4}, 2, 2);
        TokenMatrix b = TokenMatrix.of(new float[] {5, 0}, 1, 2);
        // rows (1,2), (3,4), (5,0): mean (3, 2)
        double[] mean = Variants.meanVector(new TokenMatrix[] {a, null}, new TokenMatrix[] {b});
        assertArrayEquals(new double[] {3, 2}, mean, 1e-12);
        TokenMatrix c = Variants.centered(a, mean);
        assertEquals(-2, c.get(0, 0), 1e-6);
        assertEquals(0, c.get(0, 1), 1e-6);
        assertEquals(0, c.get(1, 0), 1e-6);
        assertEquals(2, c.get(1, 1), 1e-6);
    }

    @Test
    void testPartialWrd_whenEqualLengths_thenPlainWrdAndWhenShorterQuery_thenNotBelowIt() {
        Variants.PartialWrd p = new Variants.PartialWrd();
        OtScorer wrd = OtScorer.builder(Metric.WRD).build();
        TokenMatrix x = TokenMatrix.of(new float[] {1, 0, 0, 1}, 2, 2);
        TokenMatrix y = TokenMatrix.of(new float[] {1, 1, 1, 0}, 2, 2);
        double plain = 1 - wrd.score(wrd.prepareQuery(x, null), y, null, 0).distance();
        assertEquals(plain, p.similarity(x, y), 1e-12);
        // one query token (1,0) against three unit document tokens (masses 1/3 each): fraction 1/3 caps each at 1, so
        // the query moves wholly onto the identical token (1,0): distance 0, similarity 1, whichever side comes first
        TokenMatrix q = TokenMatrix.of(new float[] {1, 0}, 1, 2);
        TokenMatrix d = TokenMatrix.of(new float[] {1, 0, 0, 1, 0, 1}, 3, 2);
        assertEquals(1.0, p.similarity(q, d), 1e-12);
        assertEquals(1.0, p.similarity(d, q), 1e-12);
        double balanced = 1 - wrd.score(wrd.prepareQuery(q, null), d, null, 0).distance();
        // balanced: 1/3 at cost 0, 2/3 at cost 1 (orthogonal)
        assertEquals(1.0 / 3, balanced, 1e-12);
        // norm masses (1, 1, 3)/5 cap (1,0) at 0.6: 0.4 of the query goes at cost 1, similarity 0.6
        assertEquals(0.6, p.similarity(q, TokenMatrix.of(new float[] {1, 0, 0, 1, 0, 3}, 3, 2)), 1e-12);
    }
}
