package dev.mover.scoring;

import java.util.Locale;

/**
 * Dense cost-matrix kernels in double precision (public facade; the implementation is the Panama Vector API one when
 * {@code jdk.incubator.vector} is available, otherwise scalar, see {@link #implementation()}). {@link OtScorer} uses the
 * same kernels.
 */
public final class CostMatrix {
    private static final CostKernels IMPL = CostKernelsProvider.get();

    private CostMatrix() {}

    /** {@code out[i*m+j] = ||x_i - y_j||_2} from differences; x is n x d, y is m x d, both row-major. */
    public static void euclidean(double[] x, int n, double[] y, int m, int d, double[] out) {
        check(x, n, y, m, d, out);
        IMPL.euclidean(x, n, y, m, d, out);
    }

    /** {@code out[i*m+j] = x_i . y_j}. */
    public static void dot(double[] x, int n, double[] y, int m, int d, double[] out) {
        check(x, n, y, m, d, out);
        IMPL.dot(x, n, y, m, d, out);
    }

    /**
     * Dequantises one int8 row for the token-vector codec: {@code out[outOff + k] = src[off + k] * scale} (float
     * product, the same bits as scalar Java) for {@code k < d}, vectorised like the cost kernels.
     *
     * @return false if a code is {@code -128}, which the codec never writes ({@code out} is then unspecified)
     */
    public static boolean dequantizeInt8(byte[] src, int off, int d, float scale, float[] out, int outOff) {
        if (d < 0 || off < 0 || outOff < 0 || off > src.length - d || outOff > out.length - d) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] int8 row [%d, %d) or output [%d, %d) outside the arrays [%d], [%d]", off, off + d, outOff, outOff + d,
                src.length, out.length));
        }
        return IMPL.dequantizeInt8(src, off, d, scale, out, outOff);
    }

    /** {@code scalar} or {@code panama-<bits>}. */
    public static String implementation() {
        return IMPL.name();
    }

    private static void check(double[] x, int n, double[] y, int m, int d, double[] out) {
        if (n < 0 || m < 0 || d < 1 || x.length < n * d || y.length < m * d || out.length < n * m) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] cost matrix shapes do not fit: x [%d] for n [%d] x d [%d], y [%d] for m [%d], out [%d]",
                x.length, n, d, y.length, m, out.length));
        }
    }
}
