package dev.mover.scoring;

import java.util.Locale;

/**
 * Exact partial transport from a query onto a document (issue 9's asymmetric matching): every unit of query mass must
 * move, but only a fraction {@code s} of the document's mass has to receive it. Formally, for query masses {@code a}
 * (summing to 1), document masses {@code b} (summing to 1) and costs {@code C},
 *
 * <pre>
 *   PT_s = min sum_ij T_ij C_ij   subject to   sum_j T_ij = a_i,   sum_i T_ij &lt;= b_j / s,   T &gt;= 0
 * </pre>
 *
 * <p>{@code s = 1} is the balanced problem (EMD: WRD or WMD); as {@code s} goes to 0 the document caps vanish and
 * {@code PT_s} falls to the one-sided relaxed bound {@code RWMD(q -> d) = sum_i a_i min_j C_ij}, which with cosine
 * costs and uniform masses is {@code 1 - maxSim}. In between, a document token can absorb at most {@code 1/s} times its
 * own mass, so a long document is no longer forced to spread its mass over a short query (balanced OT's failure mode
 * for search), and a query is no longer allowed to collapse onto one document token (maxSim's).
 *
 * <p>Solved exactly with {@link NetworkSimplex} on a balanced problem with one extra source: rows {@code s * a_i}
 * plus a dummy row of mass {@code 1 - s} whose costs are 0, columns {@code b_j}; then {@code PT_s = value / s}. The
 * value is non-decreasing in {@code s} and bounded by {@code RWMD(q -> d) <= PT_s <= EMD}, so RWMD(q -&gt; d) stays a
 * valid pruning bound (WCD and RWMD(d -&gt; q) do not).
 *
 * <p>Not thread-safe: one instance per thread, reusing its buffers.
 */
public final class PartialTransport {

    private final NetworkSimplex simplex = new NetworkSimplex();
    private double[] rows = new double[0];
    private double[] costs = new double[0];

    /**
     * The document mass fraction of the {@code auto} rule: {@code min(1, n / m)} for {@code n} query tokens and
     * {@code m} document tokens. With uniform masses a document token may then absorb at most one query token's mass;
     * two texts of equal length get the balanced problem.
     *
     * @throws IllegalArgumentException if {@code n} or {@code m} is below 1
     */
    public static double autoFraction(int n, int m) {
        if (n < 1 || m < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] partial transport needs at least one token per side but was [%d] and [%d]", n, m));
        }
        return Math.min(1.0, (double) n / m);
    }

    /** {@link #distance(double[], int, double[], int, double[], double)} of a problem built by {@link OtScorer}. */
    public double distance(OtScorer.Problem p, double fraction) {
        return distance(p.queryMasses(), p.n(), p.docMasses(), p.m(), p.cost(), fraction);
    }

    /**
     * The partial transport cost {@code PT_s}.
     *
     * @param a query masses (first {@code n}), positive, summing to 1
     * @param n number of query tokens
     * @param b document masses (first {@code m}), positive, summing to 1
     * @param m number of document tokens
     * @param c row-major n x m costs, not modified
     * @param fraction {@code s} in (0, 1]
     * @throws IllegalArgumentException if {@code fraction} is outside (0, 1] or the problem is invalid
     */
    public double distance(double[] a, int n, double[] b, int m, double[] c, double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("[mover] document mass fraction must be in (0, 1] but was [" + fraction + "]");
        }
        if (fraction == 1) {
            return simplex.solve(a, n, b, m, c);
        }
        int rowsN = n + 1;
        rows = ArraysUtil.grow(rows, rowsN);
        costs = ArraysUtil.grow(costs, rowsN * m);
        for (int i = 0; i < n; i++) {
            rows[i] = fraction * a[i];
        }
        rows[n] = 1 - fraction;
        System.arraycopy(c, 0, costs, 0, n * m);
        java.util.Arrays.fill(costs, n * m, rowsN * m, 0.0);
        double value = simplex.solve(rows, rowsN, b, m, costs);
        return value / fraction;
    }

    /** The solver of the last call: its plan rows {@code < n} are query tokens (flows scaled by the fraction). */
    public NetworkSimplex lastSolver() {
        return simplex;
    }
}
