package dev.mover.scoring;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Cost kernels on the Panama Vector API ({@code jdk.incubator.vector}, Java 17), in double precision. Loaded only
 * through {@link CostKernelsProvider}, which falls back to {@link ScalarCostKernels} when the module is absent or this
 * class fails to link. Blocks of 4 x-rows by 3 y-rows keep 12 accumulators in registers (7 loads per 12 fused
 * multiply-adds); y is walked in chunks of {@value #Y_CHUNK} rows so that the chunk stays in L2 while every x block
 * passes over it. Same formulas as the scalar code (differences for the Euclidean cost); only the summation order
 * differs, so results agree to a few ulps. The 12 accumulators of a block are stored together and then summed lane by
 * lane in a fixed order: deterministic on every JDK, and storing all 12 before reading avoids the store-forwarding
 * stall of reducing one vector at a time through memory.
 */
final class PanamaCostKernels implements CostKernels {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int Y_CHUNK = 96;

    PanamaCostKernels() {
        if (S.length() < 2) {
            throw new UnsupportedOperationException("no useful double vector species: " + S);
        }
    }

    @Override
    public String name() {
        return "panama-" + S.vectorBitSize();
    }

    @Override
    public void dot(double[] x, int n, double[] y, int m, int d, double[] out) {
        kernel(x, n, y, m, d, out, false);
    }

    @Override
    public void euclidean(double[] x, int n, double[] y, int m, int d, double[] out) {
        kernel(x, n, y, m, d, out, true);
    }

    private static void kernel(double[] x, int n, double[] y, int m, int d, double[] out, boolean euclid) {
        final double[] lanes = new double[12 * S.length()];
        for (int jc = 0; jc < m; jc += Y_CHUNK) {
            int jEnd = Math.min(m, jc + Y_CHUNK);
            int i = 0;
            for (; i + 3 < n; i += 4) {
                int j = jc;
                for (; j + 2 < jEnd; j += 3) {
                    if (euclid) {
                        euclid4x3(x, i, y, j, m, d, out, lanes);
                    } else {
                        dot4x3(x, i, y, j, m, d, out, lanes);
                    }
                }
                for (; j < jEnd; j++) {
                    for (int r = i; r < i + 4; r++) {
                        out[r * m + j] = euclid ? Math.sqrt(sqDist(x, r * d, y, j * d, d, lanes)) : dotPair(x, r * d, y, j * d, d, lanes);
                    }
                }
            }
            for (; i < n; i++) {
                for (int j = jc; j < jEnd; j++) {
                    out[i * m + j] = euclid ? Math.sqrt(sqDist(x, i * d, y, j * d, d, lanes)) : dotPair(x, i * d, y, j * d, d, lanes);
                }
            }
        }
    }

    private static void dot4x3(double[] x, int i, double[] y, int j, int m, int d, double[] out, double[] lanes) {
        final int x0 = i * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        final int y0 = j * d, y1 = y0 + d, y2 = y1 + d;
        DoubleVector a00 = DoubleVector.zero(S), a01 = DoubleVector.zero(S), a02 = DoubleVector.zero(S);
        DoubleVector a10 = DoubleVector.zero(S), a11 = DoubleVector.zero(S), a12 = DoubleVector.zero(S);
        DoubleVector a20 = DoubleVector.zero(S), a21 = DoubleVector.zero(S), a22 = DoubleVector.zero(S);
        DoubleVector a30 = DoubleVector.zero(S), a31 = DoubleVector.zero(S), a32 = DoubleVector.zero(S);
        final int bound = S.loopBound(d);
        final int step = S.length();
        for (int k = 0; k < bound; k += step) {
            DoubleVector b0 = DoubleVector.fromArray(S, y, y0 + k);
            DoubleVector b1 = DoubleVector.fromArray(S, y, y1 + k);
            DoubleVector b2 = DoubleVector.fromArray(S, y, y2 + k);
            DoubleVector v = DoubleVector.fromArray(S, x, x0 + k);
            a00 = v.fma(b0, a00);
            a01 = v.fma(b1, a01);
            a02 = v.fma(b2, a02);
            v = DoubleVector.fromArray(S, x, x1 + k);
            a10 = v.fma(b0, a10);
            a11 = v.fma(b1, a11);
            a12 = v.fma(b2, a12);
            v = DoubleVector.fromArray(S, x, x2 + k);
            a20 = v.fma(b0, a20);
            a21 = v.fma(b1, a21);
            a22 = v.fma(b2, a22);
            v = DoubleVector.fromArray(S, x, x3 + k);
            a30 = v.fma(b0, a30);
            a31 = v.fma(b1, a31);
            a32 = v.fma(b2, a32);
        }
        final int L = S.length();
        a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L); a11.intoArray(lanes, 4 * L); a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L); a21.intoArray(lanes, 7 * L); a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L); a31.intoArray(lanes, 10 * L); a32.intoArray(lanes, 11 * L);
        double s00 = lsum(lanes, 0, L), s01 = lsum(lanes, L, L), s02 = lsum(lanes, 2 * L, L);
        double s10 = lsum(lanes, 3 * L, L), s11 = lsum(lanes, 4 * L, L), s12 = lsum(lanes, 5 * L, L);
        double s20 = lsum(lanes, 6 * L, L), s21 = lsum(lanes, 7 * L, L), s22 = lsum(lanes, 8 * L, L);
        double s30 = lsum(lanes, 9 * L, L), s31 = lsum(lanes, 10 * L, L), s32 = lsum(lanes, 11 * L, L);
        for (int k = bound; k < d; k++) {
            double b0 = y[y0 + k], b1 = y[y1 + k], b2 = y[y2 + k];
            double v = x[x0 + k];
            s00 += v * b0;
            s01 += v * b1;
            s02 += v * b2;
            v = x[x1 + k];
            s10 += v * b0;
            s11 += v * b1;
            s12 += v * b2;
            v = x[x2 + k];
            s20 += v * b0;
            s21 += v * b1;
            s22 += v * b2;
            v = x[x3 + k];
            s30 += v * b0;
            s31 += v * b1;
            s32 += v * b2;
        }
        int o = i * m + j;
        out[o] = s00;
        out[o + 1] = s01;
        out[o + 2] = s02;
        o += m;
        out[o] = s10;
        out[o + 1] = s11;
        out[o + 2] = s12;
        o += m;
        out[o] = s20;
        out[o + 1] = s21;
        out[o + 2] = s22;
        o += m;
        out[o] = s30;
        out[o + 1] = s31;
        out[o + 2] = s32;
    }

    private static void euclid4x3(double[] x, int i, double[] y, int j, int m, int d, double[] out, double[] lanes) {
        final int x0 = i * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        final int y0 = j * d, y1 = y0 + d, y2 = y1 + d;
        DoubleVector a00 = DoubleVector.zero(S), a01 = DoubleVector.zero(S), a02 = DoubleVector.zero(S);
        DoubleVector a10 = DoubleVector.zero(S), a11 = DoubleVector.zero(S), a12 = DoubleVector.zero(S);
        DoubleVector a20 = DoubleVector.zero(S), a21 = DoubleVector.zero(S), a22 = DoubleVector.zero(S);
        DoubleVector a30 = DoubleVector.zero(S), a31 = DoubleVector.zero(S), a32 = DoubleVector.zero(S);
        final int bound = S.loopBound(d);
        final int step = S.length();
        for (int k = 0; k < bound; k += step) {
            DoubleVector b0 = DoubleVector.fromArray(S, y, y0 + k);
            DoubleVector b1 = DoubleVector.fromArray(S, y, y1 + k);
            DoubleVector b2 = DoubleVector.fromArray(S, y, y2 + k);
            DoubleVector v = DoubleVector.fromArray(S, x, x0 + k);
            DoubleVector t = v.sub(b0);
            a00 = t.fma(t, a00);
            t = v.sub(b1);
            a01 = t.fma(t, a01);
            t = v.sub(b2);
            a02 = t.fma(t, a02);
            v = DoubleVector.fromArray(S, x, x1 + k);
            t = v.sub(b0);
            a10 = t.fma(t, a10);
            t = v.sub(b1);
            a11 = t.fma(t, a11);
            t = v.sub(b2);
            a12 = t.fma(t, a12);
            v = DoubleVector.fromArray(S, x, x2 + k);
            t = v.sub(b0);
            a20 = t.fma(t, a20);
            t = v.sub(b1);
            a21 = t.fma(t, a21);
            t = v.sub(b2);
            a22 = t.fma(t, a22);
            v = DoubleVector.fromArray(S, x, x3 + k);
            t = v.sub(b0);
            a30 = t.fma(t, a30);
            t = v.sub(b1);
            a31 = t.fma(t, a31);
            t = v.sub(b2);
            a32 = t.fma(t, a32);
        }
        final int L = S.length();
        a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L); a11.intoArray(lanes, 4 * L); a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L); a21.intoArray(lanes, 7 * L); a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L); a31.intoArray(lanes, 10 * L); a32.intoArray(lanes, 11 * L);
        double s00 = lsum(lanes, 0, L), s01 = lsum(lanes, L, L), s02 = lsum(lanes, 2 * L, L);
        double s10 = lsum(lanes, 3 * L, L), s11 = lsum(lanes, 4 * L, L), s12 = lsum(lanes, 5 * L, L);
        double s20 = lsum(lanes, 6 * L, L), s21 = lsum(lanes, 7 * L, L), s22 = lsum(lanes, 8 * L, L);
        double s30 = lsum(lanes, 9 * L, L), s31 = lsum(lanes, 10 * L, L), s32 = lsum(lanes, 11 * L, L);
        for (int k = bound; k < d; k++) {
            double b0 = y[y0 + k], b1 = y[y1 + k], b2 = y[y2 + k];
            double v = x[x0 + k];
            double t;
            t = v - b0; s00 += t * t;
            t = v - b1; s01 += t * t;
            t = v - b2; s02 += t * t;
            v = x[x1 + k];
            t = v - b0; s10 += t * t;
            t = v - b1; s11 += t * t;
            t = v - b2; s12 += t * t;
            v = x[x2 + k];
            t = v - b0; s20 += t * t;
            t = v - b1; s21 += t * t;
            t = v - b2; s22 += t * t;
            v = x[x3 + k];
            t = v - b0; s30 += t * t;
            t = v - b1; s31 += t * t;
            t = v - b2; s32 += t * t;
        }
        int o = i * m + j;
        out[o] = Math.sqrt(s00);
        out[o + 1] = Math.sqrt(s01);
        out[o + 2] = Math.sqrt(s02);
        o += m;
        out[o] = Math.sqrt(s10);
        out[o + 1] = Math.sqrt(s11);
        out[o + 2] = Math.sqrt(s12);
        o += m;
        out[o] = Math.sqrt(s20);
        out[o + 1] = Math.sqrt(s21);
        out[o + 2] = Math.sqrt(s22);
        o += m;
        out[o] = Math.sqrt(s30);
        out[o + 1] = Math.sqrt(s31);
        out[o + 2] = Math.sqrt(s32);
    }

    /** Fixed-order sum of {@code len} lanes stored at {@code o}. */
    private static double lsum(double[] a, int o, int len) {
        double s = 0;
        for (int l = 0; l < len; l++) {
            s += a[o + l];
        }
        return s;
    }

    /**
     * Sum of one vector's lanes in a fixed order. {@code reduceLanes(ADD)} leaves the order unspecified (JDK 17 on x86
     * happens to sum sequentially in both the intrinsic and the fallback, later JDKs may not), and an order that
     * depends on JIT state would let the same pair score differently by an ulp over time. Lane-wise operations and
     * this scalar sum give the same bits interpreted or compiled, on any JDK.
     */
    private static double sum(DoubleVector v, double[] lanes) {
        v.intoArray(lanes, 0);
        return lsum(lanes, 0, S.length());
    }

    /** One pair, vectorised over d (edges of the blocking). */
    private static double sqDist(double[] x, int xo, double[] y, int yo, int d, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            DoubleVector t = DoubleVector.fromArray(S, x, xo + k).sub(DoubleVector.fromArray(S, y, yo + k));
            acc = t.fma(t, acc);
        }
        double s = sum(acc, lanes);
        for (int k = bound; k < d; k++) {
            double t = x[xo + k] - y[yo + k];
            s += t * t;
        }
        return s;
    }

    private static double dotPair(double[] x, int xo, double[] y, int yo, int d, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            acc = DoubleVector.fromArray(S, x, xo + k).fma(DoubleVector.fromArray(S, y, yo + k), acc);
        }
        double s = sum(acc, lanes);
        for (int k = bound; k < d; k++) {
            s += x[xo + k] * y[yo + k];
        }
        return s;
    }
    /** One lane-count-matched float species: a float vector of it widens exactly into one {@link #S} vector. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize() / 2));

    /** {@code S.length()} floats from {@code a[off]}, widened to double (exact). */
    private static DoubleVector loadF(float[] a, int off) {
        return (DoubleVector) FloatVector.fromArray(F, a, off).convertShape(VectorOperators.F2D, S, 0);
    }

    @Override
    public void dot(double[] x, int n, float[] y, int m, int d, double[] out) {
        kernelF(x, n, y, m, d, out, false);
    }

    @Override
    public void euclidean(double[] x, int n, float[] y, int m, int d, double[] out) {
        kernelF(x, n, y, m, d, out, true);
    }

    @Override
    public double sumSquares(float[] v, int off, int d, double[] addTo) {
        DoubleVector sq = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            DoubleVector t = loadF(v, off + k);
            sq = t.fma(t, sq);
            if (addTo != null) {
                DoubleVector.fromArray(S, addTo, k).add(t).intoArray(addTo, k);
            }
        }
        double s = 0;
        for (int l = 0; l < S.length(); l++) {
            s += sq.lane(l);   // fixed order, no scratch array
        }
        for (int k = bound; k < d; k++) {
            double t = v[off + k];
            s += t * t;
            if (addTo != null) {
                addTo[k] += t;
            }
        }
        return s;
    }

    @Override
    public double sumSquares(double[] v, int off, int d, double[] addTo) {
        DoubleVector sq = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            DoubleVector t = DoubleVector.fromArray(S, v, off + k);
            sq = t.fma(t, sq);
            if (addTo != null) {
                DoubleVector.fromArray(S, addTo, k).add(t).intoArray(addTo, k);
            }
        }
        double s = 0;
        for (int l = 0; l < S.length(); l++) {
            s += sq.lane(l);   // fixed order, no scratch array
        }
        for (int k = bound; k < d; k++) {
            double t = v[off + k];
            s += t * t;
            if (addTo != null) {
                addTo[k] += t;
            }
        }
        return s;
    }

    private static void kernelF(double[] x, int n, float[] y, int m, int d, double[] out, boolean euclid) {
        final double[] lanes = new double[12 * S.length()];
        for (int jc = 0; jc < m; jc += Y_CHUNK) {
            int jEnd = Math.min(m, jc + Y_CHUNK);
            int i = 0;
            for (; i + 3 < n; i += 4) {
                int j = jc;
                for (; j + 2 < jEnd; j += 3) {
                    if (euclid) {
                        euclid4x3F(x, i, y, j, m, d, out, lanes);
                    } else {
                        dot4x3F(x, i, y, j, m, d, out, lanes);
                    }
                }
                for (; j < jEnd; j++) {
                    for (int r = i; r < i + 4; r++) {
                        out[r * m + j] = euclid ? Math.sqrt(sqDistF(x, r * d, y, j * d, d, lanes)) : dotPairF(x, r * d, y, j * d, d, lanes);
                    }
                }
            }
            for (; i < n; i++) {
                for (int j = jc; j < jEnd; j++) {
                    out[i * m + j] = euclid ? Math.sqrt(sqDistF(x, i * d, y, j * d, d, lanes)) : dotPairF(x, i * d, y, j * d, d, lanes);
                }
            }
        }
    }
    private static void dot4x3F(double[] x, int i, float[] y, int j, int m, int d, double[] out, double[] lanes) {
        final int x0 = i * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        final int y0 = j * d, y1 = y0 + d, y2 = y1 + d;
        DoubleVector a00 = DoubleVector.zero(S), a01 = DoubleVector.zero(S), a02 = DoubleVector.zero(S);
        DoubleVector a10 = DoubleVector.zero(S), a11 = DoubleVector.zero(S), a12 = DoubleVector.zero(S);
        DoubleVector a20 = DoubleVector.zero(S), a21 = DoubleVector.zero(S), a22 = DoubleVector.zero(S);
        DoubleVector a30 = DoubleVector.zero(S), a31 = DoubleVector.zero(S), a32 = DoubleVector.zero(S);
        final int bound = S.loopBound(d);
        final int step = S.length();
        for (int k = 0; k < bound; k += step) {
            DoubleVector b0 = loadF(y, y0 + k);
            DoubleVector b1 = loadF(y, y1 + k);
            DoubleVector b2 = loadF(y, y2 + k);
            DoubleVector v = DoubleVector.fromArray(S, x, x0 + k);
            a00 = v.fma(b0, a00);
            a01 = v.fma(b1, a01);
            a02 = v.fma(b2, a02);
            v = DoubleVector.fromArray(S, x, x1 + k);
            a10 = v.fma(b0, a10);
            a11 = v.fma(b1, a11);
            a12 = v.fma(b2, a12);
            v = DoubleVector.fromArray(S, x, x2 + k);
            a20 = v.fma(b0, a20);
            a21 = v.fma(b1, a21);
            a22 = v.fma(b2, a22);
            v = DoubleVector.fromArray(S, x, x3 + k);
            a30 = v.fma(b0, a30);
            a31 = v.fma(b1, a31);
            a32 = v.fma(b2, a32);
        }
        final int L = S.length();
        a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L); a11.intoArray(lanes, 4 * L); a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L); a21.intoArray(lanes, 7 * L); a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L); a31.intoArray(lanes, 10 * L); a32.intoArray(lanes, 11 * L);
        double s00 = lsum(lanes, 0, L), s01 = lsum(lanes, L, L), s02 = lsum(lanes, 2 * L, L);
        double s10 = lsum(lanes, 3 * L, L), s11 = lsum(lanes, 4 * L, L), s12 = lsum(lanes, 5 * L, L);
        double s20 = lsum(lanes, 6 * L, L), s21 = lsum(lanes, 7 * L, L), s22 = lsum(lanes, 8 * L, L);
        double s30 = lsum(lanes, 9 * L, L), s31 = lsum(lanes, 10 * L, L), s32 = lsum(lanes, 11 * L, L);
        for (int k = bound; k < d; k++) {
            double b0 = y[y0 + k], b1 = y[y1 + k], b2 = y[y2 + k];
            double v = x[x0 + k];
            s00 += v * b0;
            s01 += v * b1;
            s02 += v * b2;
            v = x[x1 + k];
            s10 += v * b0;
            s11 += v * b1;
            s12 += v * b2;
            v = x[x2 + k];
            s20 += v * b0;
            s21 += v * b1;
            s22 += v * b2;
            v = x[x3 + k];
            s30 += v * b0;
            s31 += v * b1;
            s32 += v * b2;
        }
        int o = i * m + j;
        out[o] = s00;
        out[o + 1] = s01;
        out[o + 2] = s02;
        o += m;
        out[o] = s10;
        out[o + 1] = s11;
        out[o + 2] = s12;
        o += m;
        out[o] = s20;
        out[o + 1] = s21;
        out[o + 2] = s22;
        o += m;
        out[o] = s30;
        out[o + 1] = s31;
        out[o + 2] = s32;
    }
    private static void euclid4x3F(double[] x, int i, float[] y, int j, int m, int d, double[] out, double[] lanes) {
        final int x0 = i * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        final int y0 = j * d, y1 = y0 + d, y2 = y1 + d;
        DoubleVector a00 = DoubleVector.zero(S), a01 = DoubleVector.zero(S), a02 = DoubleVector.zero(S);
        DoubleVector a10 = DoubleVector.zero(S), a11 = DoubleVector.zero(S), a12 = DoubleVector.zero(S);
        DoubleVector a20 = DoubleVector.zero(S), a21 = DoubleVector.zero(S), a22 = DoubleVector.zero(S);
        DoubleVector a30 = DoubleVector.zero(S), a31 = DoubleVector.zero(S), a32 = DoubleVector.zero(S);
        final int bound = S.loopBound(d);
        final int step = S.length();
        for (int k = 0; k < bound; k += step) {
            DoubleVector b0 = loadF(y, y0 + k);
            DoubleVector b1 = loadF(y, y1 + k);
            DoubleVector b2 = loadF(y, y2 + k);
            DoubleVector v = DoubleVector.fromArray(S, x, x0 + k);
            DoubleVector t = v.sub(b0);
            a00 = t.fma(t, a00);
            t = v.sub(b1);
            a01 = t.fma(t, a01);
            t = v.sub(b2);
            a02 = t.fma(t, a02);
            v = DoubleVector.fromArray(S, x, x1 + k);
            t = v.sub(b0);
            a10 = t.fma(t, a10);
            t = v.sub(b1);
            a11 = t.fma(t, a11);
            t = v.sub(b2);
            a12 = t.fma(t, a12);
            v = DoubleVector.fromArray(S, x, x2 + k);
            t = v.sub(b0);
            a20 = t.fma(t, a20);
            t = v.sub(b1);
            a21 = t.fma(t, a21);
            t = v.sub(b2);
            a22 = t.fma(t, a22);
            v = DoubleVector.fromArray(S, x, x3 + k);
            t = v.sub(b0);
            a30 = t.fma(t, a30);
            t = v.sub(b1);
            a31 = t.fma(t, a31);
            t = v.sub(b2);
            a32 = t.fma(t, a32);
        }
        final int L = S.length();
        a00.intoArray(lanes, 0); a01.intoArray(lanes, L); a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L); a11.intoArray(lanes, 4 * L); a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L); a21.intoArray(lanes, 7 * L); a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L); a31.intoArray(lanes, 10 * L); a32.intoArray(lanes, 11 * L);
        double s00 = lsum(lanes, 0, L), s01 = lsum(lanes, L, L), s02 = lsum(lanes, 2 * L, L);
        double s10 = lsum(lanes, 3 * L, L), s11 = lsum(lanes, 4 * L, L), s12 = lsum(lanes, 5 * L, L);
        double s20 = lsum(lanes, 6 * L, L), s21 = lsum(lanes, 7 * L, L), s22 = lsum(lanes, 8 * L, L);
        double s30 = lsum(lanes, 9 * L, L), s31 = lsum(lanes, 10 * L, L), s32 = lsum(lanes, 11 * L, L);
        for (int k = bound; k < d; k++) {
            double b0 = y[y0 + k], b1 = y[y1 + k], b2 = y[y2 + k];
            double v = x[x0 + k];
            double t;
            t = v - b0; s00 += t * t;
            t = v - b1; s01 += t * t;
            t = v - b2; s02 += t * t;
            v = x[x1 + k];
            t = v - b0; s10 += t * t;
            t = v - b1; s11 += t * t;
            t = v - b2; s12 += t * t;
            v = x[x2 + k];
            t = v - b0; s20 += t * t;
            t = v - b1; s21 += t * t;
            t = v - b2; s22 += t * t;
            v = x[x3 + k];
            t = v - b0; s30 += t * t;
            t = v - b1; s31 += t * t;
            t = v - b2; s32 += t * t;
        }
        int o = i * m + j;
        out[o] = Math.sqrt(s00);
        out[o + 1] = Math.sqrt(s01);
        out[o + 2] = Math.sqrt(s02);
        o += m;
        out[o] = Math.sqrt(s10);
        out[o + 1] = Math.sqrt(s11);
        out[o + 2] = Math.sqrt(s12);
        o += m;
        out[o] = Math.sqrt(s20);
        out[o + 1] = Math.sqrt(s21);
        out[o + 2] = Math.sqrt(s22);
        o += m;
        out[o] = Math.sqrt(s30);
        out[o + 1] = Math.sqrt(s31);
        out[o + 2] = Math.sqrt(s32);
    }
    private static double sqDistF(double[] x, int xo, float[] y, int yo, int d, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            DoubleVector t = DoubleVector.fromArray(S, x, xo + k).sub(loadF(y, yo + k));
            acc = t.fma(t, acc);
        }
        double s = sum(acc, lanes);
        for (int k = bound; k < d; k++) {
            double t = x[xo + k] - y[yo + k];
            s += t * t;
        }
        return s;
    }
    private static double dotPairF(double[] x, int xo, float[] y, int yo, int d, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(S);
        int bound = S.loopBound(d);
        for (int k = 0; k < bound; k += S.length()) {
            acc = DoubleVector.fromArray(S, x, xo + k).fma(loadF(y, yo + k), acc);
        }
        double s = sum(acc, lanes);
        for (int k = bound; k < d; k++) {
            s += x[xo + k] * y[yo + k];
        }
        return s;
    }

    /** Float species of the preferred width and a byte species of as many lanes (bytes widen exactly to floats). */
    private static final VectorSpecies<Float> FQ = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BQ = VectorSpecies.of(byte.class, VectorShape.forBitSize(FQ.length() * 8));

    @Override
    public boolean dequantizeInt8(byte[] src, int off, int d, float scale, float[] out, int outOff) {
        int bound = FQ.loopBound(d);
        boolean bad = false;
        FloatVector s = FloatVector.broadcast(FQ, scale);
        for (int k = 0; k < bound; k += FQ.length()) {
            ByteVector q = ByteVector.fromArray(BQ, src, off + k);
            bad |= q.eq(Byte.MIN_VALUE).anyTrue();
            ((FloatVector) q.convertShape(VectorOperators.B2F, FQ, 0)).mul(s).intoArray(out, outOff + k);
        }
        for (int k = bound; k < d; k++) {
            byte q = src[off + k];
            bad |= q == Byte.MIN_VALUE;
            out[outOff + k] = q * scale;
        }
        return !bad;
    }
}
