package dev.mover.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartialTransportTests {

    /**
     * By hand: both query tokens are nearest to document token 0 (cost 0) and at cost 1 from token 1, masses one half
     * each. Token 0 takes at most 0.5 / s, so PT_s = max(0, 1 - 0.5 / s): 0.5 at s = 1 (EMD), 0.375 at 0.8, 1/6 at
     * 0.6, and 0 from s = 0.5 down (the RWMD(q -> d) limit).
     */
    @Test
    void handComputedTwoByTwo() {
        double[] a = {0.5, 0.5};
        double[] b = {0.5, 0.5};
        double[] c = {0, 1, 0, 1};
        PartialTransport pt = new PartialTransport();
        assertEquals(0.5, pt.distance(a, 2, b, 2, c, 1.0), 1e-15);
        assertEquals(0.375, pt.distance(a, 2, b, 2, c, 0.8), 1e-15);
        assertEquals(1.0 / 6, pt.distance(a, 2, b, 2, c, 0.6), 1e-15);
        assertEquals(0.0, pt.distance(a, 2, b, 2, c, 0.5), 1e-15);
        assertEquals(0.0, pt.distance(a, 2, b, 2, c, 0.1), 1e-15);
    }

    /**
     * By hand, unequal masses: query (0.2, 0.8), document (0.7, 0.3), costs [[0.1, 0.9], [0.4, 0.2]]. At s = 0.5 the
     * caps are (1.4, 0.6): token 1 of the query sends 0.6 to its nearest (0.2) and 0.2 to column 0 (0.4), token 0
     * sends 0.2 to column 0 (0.1): 0.12 + 0.08 + 0.02 = 0.22. Balanced: 0.2*0.1 + 0.5*0.4 + 0.3*0.2 = 0.28.
     */
    @Test
    void handComputedUnequalMasses() {
        double[] a = {0.2, 0.8};
        double[] b = {0.7, 0.3};
        double[] c = {0.1, 0.9, 0.4, 0.2};
        PartialTransport pt = new PartialTransport();
        assertEquals(0.28, pt.distance(a, 2, b, 2, c, 1.0), 1e-15);
        assertEquals(0.22, pt.distance(a, 2, b, 2, c, 0.5), 1e-15);
        // caps >= 1 from s = 0.3 down: every query token at its row minimum, 0.2*0.1 + 0.8*0.2 = RWMD(q -> d)
        assertEquals(0.18, pt.distance(a, 2, b, 2, c, 0.3), 1e-15);
    }

    /** Against a second, independent method: min-cost flow by successive shortest paths on the capped problem. */
    @Test
    void matchesSuccessiveShortestPathsOnRandomProblems() {
        Random r = new Random(42);
        PartialTransport pt = new PartialTransport();
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + r.nextInt(6);
            int m = 1 + r.nextInt(8);
            double[] a = simplex(r, n);
            double[] b = simplex(r, m);
            double[] c = new double[n * m];
            for (int k = 0; k < c.length; k++) {
                c[k] = r.nextDouble() * 2;
            }
            double s = trial % 3 == 0 ? 1.0 : 0.05 + 0.95 * r.nextDouble();
            double expected = minCostFlow(a, n, b, m, c, s);
            assertEquals(expected, pt.distance(a, n, b, m, c, s), 1e-12, "trial " + trial + " n " + n + " m " + m + " s " + s);
        }
    }

    /** RWMD(q -> d) <= PT_s <= EMD, non-decreasing in s, on problems built by the scorer from real-shaped vectors. */
    @Test
    void boundsAndMonotonicityOnScorerProblems() {
        Random r = new Random(7);
        OtScorer scorer = OtScorer.builder(Metric.WRD).build();
        PartialTransport pt = new PartialTransport();
        for (int trial = 0; trial < 50; trial++) {
            TokenMatrix q = RandomInstances.shiftedFloats(r, 1 + r.nextInt(12), 16);
            TokenMatrix d = RandomInstances.shiftedFloats(r, 1 + r.nextInt(60), 16);
            OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(q, null), d, null);
            double rwmd = p.rwmdQueryToDoc();
            double emd = new NetworkSimplex().solve(p.queryMasses(), p.n(), p.docMasses(), p.m(), p.cost());
            double prev = -1;
            for (double s : new double[] {1e-6, 0.1, 0.25, 0.5, 0.75, 1.0}) {
                double v = pt.distance(p, s);
                assertTrue(v >= rwmd - 1e-9 && v <= emd + 1e-12, "s " + s + ": " + rwmd + " <= " + v + " <= " + emd);
                assertTrue(v >= prev - 1e-9, "non-decreasing at s " + s); // value / s amplifies rounding at s = 1e-6
                prev = v;
            }
            assertEquals(emd, pt.distance(p, 1.0), 1e-12);
            assertEquals(rwmd, pt.distance(p, 1e-6), 1e-9);
        }
    }

    /** OtScorer.solvePartial: the same distance, and its alignments are the plan's largest query flows, per unit mass. */
    @Test
    void scorerSolvePartialMatchesAndAlignsQueryFlows() {
        Random r = new Random(11);
        OtScorer scorer = OtScorer.builder(Metric.WRD).build();
        for (int trial = 0; trial < 20; trial++) {
            TokenMatrix q = RandomInstances.shiftedFloats(r, 2 + r.nextInt(6), 8);
            TokenMatrix d = RandomInstances.shiftedFloats(r, 10 + r.nextInt(30), 8);
            OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(q, null), d, null);
            double s = PartialTransport.autoFraction(p.n(), p.m());
            double expected = new PartialTransport().distance(p, s);
            OtResult res = scorer.solvePartial(p, s, 1000);
            assertEquals(expected, res.distance(), 1e-12);
            assertEquals(1 - expected, res.similarity(), 1e-12);
            double total = 0;
            double last = Double.POSITIVE_INFINITY;
            for (Alignment a : res.alignments()) {
                assertTrue(a.queryToken() < q.rows() && a.docToken() < d.rows(), a.toString());
                assertTrue(a.flow() <= last + 1e-15, "not strongest first");
                last = a.flow();
                total += a.flow();
            }
            assertEquals(1.0, total, 1e-9, "query flows per unit mass must sum to 1");
        }
    }

    /**
     * WCD bounds full transport but not partial transport: a query token found verbatim in a document of two tokens
     * (the other far away) is matched at cost 0 with s = 1/2, while the centroids stay apart. So the rescorer may not
     * prune partial transport by WCD.
     */
    @Test
    void centroidDistanceDoesNotBoundPartialTransport() {
        OtScorer scorer = OtScorer.builder(Metric.WMD).build();
        TokenMatrix q = TokenMatrix.of(new float[] {1, 0}, 1, 2);
        TokenMatrix d = TokenMatrix.of(new float[] {1, 0, 1, 10}, 2, 2);
        OtScorer.Prepared pq = scorer.prepareQuery(q, null);
        double wcd = scorer.wcd(pq, d, null);
        assertEquals(5.0, wcd, 1e-12);
        OtScorer.Problem p = scorer.buildProblem(pq, d, null);
        assertEquals(0.0, scorer.solvePartial(p, 0.5, 0).distance(), 1e-12);
        assertEquals(5.0, scorer.solve(scorer.buildProblem(pq, d, null), 0).distance(), 1e-12);   // EMD >= WCD
    }

    @Test
    void autoFractionAndValidation() {
        assertEquals(20.0 / 127, PartialTransport.autoFraction(20, 127), 0);
        assertEquals(1.0, PartialTransport.autoFraction(30, 12), 0);
        assertThrows(IllegalArgumentException.class, () -> PartialTransport.autoFraction(0, 3));
        PartialTransport pt = new PartialTransport();
        double[] one = {1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pt.distance(one, 1, one, 1, one, 0));
        assertTrue(e.getMessage().contains("[0.0]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pt.distance(one, 1, one, 1, one, 1.5));
        assertThrows(IllegalArgumentException.class, () -> pt.distance(one, 1, one, 1, one, Double.NaN));
    }

    private static double[] simplex(Random r, int n) {
        double[] v = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            v[i] = 0.05 + r.nextDouble();
            s += v[i];
        }
        for (int i = 0; i < n; i++) {
            v[i] /= s;
        }
        return v;
    }

    /**
     * Min-cost flow source -> query i (cap a_i) -> document j (uncapped arc, cost C_ij) -> sink (cap b_j / s), pushing
     * total flow 1 along Bellman-Ford shortest augmenting paths in the residual graph.
     */
    private static double minCostFlow(double[] a, int n, double[] b, int m, double[] c, double s) {
        int nodes = n + m + 2;
        int src = n + m;
        int snk = n + m + 1;
        double[][] cap = new double[nodes][nodes];
        double[][] cost = new double[nodes][nodes];
        for (int i = 0; i < n; i++) {
            cap[src][i] = a[i];
            for (int j = 0; j < m; j++) {
                cap[i][n + j] = Double.POSITIVE_INFINITY;
                cost[i][n + j] = c[i * m + j];
                cost[n + j][i] = -c[i * m + j];
            }
        }
        for (int j = 0; j < m; j++) {
            cap[n + j][snk] = b[j] / s;
        }
        double flow = 0;
        double total = 0;
        while (flow < 1 - 1e-13) {
            double[] dist = new double[nodes];
            int[] prev = new int[nodes];
            Arrays.fill(dist, Double.POSITIVE_INFINITY);
            Arrays.fill(prev, -1);
            dist[src] = 0;
            for (int it = 0; it < nodes; it++) {
                boolean changed = false;
                for (int u = 0; u < nodes; u++) {
                    if (dist[u] == Double.POSITIVE_INFINITY) {
                        continue;
                    }
                    for (int v = 0; v < nodes; v++) {
                        if (cap[u][v] > 1e-15 && dist[u] + cost[u][v] < dist[v] - 1e-15) {
                            dist[v] = dist[u] + cost[u][v];
                            prev[v] = u;
                            changed = true;
                        }
                    }
                }
                if (!changed) {
                    break;
                }
            }
            double push = 1 - flow;
            for (int v = snk; v != src; v = prev[v]) {
                push = Math.min(push, cap[prev[v]][v]);
            }
            for (int v = snk; v != src; v = prev[v]) {
                int u = prev[v];
                cap[u][v] -= push;
                cap[v][u] += push;
            }
            flow += push;
            total += push * dist[snk];
        }
        return total;
    }
}
