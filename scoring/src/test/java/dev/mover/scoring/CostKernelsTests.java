package dev.mover.scoring;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The Panama kernels against the scalar ones at odd sizes (Lucene's 13 / 207 / 702 habit), and edge blocks. */
class CostKernelsTests {

    @Test
    void testProvider_whenIncubatorModulePresent_thenPanamaIsUsed() {
        // surefire runs with --add-modules jdk.incubator.vector, so the vectorised path must load here
        assertNotNull(CostKernelsProvider.panamaOrNull(), "PanamaCostKernels failed to load");
        assertEquals(CostKernelsProvider.panamaOrNull().name(), CostMatrix.implementation());
    }

    @Test
    void testPanama_whenOddSizes_thenMatchesScalar() {
        CostKernels simd = CostKernelsProvider.panamaOrNull();
        assertNotNull(simd);
        CostKernels scalar = CostKernelsProvider.scalar();
        Random r = new Random(42);
        int[][] shapes = {{1, 1, 13}, {5, 7, 13}, {13, 11, 207}, {9, 14, 702}, {4, 3, 1}, {8, 6, 384}, {3, 100, 7}, {101, 97, 13}};
        for (int[] s : shapes) {
            int n = s[0], m = s[1], d = s[2];
            double[] x = RandomInstances.normal(r, n, d);
            double[] y = RandomInstances.normal(r, m, d);
            double[] a = new double[n * m];
            double[] b = new double[n * m];
            simd.euclidean(x, n, y, m, d, a);
            scalar.euclidean(x, n, y, m, d, b);
            for (int k = 0; k < a.length; k++) {
                assertEquals(b[k], a[k], 1e-13 * Math.max(1, b[k]), "euclidean " + n + "x" + m + "x" + d + " at " + k);
            }
            simd.dot(x, n, y, m, d, a);
            scalar.dot(x, n, y, m, d, b);
            for (int k = 0; k < a.length; k++) {
                assertEquals(b[k], a[k], 1e-13 * d, "dot " + n + "x" + m + "x" + d + " at " + k);
            }
        }
    }

    @Test
    void testPanama_whenJitWarmsUp_thenBitwiseSameResults() {
        // the first call runs (partly) interpreted, later ones compiled: the lane sums must not change order
        CostKernels simd = CostKernelsProvider.panamaOrNull();
        Random r = new Random(2);
        int n = 9, m = 10, d = 207;
        double[] x = RandomInstances.normal(r, n, d);
        double[] y = RandomInstances.normal(r, m, d);
        double[] first = new double[n * m];
        double[] firstDot = new double[n * m];
        simd.euclidean(x, n, y, m, d, first);
        simd.dot(x, n, y, m, d, firstDot);
        double[] out = new double[n * m];
        for (int rep = 0; rep < 3000; rep++) {
            simd.euclidean(x, n, y, m, d, out);
            org.junit.jupiter.api.Assertions.assertArrayEquals(first, out, 0.0, "euclidean changed at rep " + rep);
            simd.dot(x, n, y, m, d, out);
            org.junit.jupiter.api.Assertions.assertArrayEquals(firstDot, out, 0.0, "dot changed at rep " + rep);
        }
    }

    @Test
    void testEuclidean_whenIdenticalRows_thenExactlyZero() {
        Random r = new Random(1);
        int d = 207;
        double[] x = RandomInstances.normal(r, 6, d);
        double[] out = new double[36];
        for (CostKernels k : new CostKernels[] {CostKernelsProvider.scalar(), CostKernelsProvider.panamaOrNull()}) {
            k.euclidean(x, 6, x, 6, d, out);
            for (int i = 0; i < 6; i++) {
                assertEquals(0.0, out[i * 6 + i], 0.0, k.name() + " diagonal must be exactly 0 (differences, no cancellation)");
            }
        }
    }

    @Test
    void testScorer_whenScalarAndPanama_thenSameDistances() {
        Random r = new Random(8);
        for (Metric metric : Metric.values()) {
            OtScorer a = OtScorer.builder(metric).kernels(CostKernelsProvider.scalar()).build();
            OtScorer b = OtScorer.builder(metric).kernels(CostKernelsProvider.panamaOrNull()).build();
            for (int trial = 0; trial < 10; trial++) {
                int n = 1 + r.nextInt(30);
                int m = 1 + r.nextInt(30);
                int d = 1 + r.nextInt(702);
                TokenMatrix x = TokenMatrix.ofDoubles(RandomInstances.normal(r, n, d), n, d);
                TokenMatrix y = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
                OtResult ra = a.score(a.prepareQuery(x, null), y, null, 0);
                OtResult rb = b.score(b.prepareQuery(x, null), y, null, 0);
                assertEquals(ra.distance(), rb.distance(), 1e-12 * ra.costMax());
                assertEquals(ra.rwmd(), rb.rwmd(), 1e-12 * ra.costMax());
            }
        }
    }

    @Test
    void testFloatRows_whenWidenedInRegisters_thenSameBitsAsDoubleRows() {
        // float y rows widen exactly, so each kernel gives the same bits as on the widened double copy; sumSquares
        // likewise (and adds the row to the centroid sums); scalar and Panama agree to rounding
        Random r = new Random(17);
        int[][] shapes = {{1, 1, 13}, {5, 7, 13}, {13, 11, 207}, {4, 3, 1}, {20, 127, 384}, {3, 100, 7}};
        for (CostKernels k : new CostKernels[] {CostKernelsProvider.scalar(), CostKernelsProvider.panamaOrNull()}) {
            for (int[] s : shapes) {
                int n = s[0], m = s[1], d = s[2];
                double[] x = RandomInstances.normal(r, n, d);
                float[] yf = new float[m * d];
                double[] yd = new double[m * d];
                for (int t = 0; t < yf.length; t++) {
                    yf[t] = (float) r.nextGaussian();
                    yd[t] = yf[t];
                }
                double[] a = new double[n * m];
                double[] b = new double[n * m];
                k.euclidean(x, n, yf, m, d, a);
                k.euclidean(x, n, yd, m, d, b);
                org.junit.jupiter.api.Assertions.assertArrayEquals(b, a, 0.0, k.name() + " euclidean " + n + "x" + m + "x" + d);
                k.dot(x, n, yf, m, d, a);
                k.dot(x, n, yd, m, d, b);
                org.junit.jupiter.api.Assertions.assertArrayEquals(b, a, 0.0, k.name() + " dot " + n + "x" + m + "x" + d);
                double[] cf = new double[d];
                double[] cd = new double[d];
                double[] expected = new double[d];
                for (int t = 0; t < m; t++) {
                    double sf = k.sumSquares(yf, t * d, d, cf);
                    double sd = k.sumSquares(yd, t * d, d, cd);
                    assertEquals(sd, sf, 0.0, k.name() + " sumSquares row " + t);
                    double ref = 0;
                    for (int c = 0; c < d; c++) {
                        ref += yd[t * d + c] * yd[t * d + c];
                        expected[c] += yd[t * d + c];
                    }
                    assertEquals(ref, sf, 1e-13 * ref, k.name() + " sumSquares value row " + t);
                    assertEquals(ref, k.sumSquares(yf, t * d, d, null), 1e-13 * ref);
                }
                org.junit.jupiter.api.Assertions.assertArrayEquals(cd, cf, 0.0);
                for (int c = 0; c < d; c++) {
                    assertEquals(expected[c], cf[c], 1e-12 * m);
                }
            }
        }
    }

    @Test
    void testDequantizeInt8_whenPanamaOrScalar_thenSameBitsAndInvalidCodeFound() {
        Random r = new Random(8);
        for (int d : new int[] {1, 7, 16, 33, 384, 385}) {
            byte[] src = new byte[d + 5];
            for (int k = 0; k < src.length; k++) {
                src[k] = (byte) (r.nextInt(255) - 127);   // [-127, 127]
            }
            float scale = (float) (r.nextDouble() * 0.1);
            float[] a = new float[d + 2];
            float[] b = new float[d + 2];
            org.junit.jupiter.api.Assertions.assertTrue(CostKernelsProvider.scalar().dequantizeInt8(src, 3, d, scale, a, 1));
            org.junit.jupiter.api.Assertions.assertTrue(CostKernelsProvider.panamaOrNull().dequantizeInt8(src, 3, d, scale, b, 1));
            org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, 0f, "d " + d);
            for (int k = 0; k < d; k++) {
                assertEquals(src[3 + k] * scale, a[1 + k], 0f);
            }
            for (int at : new int[] {0, d / 2, d - 1}) {
                byte[] bad = src.clone();
                bad[3 + at] = Byte.MIN_VALUE;
                for (CostKernels k : new CostKernels[] {CostKernelsProvider.scalar(), CostKernelsProvider.panamaOrNull()}) {
                    org.junit.jupiter.api.Assertions.assertFalse(k.dequantizeInt8(bad, 3, d, scale, b, 1), k.name() + " d " + d + " at " + at);
                }
            }
        }
    }
}
