package dev.mover.scoring;

import java.util.Locale;

/**
 * Entropic optimal transport (Cuturi 2013) by log-domain Sinkhorn iterations, in double precision.
 *
 * <p>Computes {@code T_eps = argmin <T, C> - eps * H(T)} with {@code H(T) = -sum T log T} over plans with row sums
 * {@code a} and column sums {@code b}, and returns {@code value = <T_eps, C>} (the entropy term is not included, as
 * POT's {@code sinkhorn2}). Potentials {@code f, g} are updated in the log domain (Peyré and Cuturi,
 * <i>Computational Optimal Transport</i>, 2019, remark 4.23):
 * <pre>
 *   g_j = eps log b_j - eps log sum_i exp((f_i - C_ij) / eps)      (column side)
 *   f_i = eps log a_i - eps log sum_j exp((g_j - C_ij) / eps)      (row side)
 * </pre>
 * starting from zero potentials, with {@code T_ij = exp((f_i + g_j - C_ij) / eps)}. One sweep is a column update then
 * a row update, so the rows always match after a sweep; the iteration stops when the L1 column-marginal violation
 * {@code sum_j |sum_i T_ij - b_j|} is below the tolerance, or after the sweep cap. The violation is a by-product of the
 * next column update, so each sweep costs 2 n m exponentials. Log-sum-exp is shifted by the previous potential (the
 * terms are then plan entries, at most 1), with an exact max-shifted fallback if a sum underflows. If a potential
 * becomes NaN or infinite the previous potentials are restored and the result is reported unconverged.
 *
 * <p>An instance owns its buffers and is not thread-safe.
 */
public final class Sinkhorn {
    private double[] f = new double[0];
    private double[] g = new double[0];
    private double[] fPrev = new double[0];
    private double[] gPrev = new double[0];
    private double[] colSum = new double[0];
    private double[] logA = new double[0];
    private double[] logB = new double[0];

    private int iterations;
    private double violation;
    private boolean converged;
    private double value;

    /** Creates a solver with an empty workspace. */
    public Sinkhorn() {}

