package dev.mover.scoring;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mathematical properties on seeded random instances; they hold whatever the exact numbers are. */
class PropertyTests {

    private static double[] y(Random r, int kind, double[] x, int n, int m, int d) {
        return kind == 1 ? RandomInstances.paraphrase(r, x, n, m, d, 0.3) : RandomInstances.kind(r, kind, m, d);
    }

    @Test
    void testBounds_whenRandomInstances_thenRwmdAndWcdBelowEmdBelowSinkhorn() {
        Random r = new Random(20240601);
        int checked = 0;
        for (int trial = 0; trial < 120; trial++) {
            Metric metric = trial % 2 == 0 ? Metric.WMD : Metric.WRD;
            int kind = trial % 3;
            int n = 1 + r.nextInt(24);
            int m = 1 + r.nextInt(24);
            int d = 1 + r.nextInt(20);
            double[] xs = RandomInstances.kind(r, kind, n, d);
            double[] ys = y(r, kind, xs, n, m, d);
            TokenMatrix x = TokenMatrix.ofDoubles(xs, n, d);
            TokenMatrix yy = TokenMatrix.ofDoubles(ys, m, d);
            OtScorer emd = OtScorer.builder(metric).build();
            OtResult e;
            try {
                e = emd.score(emd.prepareQuery(x, null), yy, null, 0);
            } catch (IllegalArgumentException zeroNorm) {
                continue; // integer instances can make a WRD side all zero; rejection is tested elsewhere
            }
            double tol = 1e-12 * Math.max(e.costMax(), 1e-300);
            assertTrue(e.rwmdQueryToDoc() <= e.distance() + tol, "rwmd q->d above emd, trial " + trial);
            assertTrue(e.rwmdDocToQuery() <= e.distance() + tol, "rwmd d->q above emd, trial " + trial);
            assertTrue(e.wcd() <= e.distance() + tol, "wcd " + e.wcd() + " above emd " + e.distance() + ", trial " + trial);
            OtScorer sk = OtScorer.builder(metric).solver(Solver.SINKHORN).sinkhornEpsilon(0.1, true)
                .sinkhornTolerance(1e-11).sinkhornMaxIterations(200_000).build();
            OtResult s = sk.score(sk.prepareQuery(x, null), yy, null, 0);
            assertTrue(s.converged(), "sinkhorn did not converge, trial " + trial);
            assertTrue(e.distance() <= s.distance() + 1e-9 * e.costMax(),
                "emd " + e.distance() + " above sinkhorn " + s.distance() + ", trial " + trial);
            checked++;
        }
        assertTrue(checked > 100, "too few instances checked: " + checked);
    }

