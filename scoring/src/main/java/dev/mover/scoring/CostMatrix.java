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
