package dev.mover.scoring;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stabilised solver against a plain log-domain reference written here, including many absorptions. */
class SinkhornTests {

    /** Textbook log-domain Sinkhorn: max-shifted log-sum-exp for every update, L1 column check after each sweep. */
    private static double[] reference(double[] a, int n, double[] b, int m, double[] c, double eps, double tol, int cap) {
        double[] f = new double[n];
        double[] g = new double[m];
        int sweeps = 0;
        while (true) {
            for (int j = 0; j < m; j++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    max = Math.max(max, (f[i] - c[i * m + j]) / eps);
                }
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += Math.exp((f[i] - c[i * m + j]) / eps - max);
                }
                g[j] = eps * (Math.log(b[j]) - max - Math.log(s));
            }
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < m; j++) {
                    max = Math.max(max, (g[j] - c[i * m + j]) / eps);
                }
                double s = 0;
                for (int j = 0; j < m; j++) {
                    s += Math.exp((g[j] - c[i * m + j]) / eps - max);
                }
                f[i] = eps * (Math.log(a[i]) - max - Math.log(s));
            }
            sweeps++;
            double viol = 0;
            double value = 0;
            for (int j = 0; j < m; j++) {
                double col = 0;
                for (int i = 0; i < n; i++) {
                    double t = Math.exp((f[i] + g[j] - c[i * m + j]) / eps);
                    col += t;
                    value += t * c[i * m + j];
                }
                viol += Math.abs(col - b[j]);
            }
            if (viol < tol || sweeps >= cap) {
                return new double[] {value, sweeps, viol};
            }
        }
    }

    @Test
    void testStabilised_whenSmallEpsilon_thenSameIteratesAsPlainLogDomain() {
        Random r = new Random(44);
        int absorbingRuns = 0;
        for (int trial = 0; trial < 48; trial++) {
            // half the trials with a tiny scaling range, so that absorptions (column and row repairs) happen constantly
            Sinkhorn sk = trial < 24 ? new Sinkhorn() : new Sinkhorn(1.5);
            int n = 2 + r.nextInt(20);
            int m = 2 + r.nextInt(20);
            int d = 4;
            double[] x = RandomInstances.normal(r, n, d);
            double[] y = trial % 2 == 0 ? RandomInstances.paraphrase(r, x, n, m, d, 0.05) : RandomInstances.normal(r, m, d);
            OtScorer s = OtScorer.builder(Metric.WMD).build();
            OtScorer.Problem p = s.buildProblem(s.prepareQuery(TokenMatrix.ofDoubles(x, n, d), null), TokenMatrix.ofDoubles(y, m, d), null);
            double[] a = p.queryMasses().clone();
            double[] b = p.docMasses().clone();
            double[] c = java.util.Arrays.copyOf(p.cost(), n * m);
            double eps = new double[] {0.2, 0.05, 0.01, 0.003}[trial % 4] * p.costMax();
            double[] ref = reference(a, n, b, m, c, eps, 1e-10, 20_000);
            double value = sk.solve(a, n, b, m, c, eps, 1e-10, 20_000);
            assertEquals(ref[1], sk.iterations(), 1.0, "sweeps, trial " + trial);
            assertEquals(ref[0], value, 1e-9 * p.costMax(), "value, trial " + trial);
            assertEquals(ref[1] < 20_000, sk.converged(), "converged flag, trial " + trial);
            if (sk.absorptions() > 10) {
                absorbingRuns++;
            }
            // rows of the returned plan match exactly up to rounding, columns within the reported violation
            double colViolation = 0;
            for (int j = 0; j < m; j++) {
                double col = 0;
                for (int i = 0; i < n; i++) {
                    col += sk.plan(i, j);
                }
                colViolation += Math.abs(col - b[j]);
            }
            for (int i = 0; i < n; i++) {
                double row = 0;
                for (int j = 0; j < m; j++) {
                    row += sk.plan(i, j);
                }
                assertEquals(a[i], row, 1e-12, "row marginal, trial " + trial);
            }
            assertEquals(sk.violation(), colViolation, 1e-12);
        }
        assertTrue(absorbingRuns >= 10, "the test should exercise absorptions, got " + absorbingRuns);
    }
}