    /**
     * Runs Sinkhorn to the tolerance or the cap.
     *
     * @param a row masses (positive, finite, summing to the same total as {@code b})
     * @param b column masses
     * @param c row-major n x m costs, finite
     * @param epsAbs absolute regularisation, positive and finite
     * @param tolerance stop when the L1 column-marginal violation is below this (positive)
     * @param maxIterations sweep cap, at least 1
     * @return {@code <T, C>} of the final plan (rows exact, columns within {@link #violation()})
     */
    public double solve(double[] a, int n, double[] b, int m, double[] c, double epsAbs, double tolerance,
                        int maxIterations) {
        if (n < 1 || m < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] sinkhorn needs at least one source and one sink but was n [%d], m [%d]", n, m));
        }
        if (!(epsAbs > 0) || !Double.isFinite(epsAbs)) {
            throw new IllegalArgumentException("[mover] sinkhorn epsilon must be positive and finite but was [" + epsAbs + "]");
        }
        if (!(tolerance > 0)) {
            throw new IllegalArgumentException("[mover] sinkhorn tolerance must be positive but was [" + tolerance + "]");
        }
        if (maxIterations < 1) {
            throw new IllegalArgumentException("[mover] sinkhorn max iterations must be >= 1 but was [" + maxIterations + "]");
        }
        f = ArraysUtil.grow(f, n);
        fPrev = ArraysUtil.grow(fPrev, n);
        logA = ArraysUtil.grow(logA, n);
        g = ArraysUtil.grow(g, m);
        gPrev = ArraysUtil.grow(gPrev, m);
        colSum = ArraysUtil.grow(colSum, m);
        logB = ArraysUtil.grow(logB, m);
        for (int i = 0; i < n; i++) {
            if (!(a[i] > 0)) {
                throw new IllegalArgumentException("[mover] sinkhorn row mass [" + i + "] must be positive but was [" + a[i] + "]");
            }
            f[i] = 0;
            logA[i] = Math.log(a[i]);
        }
        for (int j = 0; j < m; j++) {
            if (!(b[j] > 0)) {
                throw new IllegalArgumentException("[mover] sinkhorn column mass [" + j + "] must be positive but was [" + b[j] + "]");
            }
            g[j] = 0;
            logB[j] = Math.log(b[j]);
        }
        final double invEps = 1.0 / epsAbs;
        iterations = 0;
        converged = false;
        violation = Double.POSITIVE_INFINITY;
        boolean failed = false;
        while (true) {
            System.arraycopy(f, 0, fPrev, 0, n);
            System.arraycopy(g, 0, gPrev, 0, m);
            // column sums of the current plan: colSum_j = sum_i exp((f_i + g_j - C_ij) / eps)
            java.util.Arrays.fill(colSum, 0, m, 0.0);
            for (int i = 0; i < n; i++) {
                double fi = f[i];
                int row = i * m;
                for (int j = 0; j < m; j++) {
                    colSum[j] += Math.exp((fi + g[j] - c[row + j]) * invEps);
                }
            }
            if (iterations > 0) {
                double v = 0;
                for (int j = 0; j < m; j++) {
                    v += Math.abs(colSum[j] - b[j]);
                }
                violation = v;
                if (v < tolerance) {
                    converged = true;
                    break;
                }
                if (iterations >= maxIterations) {
                    break;
                }
            }
            // column update: g_j += eps (log b_j - log colSum_j)
            for (int j = 0; j < m; j++) {
                double s = colSum[j];
                if (s > 0 && s < Double.POSITIVE_INFINITY) {
                    g[j] += epsAbs * (logB[j] - Math.log(s));
                } else {
                    g[j] = epsAbs * (logB[j] - logSumExpColumn(f, c, n, m, j, invEps));
                }
            }
            // row update: f_i = eps log a_i - eps LSE_j((g_j - C_ij) / eps), shifted by the current f_i
            boolean bad = false;
            for (int i = 0; i < n; i++) {
                double fi = f[i];
                int row = i * m;
                double s = 0;
                for (int j = 0; j < m; j++) {
                    s += Math.exp((fi + g[j] - c[row + j]) * invEps);
                }
                double nf;
                if (s > 0 && s < Double.POSITIVE_INFINITY) {
                    nf = fi + epsAbs * (logA[i] - Math.log(s));
                } else {
                    nf = epsAbs * (logA[i] - logSumExpRow(g, c, i, m, invEps));
                }
                if (!Double.isFinite(nf)) {
                    bad = true;
                }
                f[i] = nf;
            }
            iterations++;
            if (bad || !allFinite(g, m)) {
                System.arraycopy(fPrev, 0, f, 0, n);
                System.arraycopy(gPrev, 0, g, 0, m);
                failed = true;
                break;
            }
        }
        if (failed) {
            violation = columnViolation(b, c, n, m, invEps);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double fi = f[i];
            int row = i * m;
            for (int j = 0; j < m; j++) {
                double cij = c[row + j];
                sum += Math.exp((fi + g[j] - cij) * invEps) * cij;
            }
        }
        value = sum;
        return value;
    }

    private static boolean allFinite(double[] v, int len) {
        for (int k = 0; k < len; k++) {
            if (!Double.isFinite(v[k])) {
                return false;
            }
        }
        return true;
    }

    private double columnViolation(double[] b, double[] c, int n, int m, double invEps) {
        java.util.Arrays.fill(colSum, 0, m, 0.0);
        for (int i = 0; i < n; i++) {
            int row = i * m;
            for (int j = 0; j < m; j++) {
                colSum[j] += Math.exp((f[i] + g[j] - c[row + j]) * invEps);
            }
        }
        double v = 0;
        for (int j = 0; j < m; j++) {
            v += Math.abs(colSum[j] - b[j]);
        }
        return v;
    }

    private static double logSumExpColumn(double[] f, double[] c, int n, int m, int j, double invEps) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, (f[i] - c[i * m + j]) * invEps);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp((f[i] - c[i * m + j]) * invEps - max);
        }
        return max + Math.log(s);
    }

    private static double logSumExpRow(double[] g, double[] c, int i, int m, double invEps) {
        double max = Double.NEGATIVE_INFINITY;
        int row = i * m;
        for (int j = 0; j < m; j++) {
            max = Math.max(max, (g[j] - c[row + j]) * invEps);
        }
        double s = 0;
        for (int j = 0; j < m; j++) {
            s += Math.exp((g[j] - c[row + j]) * invEps - max);
        }
        return max + Math.log(s);
    }

    /** Sweeps (column update then row update) done by the last solve. */
    public int iterations() {
        return iterations;
    }

    /** L1 column-marginal violation of the returned plan (rows match up to rounding). */
    public double violation() {
        return violation;
    }

    /** Whether the last solve met the tolerance before the cap. */
    public boolean converged() {
        return converged;
    }

    /** Value of the last solve. */
    public double value() {
        return value;
    }

    /** Plan entry {@code T_ij} of the last solve, recomputed from the potentials. */
    public double plan(int i, int j, double[] c, int m, double epsAbs) {
        return Math.exp((f[i] + g[j] - c[i * m + j]) / epsAbs);
    }
}
