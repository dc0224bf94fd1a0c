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

    /** Short name for reports ({@code scalar}, {@code panama-512}, ...). */
    String name();
}