    @Test
    void testPlan_whenSolved_thenMarginalsWithin1e12AndDualCertificateCloses() {
        Random r = new Random(7);
        NetworkSimplex ns = new NetworkSimplex();
        for (int trial = 0; trial < 150; trial++) {
            int n = 1 + r.nextInt(40);
            int m = 1 + r.nextInt(40);
            double[] a = masses(r, n);
            double[] b = masses(r, m);
            double[] c = new double[n * m];
            boolean ties = trial % 3 == 0;
            for (int k = 0; k < c.length; k++) {
                c[k] = ties ? r.nextInt(4) : r.nextDouble() * 10;
            }
            double value = ns.solve(a, n, b, m, c);
            double[] row = new double[n];
            double[] col = new double[m];
            double recomputed = 0;
            assertTrue(ns.planSize() <= n + m - 1, "basic plan has at most n + m - 1 flows");
            for (int k = 0; k < ns.planSize(); k++) {
                assertTrue(ns.planFlow(k) > 0);
                row[ns.planRow(k)] += ns.planFlow(k);
                col[ns.planCol(k)] += ns.planFlow(k);
                recomputed += ns.planFlow(k) * c[ns.planRow(k) * m + ns.planCol(k)];
            }
            for (int i = 0; i < n; i++) {
                assertEquals(a[i], row[i], 1e-12, "row marginal " + i + ", trial " + trial);
            }
            for (int j = 0; j < m; j++) {
                assertEquals(b[j], col[j], 1e-12, "column marginal " + j + ", trial " + trial);
            }
            assertEquals(recomputed, value, 1e-12);
            // dual feasibility and zero duality gap: an optimality certificate independent of the pivoting
            double dual = 0;
            for (int i = 0; i < n; i++) {
                dual += a[i] * ns.dualSource(i);
            }
            for (int j = 0; j < m; j++) {
                dual += b[j] * ns.dualSink(j);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    assertTrue(ns.dualSource(i) + ns.dualSink(j) <= c[i * m + j] + 1e-9,
                        "dual infeasible at " + i + "," + j + ", trial " + trial);
                }
            }
            assertEquals(value, dual, 1e-9, "duality gap, trial " + trial);
        }
    }

    private static double[] masses(Random r, int k) {
        double[] w = new double[k];
        double s = 0;
        for (int t = 0; t < k; t++) {
            w[t] = 0.05 + r.nextDouble();
            s += w[t];
        }
        for (int t = 0; t < k; t++) {
            w[t] /= s;
        }
        // make the two sides balance exactly as in the scorer: normalised in double
        return w;
    }

    @Test
    void testEmd_whenEqualSizesUniformMasses_thenEqualsHungarianAssignment() {
        Random r = new Random(99);
        for (int trial = 0; trial < 60; trial++) {
            Metric metric = trial % 2 == 0 ? Metric.WMD : Metric.WRD;
            int kind = trial % 3;
            int n = 1 + r.nextInt(40);
            int d = 1 + r.nextInt(16);
            double[] xs = RandomInstances.kind(r, kind, n, d);
            double[] ys = y(r, kind, xs, n, n, d);
            if (kind == 2) {
                // keep WRD defined: no zero vectors
                xs[0] = xs[0] == 0 ? 1 : xs[0];
                for (int t = 0; t < n; t++) {
                    xs[t * d] += 0.5;
                    ys[t * d] += 0.5;
                }
            }
            OtScorer scorer = OtScorer.builder(metric).massRule(MassRule.UNIFORM).build();
            OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(TokenMatrix.ofDoubles(xs, n, d), null),
                TokenMatrix.ofDoubles(ys, n, d), null);
            double[] c = java.util.Arrays.copyOf(p.cost(), n * n);
            double emd = scorer.solve(p, 0).distance();
            double assignment = Hungarian.minCost(c, n) / n;
            assertEquals(assignment, emd, 1e-12, "trial " + trial + " n=" + n);
        }
    }

    @Test
    void testEmd_whenArgumentsSwapped_thenSymmetric() {
        Random r = new Random(5);
        for (int trial = 0; trial < 40; trial++) {
            Metric metric = trial % 2 == 0 ? Metric.WMD : Metric.WRD;
            int n = 1 + r.nextInt(30);
            int m = 1 + r.nextInt(30);
            int d = 2 + r.nextInt(10);
            TokenMatrix x = TokenMatrix.ofDoubles(RandomInstances.normal(r, n, d), n, d);
            TokenMatrix y = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
            OtScorer s = OtScorer.builder(metric).build();
            OtResult xy = s.score(s.prepareQuery(x, null), y, null, 0);
            OtResult yx = s.score(s.prepareQuery(y, null), x, null, 0);
            assertEquals(xy.distance(), yx.distance(), 1e-12 * xy.costMax());
            assertEquals(xy.rwmdQueryToDoc(), yx.rwmdDocToQuery(), 1e-12 * xy.costMax());
            assertEquals(xy.wcd(), yx.wcd(), 1e-12 * xy.costMax());
        }
    }

    @Test
    void testEmd_whenOneDimensional_thenEqualsSortedClosedForm() {
        Random r = new Random(11);
        for (int trial = 0; trial < 30; trial++) {
            int n = 1 + r.nextInt(50);
            double[] xs = RandomInstances.normal(r, n, 1);
            double[] ys = RandomInstances.normal(r, n, 1);
            OtScorer s = OtScorer.builder(Metric.WMD).build();
            double emd = s.score(s.prepareQuery(TokenMatrix.ofDoubles(xs, n, 1), null), TokenMatrix.ofDoubles(ys, n, 1), null, 0).distance();
            double[] sx = xs.clone();
            double[] sy = ys.clone();
            java.util.Arrays.sort(sx);
            java.util.Arrays.sort(sy);
            double expected = 0;
            for (int t = 0; t < n; t++) {
                expected += Math.abs(sx[t] - sy[t]) / n;
            }
            assertEquals(expected, emd, 1e-12);
        }
    }

    @Test
    void testEmd_whenDocumentIsQueryPermuted_thenZero() {
        Random r = new Random(3);
        int n = 37;
        int d = 384;
        double[] xs = RandomInstances.normal(r, n, d);
        double[] ys = new double[n * d];
        for (int t = 0; t < n; t++) {
            System.arraycopy(xs, t * d, ys, ((t * 11) % n) * d, d);
        }
        for (Metric metric : Metric.values()) {
            OtScorer s = OtScorer.builder(metric).build();
            OtResult res = s.score(s.prepareQuery(TokenMatrix.ofDoubles(xs, n, d), null), TokenMatrix.ofDoubles(ys, n, d), null, 0);
            assertEquals(0.0, res.distance(), 1e-15 * res.costMax(), metric.toString());
        }
    }

    @Test
    void testSinkhorn_whenEpsilonShrinks_thenValueApproachesEmdFromAbove() {
        Random r = new Random(17);
        int n = 12;
        int m = 9;
        int d = 8;
        TokenMatrix x = TokenMatrix.ofDoubles(RandomInstances.normal(r, n, d), n, d);
        TokenMatrix y = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
        OtScorer e = OtScorer.builder(Metric.WMD).build();
        double emd = e.score(e.prepareQuery(x, null), y, null, 0).distance();
        double previousGap = Double.POSITIVE_INFINITY;
        for (double eps : new double[] {0.5, 0.2, 0.1, 0.05, 0.02, 0.01}) {
            OtScorer s = OtScorer.builder(Metric.WMD).solver(Solver.SINKHORN).sinkhornEpsilon(eps, true)
                .sinkhornTolerance(1e-12).sinkhornMaxIterations(1_000_000).build();
            OtResult res = s.score(s.prepareQuery(x, null), y, null, 0);
            assertTrue(res.converged());
            double gap = res.distance() - emd;
            assertTrue(gap >= -1e-12, "sinkhorn below emd at eps " + eps);
            assertTrue(gap <= previousGap + 1e-12, "gap did not shrink at eps " + eps);
            previousGap = gap;
        }
        assertTrue(previousGap < 0.02 * emd, "sinkhorn at eps 0.01 still far from emd: gap " + previousGap);
    }

    @Test
    void testSinkhorn_whenPotDocstringExample_thenPlanMatches() {
        // POT ot.sinkhorn docstring: a = b = [.5, .5], M = [[0, 1], [1, 0]], reg = 1
        Sinkhorn s = new Sinkhorn();
        double[] a = {0.5, 0.5};
        double[] c = {0, 1, 1, 0};
        s.solve(a, 2, a, 2, c, 1.0, 1e-14, 10_000);
        assertTrue(s.converged());
        assertEquals(0.36552929, s.plan(0, 0), 1e-8);
        assertEquals(0.13447071, s.plan(0, 1), 1e-8);
        assertEquals(0.13447071, s.plan(1, 0), 1e-8);
        assertEquals(0.36552929, s.plan(1, 1), 1e-8);
        assertEquals(2 * 0.13447071, s.value(), 1e-8);
    }

    @Test
    void testSinkhorn_whenCapHit_thenReportedUnconverged() {
        Random r = new Random(23);
        int n = 16;
        int d = 8;
        double[] xs = RandomInstances.normal(r, n, d);
        TokenMatrix x = TokenMatrix.ofDoubles(xs, n, d);
        OtScorer s = OtScorer.builder(Metric.WRD).solver(Solver.SINKHORN).sinkhornEpsilon(0.001, true)
            .sinkhornTolerance(1e-12).sinkhornMaxIterations(3).build();
        OtResult res = s.score(s.prepareQuery(x, null), TokenMatrix.ofDoubles(RandomInstances.paraphrase(r, xs, n, n, d, 0.01), n, d), null, 0);
        assertTrue(!res.converged());
        assertEquals(3, res.iterations());
        assertTrue(res.marginalViolation() >= 1e-12);
    }
}
