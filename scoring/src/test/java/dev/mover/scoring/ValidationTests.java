package dev.mover.scoring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Bad input is rejected with an IllegalArgumentException whose message names the problem (exact strings). */
class ValidationTests {
    private static final TokenMatrix Q = TokenMatrix.ofDoubles(new double[] {1, 0, 0, 1}, 2, 2);

    private static void assertRejected(String message, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals(message, ex.getMessage());
    }

    @Test
    void testScore_whenDocumentEmpty_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        assertRejected("[mover] document has no tokens, the WMD distance is undefined",
            () -> s.score(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[0], 0, 2), null, 0));
    }

    @Test
    void testPrepare_whenQueryEmpty_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        assertRejected("[mover] query has no tokens, the WRD distance is undefined",
            () -> s.prepareQuery(TokenMatrix.of(new float[0], 0, 3), null));
    }

    @Test
    void testWrd_whenAllVectorsZero_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        assertRejected("[mover] query has zero total norm: all [2] token vectors are zero, the WRD distance is undefined",
            () -> s.prepareQuery(TokenMatrix.ofDoubles(new double[4], 2, 2), null));
        assertRejected("[mover] document has zero total norm: all [1] token vectors are zero, the WRD distance is undefined",
            () -> s.score(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[2], 1, 2), null, 0));
    }

    @Test
    void testScore_whenDimsDiffer_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        assertRejected("[mover] document dims [3] differ from query dims [2]",
            () -> s.score(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[3], 1, 3), null, 0));
        assertRejected("[mover] document dims [3] differ from query dims [2]",
            () -> s.maxSim(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[] {1, 1, 1}, 1, 3)));
    }

    @Test
    void testTokenMatrix_whenNaNOrInfinite_thenRejected() {
        assertRejected("[mover] token [1] component [0] is not finite [NaN]",
            () -> TokenMatrix.of(new float[] {1, 2, Float.NaN, 0}, 2, 2));
        assertRejected("[mover] token [0] component [1] is not finite [-Infinity]",
            () -> TokenMatrix.ofDoubles(new double[] {1, Double.NEGATIVE_INFINITY}, 1, 2));
        assertRejected("[mover] token matrix data length [3] is not rows [2] x dims [2]",
            () -> TokenMatrix.of(new float[3], 2, 2));
    }

    @Test
    void testScore_whenNormOverflows_thenRejectedNotDropped() {
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        assertRejected("[mover] document token [1] is too large: its squared norm overflows double",
            () -> s.score(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[] {1, 0, 1e200, 1}, 2, 2), null, 0));
    }

    @Test
    void testExplicit_whenWeightsInvalid_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WMD).massRule(MassRule.EXPLICIT).build();
        assertRejected("[mover] query weight [1] must be finite and >= 0 but was [-0.5]",
            () -> s.prepareQuery(Q, new double[] {1, -0.5}));
        assertRejected("[mover] query weight [0] must be finite and >= 0 but was [NaN]",
            () -> s.prepareQuery(Q, new double[] {Double.NaN, 1}));
        assertRejected("[mover] query weights are all zero, the masses are undefined",
            () -> s.prepareQuery(Q, new double[] {0, 0}));
        assertRejected("[mover] query has [3] weights for [2] tokens",
            () -> s.prepareQuery(Q, new double[] {1, 1, 1}));
        assertRejected("[mover] mass rule [EXPLICIT] needs document weights but none were given",
            () -> s.score(s.prepareQuery(Q, new double[] {1, 1}), Q, null, 0));
    }

    @Test
    void testWeights_whenRuleIsNotExplicit_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        assertRejected("[mover] query weights were given but the mass rule is [UNIFORM]; use EXPLICIT",
            () -> s.prepareQuery(Q, new double[] {1, 1}));
    }

    @Test
    void testWrd_whenZeroNormTokenHasExplicitMass_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WRD).massRule(MassRule.EXPLICIT).build();
        TokenMatrix withZero = TokenMatrix.ofDoubles(new double[] {1, 0, 0, 0}, 2, 2);
        assertRejected("[mover] query token [1] has norm zero but mass [0.5]; its cosine cost is undefined",
            () -> s.prepareQuery(withZero, new double[] {1, 1}));
    }

    @Test
    void testScore_whenPreparedByOtherConfiguration_thenRejected() {
        OtScorer wmd = OtScorer.builder(Metric.WMD).build();
        OtScorer wrd = OtScorer.builder(Metric.WRD).build();
        assertRejected("[mover] query was prepared for [WMD, UNIFORM] but this scorer is [WRD, NORM]",
            () -> wrd.score(wmd.prepareQuery(Q, null), Q, null, 0));
    }

    @Test
    void testSolver_whenMassesDoNotBalance_thenRejected() {
        assertRejected("[mover] masses do not balance: sum(a) [1.0] != sum(b) [0.9]",
            () -> new NetworkSimplex().solve(new double[] {1}, 1, new double[] {0.9}, 1, new double[] {0}));
    }

    @Test
    void testBuilder_whenBadSinkhornSettings_thenRejected() {
        assertRejected("[mover] sinkhorn epsilon must be positive and finite but was [0.0]",
            () -> OtScorer.builder(Metric.WRD).sinkhornEpsilon(0, true));
        assertRejected("[mover] sinkhorn max iterations must be >= 1 but was [0]",
            () -> OtScorer.builder(Metric.WRD).sinkhornMaxIterations(0));
    }

    @Test
    void testMaxSim_whenNoDirection_thenRejected() {
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        assertRejected("[mover] document has no token with non-zero norm, maxSim is undefined",
            () -> s.maxSim(s.prepareQuery(Q, null), TokenMatrix.ofDoubles(new double[2], 1, 2)));
    }
}
