package dev.mover.scoring;

import java.util.Random;

/** Seeded random token matrices of several kinds for property tests. */
final class RandomInstances {
    private RandomInstances() {}

    /** Gaussian vectors. */
    static double[] normal(Random r, int rows, int d) {
        double[] out = new double[rows * d];
        for (int k = 0; k < out.length; k++) {
            out[k] = r.nextGaussian();
        }
        return out;
    }

    /** Gaussian float rows whose first component is shifted by 1.5 (so that cosines are not centred on 0). */
    static TokenMatrix shiftedFloats(Random r, int rows, int dims) {
        float[] f = new float[rows * dims];
        for (int k = 0; k < f.length; k++) {
            f[k] = (float) (r.nextGaussian() + (k % dims == 0 ? 1.5 : 0));
        }
        return TokenMatrix.of(f, rows, dims);
    }

    /** A shuffled noisy copy of x around its values, like aligned paraphrase tokens. */
    static double[] paraphrase(Random r, double[] x, int n, int m, int d, double noise) {
        double[] out = new double[m * d];
        for (int j = 0; j < m; j++) {
            int src = r.nextInt(n);
            for (int k = 0; k < d; k++) {
                out[j * d + k] = x[src * d + k] + noise * r.nextGaussian();
            }
        }
        return out;
    }

    /** Small integer components: many equal costs, a degenerate stress test for the simplex. */
    static double[] integers(Random r, int rows, int d, int range) {
        double[] out = new double[rows * d];
        for (int k = 0; k < out.length; k++) {
            out[k] = r.nextInt(2 * range + 1) - range;
        }
        return out;
    }

    static double[] kind(Random r, int kind, int rows, int d) {
        return kind == 2 ? integers(r, rows, d, 2) : normal(r, rows, d);
    }
}
