package dev.mover.scoring;

import java.util.Locale;

/**
 * Entropic optimal transport (Cuturi 2013), log-stabilised Sinkhorn in double precision.
 *
 * <p>Computes {@code T_eps = argmin <T, C> - eps * H(T)} with {@code H(T) = -sum T log T} over plans with row sums
 * {@code a} and column sums {@code b}, and returns {@code value = <T_eps, C>} (the entropy term is not included, as
 * POT's {@code sinkhorn2}). The iterates are those of log-domain Sinkhorn from zero potentials (Peyré and Cuturi,
 * <i>Computational Optimal Transport</i>, 2019, remark 4.23):
 * <pre>
 *   g_j = eps log b_j - eps log sum_i exp((f_i - C_ij) / eps)      (column side)
 *   f_i = eps log a_i - eps log sum_j exp((g_j - C_ij) / eps)      (row side)
 * </pre>
 * with {@code T_ij = exp((f_i + g_j - C_ij) / eps)}. One sweep is a column update then a row update, so rows match
 * after every sweep; the iteration stops when the L1 column-marginal violation {@code sum_j |sum_i T_ij - b_j|} drops
 * below the tolerance, or at the sweep cap ({@link #converged()} then says false).
 *
 * <p>Stabilisation (Schmitzer, <i>Stabilized sparse scaling algorithms for entropy regularized transport problems</i>,
 * SIAM J. Sci. Comput. 2019): the potentials are split as {@code f + eps log u}, {@code g + eps log v}; the sweeps update
 * only the scalings {@code u, v} against the stabilised kernel {@code K_ij = exp((f_i + g_j - C_ij) / eps)} (two
 * matrix-vector products, no exponentials), and whenever a scaling leaves [1e-100, 1e100] or a sum underflows, the
 * valid scalings are absorbed into {@code f, g}, the interrupted half-sweep is redone exactly with log-sum-exp and
 * {@code K} is recomputed, so the iterates stay those of plain log-domain Sinkhorn (up to rounding). After
 * absorption {@code K} holds plan entries (at most 1), so nothing overflows for small eps. The first sweep is always a
 * log-sum-exp sweep, which also protects {@code exp(-C / eps)} from underflow. If a log-sum-exp sweep ever produced a
 * non-finite potential (it cannot for finite inputs), the iteration stops and the result is reported unconverged.
 *
 * <p>An instance owns its buffers (including the n x m kernel) and is not thread-safe.
 */
public final class Sinkhorn {
    private static final double DEFAULT_SCALE_LIMIT = 1e100;

    /** Scalings must stay within [1 / scaleLimit, scaleLimit]; tests lower it to force absorptions. */
    private final double scaleLimit;

    private double[] f = new double[0];
    private double[] g = new double[0];
    private double[] u = new double[0];
    private double[] v = new double[0];
    private double[] colSum = new double[0];
    private double[] logA = new double[0];
    private double[] logB = new double[0];
    private double[] kernel = new double[0];

    private int n;
    private int m;
    private double epsAbs;
    private int iterations;
    private int absorptions;
    private double violation;
    private boolean converged;
    private double value;

    /** Creates a solver with an empty workspace. */
    public Sinkhorn() {
        this(DEFAULT_SCALE_LIMIT);
    }

