package dev.mover.scoring;

/** Lower bounds of the transport value computable from a cost matrix (see also {@link OtResult#wcd()}). */
public final class LowerBounds {
    private LowerBounds() {}

    /**
     * Relaxed WMD (Kusner et al. 2015): {@code max(sum_i a_i min_j C_ij, sum_j b_j min_i C_ij)}. Each half relaxes
     * one marginal constraint, so both are at most the exact value.
     *
     * @param colMinScratch at least m doubles, overwritten
     */
    public static double rwmd(double[] a, int n, double[] b, int m, double[] c, double[] colMinScratch) {
        java.util.Arrays.fill(colMinScratch, 0, m, Double.POSITIVE_INFINITY);
        double rq = 0;
        for (int i = 0; i < n; i++) {
            double rowMin = Double.POSITIVE_INFINITY;
            for (int j = 0, o = i * m; j < m; j++) {
                double v = c[o + j];
                rowMin = v < rowMin ? v : rowMin;
                colMinScratch[j] = v < colMinScratch[j] ? v : colMinScratch[j];
            }
            rq += a[i] * rowMin;
        }
        double rd = 0;
        for (int j = 0; j < m; j++) {
            rd += b[j] * colMinScratch[j];
        }
        return Math.max(rq, rd);
    }
}
