package dev.mover.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ICT capacity bound ({@link OtScorer#capacityBound}) and its partial-transport half. */
class CapacityBoundTests {

    /**
     * By hand: costs 5, 1, 3, 1, 4 with capacities 0.1, 0.2, 0.3, 0.25, 0.15 and need 0.6: the two cost-1 entries give
     * 0.45 (cost 0.45), then 0.15 from the cost-3 entry (0.45): 0.9.
     */
    @Test
    void cheapestFillByHand() {
        double[] c = {5, 1, 3, 1, 4};
        double[] w = {0.1, 0.2, 0.3, 0.25, 0.15};
        assertEquals(0.9, OtScorer.cheapestFill(c.clone(), w.clone(), 5, 0.6), 1e-15);
        // need within the ties: 0.3 at cost 1
        assertEquals(0.3, OtScorer.cheapestFill(c.clone(), w.clone(), 5, 0.3), 1e-15);
        // everything: 0.5 + 0.2 + 0.9 + 0.25 + 0.6 = 2.45
        assertEquals(2.45, OtScorer.cheapestFill(c.clone(), w.clone(), 5, 1.0), 1e-15);
        // capacities short of the need (rounding): every capacity used, no more
        assertEquals(2.45, OtScorer.cheapestFill(c.clone(), w.clone(), 5, 1.2), 1e-15);
    }

    /** Against a sort-based greedy on random rows with many ties. */
    @Test
    void cheapestFillMatchesSortedGreedy() {
        Random r = new Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            int len = 1 + r.nextInt(150);
            double[] c = new double[len];
            double[] w = new double[len];
            double sum = 0;
            for (int k = 0; k < len; k++) {
                c[k] = trial % 2 == 0 ? r.nextInt(5) : r.nextDouble();
                w[k] = r.nextDouble() / len;
                sum += w[k];
            }
            double need = sum * r.nextDouble();
            Integer[] order = new Integer[len];
            for (int k = 0; k < len; k++) {
                order[k] = k;
            }
            Arrays.sort(order, Comparator.comparingDouble(k -> c[k]));
            double rem = need;
            double expected = 0;
            for (int k : order) {
                double f = Math.min(rem, w[k]);
                expected += f * c[k];
                rem -= f;
            }
            assertEquals(expected, OtScorer.cheapestFill(c.clone(), w.clone(), len, need), 1e-12, "trial " + trial);
        }
    }

    /**
     * By hand on a 2 x 3 problem: a = (0.5, 0.5), b = (0.2, 0.3, 0.5), costs [[0, 1, 2], [0, 3, 1]]. Rows: row 0 takes
     * 0.2 at 0, 0.3 at 1 = 0.3; row 1 takes 0.2 at 0, 0.3 at 1 = 0.3; sum 0.6. Columns: each column fits into its
     * cheapest row (caps 0.5): 0 + 0.3 * 1 + 0.5 * 1 = 0.8. ICT = 0.8 (RWMD = max(0, 0.8) = 0.8 too);
     * EMD: row 0 -> (0.2 @ 0, 0.3 @ 1), row 1 -> 0.5 @ 1 = 0.8.
     */
    @Test
    void capacityBoundByHand() {
        OtScorer.Problem p = problem(new double[] {0.5, 0.5}, new double[] {0.2, 0.3, 0.5}, new double[] {0, 1, 2, 0, 3, 1});
        OtScorer scorer = OtScorer.builder(Metric.WMD).build();
        assertEquals(0.8, scorer.capacityBound(p), 1e-15);
        assertEquals(0.6, scorer.capacityBoundQueryToDoc(p, 1.0), 1e-15);
        // fraction 0.4: caps (0.5, 0.75, 1.25): both rows fit into column 0, 0
        assertEquals(0.0, scorer.capacityBoundQueryToDoc(p, 0.4), 1e-15);
        // fraction 0.8: caps (0.25, 0.375, 0.625): row 0 0.25 @ 0 + 0.25 @ 1, row 1 0.25 @ 0 + 0.25 @ 1 = 0.5
        assertEquals(0.5, scorer.capacityBoundQueryToDoc(p, 0.8), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> scorer.capacityBoundQueryToDoc(p, 0));
        assertThrows(IllegalArgumentException.class, () -> scorer.capacityBoundQueryToDoc(p, 1.5));
    }

    /**
     * RWMD <= ICT <= EMD and RWMD(q -> d) <= ICT(q -> d, s) <= PT_s on scorer-built problems of both metrics; the
     * query-side half strictly above RWMD(q -> d) on most problems shaped like a query against a passage (far fewer
     * query tokens, so a query token's mass does not fit into one document token).
     */
    @Test
    void betweenRwmdAndExactOnScorerProblems() {
        Random r = new Random(5);
        PartialTransport pt = new PartialTransport();
        NetworkSimplex emd = new NetworkSimplex();
        int tighter = 0;
        int trials = 0;
        for (Metric metric : Metric.values()) {
            OtScorer scorer = OtScorer.builder(metric).build();
            for (int trial = 0; trial < 60; trial++) {
                TokenMatrix q = RandomInstances.shiftedFloats(r, 1 + r.nextInt(12), 16);
                TokenMatrix d = RandomInstances.shiftedFloats(r, 1 + r.nextInt(60), 16);
                OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(q, null), d, null);
                double exact = emd.solve(p.queryMasses(), p.n(), p.docMasses(), p.m(), p.cost());
                double ict = scorer.capacityBound(p);
                double tol = 1e-12 * Math.max(1, p.costMax());
                assertTrue(ict >= p.rwmd() - tol && ict <= exact + tol, p.rwmd() + " <= " + ict + " <= " + exact);
                if (p.n() * 2 < p.m()) {
                    trials++;
                    tighter += scorer.capacityBoundQueryToDoc(p, 1.0) > p.rwmdQueryToDoc() + 1e-9 ? 1 : 0;
                }
                for (double s : new double[] {0.1, 0.5, PartialTransport.autoFraction(p.n(), p.m()), 1.0}) {
                    double half = scorer.capacityBoundQueryToDoc(p, s);
                    double value = pt.distance(p, s);
                    assertTrue(half >= p.rwmdQueryToDoc() - tol && half <= value + tol,
                        "s " + s + ": " + p.rwmdQueryToDoc() + " <= " + half + " <= " + value);
                }
            }
        }
        assertTrue(trials > 20 && tighter > trials / 2, "ICT(q -> d) above RWMD(q -> d) on only " + tighter + " of " + trials);
    }

    private static OtScorer.Problem problem(double[] a, double[] b, double[] c) {
        OtScorer.Problem p = new OtScorer.Problem();
        p.n = a.length;
        p.m = b.length;
        p.a = a;
        p.b = b;
        p.cost = c;
        return p;
    }
}
