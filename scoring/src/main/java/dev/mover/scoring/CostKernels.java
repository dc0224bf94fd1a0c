package dev.mover.scoring;

/**
 * Dense pairwise kernels behind the cost matrix. Both inputs are row-major double matrices (n x d and m x d); the
 * output is row-major n x m. Implementations must compute in double precision and must not allocate per call.
 */
interface CostKernels {
    /** {@code out[i*m+j] = sqrt(sum_k (x_ik - y_jk)^2)}, computed from differences (no cancellation). */
    void euclidean(double[] x, int n, double[] y, int m, int d, double[] out);

    /** {@code out[i*m+j] = sum_k x_ik y_jk}. */
    void dot(double[] x, int n, double[] y, int m, int d, double[] out);

    /** {@link #euclidean(double[], int, double[], int, int, double[])} with float rows y, widened exactly to double. */
    void euclidean(double[] x, int n, float[] y, int m, int d, double[] out);

    /** {@link #dot(double[], int, double[], int, int, double[])} with float rows y, widened exactly to double. */
    void dot(double[] x, int n, float[] y, int m, int d, double[] out);

    /**
     * {@code sum_k v[off+k]^2} in double over one float row of {@code d} components; when {@code addTo} is not null it
     * also adds the row to {@code addTo[0, d)} (centroid sums). Summation order is the implementation's own.
     */
    double sumSquares(float[] v, int off, int d, double[] addTo);

    /** {@link #sumSquares(float[], int, int, double[])} over a double row, in the same order (same bits for equal values). */
    double sumSquares(double[] v, int off, int d, double[] addTo);

    /**
     * {@code out[outOff + k] = src[off + k] * scale} (the float product, as scalar Java computes it) for {@code k < d};
     * returns false if any code is {@code -128} (not a valid int8 code; {@code out} is then unspecified).
     */
    boolean dequantizeInt8(byte[] src, int off, int d, float scale, float[] out, int outOff);

    /** Short name for reports ({@code scalar}, {@code panama-512}, ...). */
    String name();
}