    Sinkhorn(double scaleLimit) {
        this.scaleLimit = scaleLimit;
    }

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
        this.n = n;
        this.m = m;
        this.epsAbs = epsAbs;
        f = ArraysUtil.grow(f, n);
        u = ArraysUtil.grow(u, n);
        logA = ArraysUtil.grow(logA, n);
        g = ArraysUtil.grow(g, m);
        v = ArraysUtil.grow(v, m);
        colSum = ArraysUtil.grow(colSum, m);
        logB = ArraysUtil.grow(logB, m);
        kernel = ArraysUtil.grow(kernel, n * m);
        for (int i = 0; i < n; i++) {
            if (!(a[i] > 0) || !Double.isFinite(a[i])) {
                throw new IllegalArgumentException("[mover] sinkhorn row mass [" + i + "] must be positive but was [" + a[i] + "]");
            }
            f[i] = 0;
            logA[i] = Math.log(a[i]);
        }
        for (int j = 0; j < m; j++) {
            if (!(b[j] > 0) || !Double.isFinite(b[j])) {
                throw new IllegalArgumentException("[mover] sinkhorn column mass [" + j + "] must be positive but was [" + b[j] + "]");
            }
            g[j] = 0;
            logB[j] = Math.log(b[j]);
        }
        final double invEps = 1.0 / epsAbs;
        final double[] k = kernel;
        iterations = 0;
        absorptions = 0;
        converged = false;
        violation = Double.POSITIVE_INFINITY;
        boolean failed = false;
        // first sweep in the log domain (exp(-C/eps) may underflow), then the stabilised kernel
        if (!logSweep(c, invEps)) {
            failed = true;
        }
        iterations = 1;
        if (!failed) {
            absorb(c, invEps);
        }
        while (!failed) {
            // column pass: s_j = sum_i K_ij u_i; the plan's column sums are v_j s_j
            java.util.Arrays.fill(colSum, 0, m, 0.0);
            for (int i = 0; i < n; i++) {
                double ui = u[i];
                int o = i * m;
                for (int j = 0; j < m; j++) {
                    colSum[j] += k[o + j] * ui;
                }
            }
            double viol = 0;
            for (int j = 0; j < m; j++) {
                viol += Math.abs(v[j] * colSum[j] - b[j]);
            }
            violation = viol;
            if (viol < tolerance) {
                converged = true;
                break;
            }
            if (iterations >= maxIterations) {
                break;
            }
            boolean columnRepair = !(viol < Double.POSITIVE_INFINITY);
            for (int j = 0; j < m && !columnRepair; j++) {
                double nv = b[j] / colSum[j];
                if (nv > 1.0 / scaleLimit && nv < scaleLimit) {
                    v[j] = nv;
                } else {
                    columnRepair = true;
                }
            }
            boolean rowRepair = false;
            if (!columnRepair) {
                // row pass: u_i = a_i / sum_j K_ij v_j
                for (int i = 0; i < n && !rowRepair; i++) {
                    int o = i * m;
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int j = 0;
                    for (; j + 3 < m; j += 4) {
                        s0 += k[o + j] * v[j];
                        s1 += k[o + j + 1] * v[j + 1];
                        s2 += k[o + j + 2] * v[j + 2];
                        s3 += k[o + j + 3] * v[j + 3];
                    }
                    for (; j < m; j++) {
                        s0 += k[o + j] * v[j];
                    }
                    double nu = a[i] / ((s0 + s1) + (s2 + s3));
                    if (nu > 1.0 / scaleLimit && nu < scaleLimit) {
                        u[i] = nu;
                    } else {
                        rowRepair = true;
                    }
                }
            }
            if (columnRepair) {
                // u is the last row update: fold it into f and do this sweep exactly in the log domain
                for (int i = 0; i < n; i++) {
                    f[i] += epsAbs * Math.log(u[i]);
                }
                if (!logColumn(c, invEps) || !logRow(c, invEps)) {
                    failed = true;
                    break;
                }
                absorb(c, invEps);
            } else if (rowRepair) {
                // v is this sweep's column update (u only partly updated): fold v into g, redo the row half exactly
                for (int j = 0; j < m; j++) {
                    g[j] += epsAbs * Math.log(v[j]);
                }
                if (!logRow(c, invEps)) {
                    failed = true;
                    break;
                }
                absorb(c, invEps);
            }
            iterations++;
        }
        if (failed) {
            absorb(c, invEps);
            violation = columnViolation(b);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double ui = u[i];
            int o = i * m;
            for (int j = 0; j < m; j++) {
                sum += ui * k[o + j] * v[j] * c[o + j];
            }
        }
        value = sum;
        return value;
    }

    /** One exact log-sum-exp sweep on f, g (column then row); false if a potential became non-finite. */
    private boolean logSweep(double[] c, double invEps) {
        return logColumn(c, invEps) && logRow(c, invEps);
    }

    /** Exact column update {@code g_j = eps (log b_j - LSE_i((f_i - C_ij) / eps))}. */
    private boolean logColumn(double[] c, double invEps) {
        for (int j = 0; j < m; j++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                double t = (f[i] - c[i * m + j]) * invEps;
                max = t > max ? t : max;
            }
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += Math.exp((f[i] - c[i * m + j]) * invEps - max);
            }
            double ng = epsAbs * (logB[j] - max - Math.log(s));
            if (!Double.isFinite(ng)) {
                return false;
            }
            g[j] = ng;
        }
        return true;
    }

    /** Exact row update {@code f_i = eps (log a_i - LSE_j((g_j - C_ij) / eps))}. */
    private boolean logRow(double[] c, double invEps) {
        for (int i = 0; i < n; i++) {
            int o = i * m;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < m; j++) {
                double t = (g[j] - c[o + j]) * invEps;
                max = t > max ? t : max;
            }
            double s = 0;
            for (int j = 0; j < m; j++) {
                s += Math.exp((g[j] - c[o + j]) * invEps - max);
            }
            double nf = epsAbs * (logA[i] - max - Math.log(s));
            if (!Double.isFinite(nf)) {
                return false;
            }
            f[i] = nf;
        }
        return true;
    }

    /** Recomputes the stabilised kernel from f, g and resets the scalings to 1. */
    private void absorb(double[] c, double invEps) {
        absorptions++;
        for (int i = 0; i < n; i++) {
            u[i] = 1;
            double fi = f[i];
            int o = i * m;
            for (int j = 0; j < m; j++) {
                kernel[o + j] = Math.exp((fi + g[j] - c[o + j]) * invEps);
            }
        }
        for (int j = 0; j < m; j++) {
            v[j] = 1;
        }
    }

    private double columnViolation(double[] b) {
        double viol = 0;
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += u[i] * kernel[i * m + j] * v[j];
            }
            viol += Math.abs(s - b[j]);
        }
        return viol;
    }

    /** Sweeps (column update then row update) done by the last solve. */
    public int iterations() {
        return iterations;
    }

    /** Kernel recomputations (absorptions of the scalings into the potentials) in the last solve. */
    public int absorptions() {
        return absorptions;
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

    /** Plan entry {@code T_ij} of the last solve. */
    public double plan(int i, int j) {
        return u[i] * kernel[i * m + j] * v[j];
    }

    /** Dual potential (log domain) of row {@code i}: {@code f_i + eps log u_i}. */
    public double potentialRow(int i) {
        return f[i] + epsAbs * Math.log(u[i]);
    }

    /** Dual potential (log domain) of column {@code j}: {@code g_j + eps log v_j}. */
    public double potentialColumn(int j) {
        return g[j] + epsAbs * Math.log(v[j]);
    }
}
