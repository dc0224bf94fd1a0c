package dev.mover.encoder.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BeamSearch} on pure-Java step models: length penalty, top-k, logit adjustments. */
class BeamSearchTests {
    private static final float NEG = Float.NEGATIVE_INFINITY;
    // tokens: 0 start, 1 eos, 2 a, 3 b, 4 c, 5 d, 6 e, 7 x
    private static final int V = 8;

    /** A Markov model: the next-token log-probabilities depend on the last token only. */
    private static BeamSearch.StepModel markov(float[][] rows) {
        return (parents, seqs) -> {
            float[][] out = new float[seqs.length][];
            for (int b = 0; b < seqs.length; b++) {
                out[b] = rows[seqs[b][seqs[b].length - 1]].clone();
            }
            return out;
        };
    }

    private static float[] row(Object... tokenProb) {
        float[] r = new float[V];
        Arrays.fill(r, NEG);
        for (int i = 0; i < tokenProb.length; i += 2) {
            r[(Integer) tokenProb[i]] = (float) Math.log(((Number) tokenProb[i + 1]).doubleValue());
        }
        return r;
    }

    /** "a eos" has the larger sum of log-probabilities, "b c d e eos" the larger mean. */
    private static float[][] shortVsLong() {
        float[][] rows = new float[V][];
        rows[0] = row(2, 0.6, 3, 0.4);
        rows[1] = row(1, 1.0);
        rows[2] = row(1, 0.6, 7, 0.4);
        rows[3] = row(4, 0.9, 7, 0.1);
        rows[4] = row(5, 0.9, 7, 0.1);
        rows[5] = row(6, 0.9, 7, 0.1);
        rows[6] = row(1, 0.9, 7, 0.1);
        rows[7] = row(1, 0.5, 7, 0.5);
        return rows;
    }

    @Test
    void testRun_whenLengthPenaltyChanges_thenShortOrLongHypothesisWins() {
        DecodingOptions base = DecodingOptions.DEFAULT.withCopyBias(0).withNoRepeatNgramSize(0);
        BeamSearch.Outcome sum = new BeamSearch(base.withLengthPenalty(0), 0, 1, new int[0], System::nanoTime)
            .run(markov(shortVsLong()), 10, Long.MAX_VALUE);
        BeamSearch.Outcome mean = new BeamSearch(base.withLengthPenalty(1), 0, 1, new int[0], System::nanoTime)
            .run(markov(shortVsLong()), 10, Long.MAX_VALUE);
        assertArrayEquals(new int[] {2, 1}, sum.best().tokens());
        assertEquals(Math.log(0.6) + Math.log(0.6), sum.best().score(), 1e-6);
        assertArrayEquals(new int[] {3, 4, 5, 6, 1}, mean.best().tokens());
        assertEquals((Math.log(0.4) + 4 * Math.log(0.9)) / 5, mean.best().score(), 1e-6);
    }

    @Test
    void testTopK_whenTiesAndInfinities_thenLargestFirstLowerIndexOnTies() {
        double[] z = {1, Double.NEGATIVE_INFINITY, 3, 3, -2, 0.5, Double.NaN, 2};
        int[] idx = new int[4];
        double[] val = new double[4];
        assertEquals(4, BeamSearch.topK(z, 4, idx, val));
        assertArrayEquals(new int[] {2, 3, 7, 0}, idx);
        assertArrayEquals(new double[] {3, 3, 2, 1}, val);
        int[] idx2 = new int[10];
        assertEquals(6, BeamSearch.topK(z, 10, idx2, new double[10]), "-inf and NaN are never kept");
    }

    @Test
    void testAdjust_whenCopyBiasBlockingAndMinLength_thenLogitsChangedExactly() {
        // source bigrams: a->b, b->c, c->a
        int[] source = {2, 3, 4, 2};
        DecodingOptions opt = new DecodingOptions(3, 10, 1.5, 3, 1.0, 5);
        BeamSearch s = new BeamSearch(opt, 0, 1, source, System::nanoTime);
        double[] z = new double[V];
        // generated so far: a b x a; the last token a gets its source successor b a bonus; the prefix (x, a) of a
        // would-be trigram never occurred before, so nothing is blocked; 4 tokens < min_new_tokens 5 blocks eos
        s.adjust(z, new int[] {0, 2, 3, 7, 2}, 4);
        double[] want = new double[V];
        want[3] = 1.5;
        want[1] = Double.NEGATIVE_INFINITY; // 4 < min_new_tokens 5
        assertArrayEquals(want, z);
        // generated: a b a b; the prefix (a, b) occurred before, followed by a, so a is blocked; b's successor c
        // gets the bonus
        double[] z2 = new double[V];
        s.adjust(z2, new int[] {0, 2, 3, 2, 3}, 4);
        assertEquals(Double.NEGATIVE_INFINITY, z2[2], "a would repeat the trigram a b a");
        assertEquals(1.5, z2[4], 0, "c continues the source bigram b c");
        assertTrue(Double.isInfinite(z2[1]));
    }

    @Test
    void testRun_whenDeadlinePassed_thenStopsBeforeAnyStep() {
        long[] now = {0};
        BeamSearch s = new BeamSearch(DecodingOptions.DEFAULT, 0, 1, new int[0], () -> now[0] += 10);
        BeamSearch.Outcome o = s.run(markov(shortVsLong()), 10, 5);
        assertEquals(GenerationResult.StopReason.TIME, o.stopReason());
        assertEquals(0, o.steps());
        assertEquals(0, o.best().tokens().length);
    }
}
