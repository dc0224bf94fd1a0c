package dev.mover.scoring;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour of the scorer facade: workspace reuse, alignments, zero-mass tokens, maxSim, float storage. */
class OtScorerTests {

    @Test
    void testScore_whenWorkspaceReusedAcrossSizes_thenSameAsFreshScorer() {
        Random r = new Random(31);
        int d = 24;
        for (Metric metric : Metric.values()) {
            OtScorer reused = OtScorer.builder(metric).build();
            TokenMatrix q = TokenMatrix.ofDoubles(RandomInstances.normal(r, 17, d), 17, d);
            OtScorer.Prepared pq = reused.prepareQuery(q, null);
            int[] sizes = {40, 3, 64, 1, 17, 90, 5};
            for (int m : sizes) {
                TokenMatrix doc = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
                OtResult a = reused.score(pq, doc, null, 4);
                OtScorer fresh = OtScorer.builder(metric).build();
                OtResult b = fresh.score(fresh.prepareQuery(q, null), doc, null, 4);
                assertEquals(b.distance(), a.distance(), 0.0, metric + " m=" + m);
                assertEquals(b.alignments(), a.alignments());
                assertEquals(b.rwmd(), a.rwmd(), 0.0);
                assertEquals(b.wcd(), a.wcd(), 0.0);
            }
        }
    }

    @Test
    void testAlignments_whenDocumentIsPermutedQuery_thenEachTokenMapsToItsCopy() {
        double[] q = {0, 0, 5, 0, 0, 7, 9, 9};
        int[] perm = {2, 0, 3, 1};
        double[] doc = new double[8];
        for (int t = 0; t < 4; t++) {
            doc[perm[t] * 2] = q[t * 2];
            doc[perm[t] * 2 + 1] = q[t * 2 + 1];
        }
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        OtResult res = s.score(s.prepareQuery(TokenMatrix.ofDoubles(q, 4, 2), null), TokenMatrix.ofDoubles(doc, 4, 2), null, 10);
        assertEquals(0.0, res.distance(), 0.0);
        assertEquals(4, res.alignments().size());
        for (Alignment a : res.alignments()) {
            assertEquals(perm[a.queryToken()], a.docToken());
            assertEquals(0.25, a.flow(), 1e-15);
            assertEquals(0.0, a.cost(), 0.0);
        }
    }

    @Test
    void testAlignments_whenFewerRequested_thenLargestFlowsInOrder() {
        // x: 3 tokens on a line, y: 2 tokens; masses uniform: unique optimal plan
        double[] x = {0, 1, 10};
        double[] y = {0.5, 10};
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        OtResult res = s.score(s.prepareQuery(TokenMatrix.ofDoubles(x, 3, 1), null), TokenMatrix.ofDoubles(y, 2, 1), null, 2);
        List<Alignment> al = res.alignments();
        assertEquals(2, al.size());
        assertTrue(al.get(0).flow() >= al.get(1).flow());
        // 1D closed form: quantile coupling x=0 (1/3) -> 0.5, x=1: 1/6 -> 0.5 and 1/6 -> 10, x=10 (1/3) -> 10
        assertEquals(1.0 / 3 * 0.5 + 1.0 / 6 * 0.5 + 1.0 / 6 * 9, res.distance(), 1e-15);
        assertEquals(1.0 / 3, al.get(0).flow(), 1e-15);
    }

    @Test
    void testWrd_whenZeroNormTokenInQuery_thenDroppedAndIndicesKept() {
        double[] x = {0, 0, 1, 0, 0, 3};   // token 0 has norm zero
        double[] y = {2, 0, 0, 1};
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(x, 3, 2), null);
        assertEquals(2, p.activeTokens());
        assertEquals(0.0, p.mass(0), 0.0);
        assertEquals(0.25, p.mass(1), 1e-16);
        OtResult res = s.score(p, TokenMatrix.ofDoubles(y, 2, 2), null, 5);
        // masses x: [0, 1/4, 3/4], y: [2/3, 1/3]; x1 -> y0 (cos 1), x2 -> y1 1/3, x2 -> y0 5/12 at cost 1
        assertEquals(5.0 / 12, res.distance(), 1e-15);
        for (Alignment a : res.alignments()) {
            assertTrue(a.queryToken() == 1 || a.queryToken() == 2, "zero-norm token must not be aligned");
        }
        assertEquals(1.0, res.costMax(), 0.0);
        assertEquals(1.0 - 5.0 / 12, res.similarity(), 1e-15);
    }

    @Test
    void testMaxSim_whenHandExample_thenMeanAndSumOfBestCosines() {
        double[] q = {1, 0, 0, 2, 0, 0};   // third token zero: ignored
        double[] doc = {1, 1, 0, -3};
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(q, 3, 2), null);
        TokenMatrix dm = TokenMatrix.ofDoubles(doc, 2, 2);
        double c = Math.sqrt(0.5);
        assertEquals(2 * c, s.maxSimSum(p, dm), 1e-15);
        assertEquals(c, s.maxSim(p, dm), 1e-15);
    }

    @Test
    void testFloatStorage_whenSameValues_thenSameAsDoubleStorage() {
        Random r = new Random(77);
        int n = 9, m = 12, d = 33;
        float[] xf = new float[n * d];
        float[] yf = new float[m * d];
        double[] xd = new double[n * d];
        double[] yd = new double[m * d];
        for (int k = 0; k < xf.length; k++) {
            xf[k] = (float) r.nextGaussian();
            xd[k] = xf[k];
        }
        for (int k = 0; k < yf.length; k++) {
            yf[k] = (float) r.nextGaussian();
            yd[k] = yf[k];
        }
        for (Metric metric : Metric.values()) {
            OtScorer s = OtScorer.builder(metric).build();
            OtResult a = s.score(s.prepareQuery(TokenMatrix.of(xf, n, d), null), TokenMatrix.of(yf, m, d), null, 0);
            OtResult b = s.score(s.prepareQuery(TokenMatrix.ofDoubles(xd, n, d), null), TokenMatrix.ofDoubles(yd, m, d), null, 0);
            assertEquals(b.distance(), a.distance(), 0.0);
        }
    }

    @Test
    void testLowerBound_whenComputed_thenMaxOfWcdAndRwmdAndBelowDistance() {
        Random r = new Random(4);
        int d = 16;
        OtScorer s = OtScorer.builder(Metric.WRD).build();
        OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(RandomInstances.normal(r, 10, d), 10, d), null);
        for (int t = 0; t < 20; t++) {
            TokenMatrix doc = TokenMatrix.ofDoubles(RandomInstances.normal(r, 8, d), 8, d);
            double lb = s.lowerBound(p, doc);
            OtResult res = s.score(p, doc, null, 0);
            assertEquals(Math.max(res.wcd(), res.rwmd()), lb, 0.0);
            assertEquals(res.wcd(), s.wcd(p, doc, null), 0.0);
            assertTrue(lb <= res.distance() + 1e-12);
        }
    }

    @Test
    void testPrepared_whenSharedByScorersOnSeveralThreads_thenSameResultsAsSequential() throws Exception {
        Random r = new Random(12);
        int d = 48;
        OtScorer seq = OtScorer.builder(Metric.WRD).build();
        OtScorer.Prepared p = seq.prepareQuery(TokenMatrix.ofDoubles(RandomInstances.normal(r, 20, d), 20, d), null);
        TokenMatrix[] docs = new TokenMatrix[30];
        double[] expected = new double[docs.length];
        for (int t = 0; t < docs.length; t++) {
            int m = 1 + r.nextInt(40);
            docs[t] = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
            expected[t] = seq.score(p, docs[t], null, 0).distance();
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<double[]>> futures = new java.util.ArrayList<>();
            for (int w = 0; w < 4; w++) {
                futures.add(pool.submit(() -> {
                    OtScorer own = OtScorer.builder(Metric.WRD).build();
                    double[] got = new double[docs.length];
                    for (int rep = 0; rep < 5; rep++) {
                        for (int t = 0; t < docs.length; t++) {
                            got[t] = own.score(p, docs[t], null, 0).distance();
                        }
                    }
                    return got;
                }));
            }
            for (java.util.concurrent.Future<double[]> f : futures) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected, f.get(), 0.0);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void testMaxSim_whenExplicitZeroWeightToken_thenTokenStillCounts() {
        // maxSim ignores masses: a token with weight 0 takes no part in OT but still has a direction
        double[] q = {1, 0, 0, 1};
        double[] doc = {1, 0};
        OtScorer s = OtScorer.builder(Metric.WMD).massRule(MassRule.EXPLICIT).build();
        OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(q, 2, 2), new double[] {1, 0});
        assertEquals(1, p.activeTokens());
        assertEquals(0.5, s.maxSim(p, TokenMatrix.ofDoubles(doc, 1, 2)), 1e-15);
    }

    @Test
    void testExplicit_whenZeroWeightToken_thenSameAsRemovingIt() {
        Random r = new Random(61);
        int d = 10;
        double[] x = RandomInstances.normal(r, 6, d);
        double[] y = RandomInstances.normal(r, 5, d);
        double[] wx = {0.5, 0, 2, 1, 0, 1.5};
        double[] xKept = new double[4 * d];
        double[] wxKept = {0.5, 2, 1, 1.5};
        int[] keep = {0, 2, 3, 5};
        for (int k = 0; k < 4; k++) {
            System.arraycopy(x, keep[k] * d, xKept, k * d, d);
        }
        double[] wy = {1, 1, 3, 0.25, 2};
        for (Metric metric : Metric.values()) {
            OtScorer s = OtScorer.builder(metric).massRule(MassRule.EXPLICIT).build();
            OtResult full = s.score(s.prepareQuery(TokenMatrix.ofDoubles(x, 6, d), wx), TokenMatrix.ofDoubles(y, 5, d), wy, 20);
            OtResult kept = s.score(s.prepareQuery(TokenMatrix.ofDoubles(xKept, 4, d), wxKept), TokenMatrix.ofDoubles(y, 5, d), wy, 20);
            assertEquals(kept.distance(), full.distance(), 1e-15 * full.costMax());
            assertEquals(kept.rwmd(), full.rwmd(), 1e-15 * full.costMax());
            assertEquals(kept.wcd(), full.wcd(), 1e-12 * full.costMax());
            for (Alignment a : full.alignments()) {
                assertTrue(a.queryToken() != 1 && a.queryToken() != 4, "zero-weight token aligned: " + a);
            }
        }
    }

    @Test
    void testScore_whenWindowScoredWithWarmWorkspace_thenAllocatesOnlyTheResult() {
        // scalar kernels: the Panama ones allocate vector objects until C2 compiles them, which is not the workspace
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx.isThreadAllocatedMemorySupported());
        Random r = new Random(9);
        int d = 64;
        for (Solver solver : Solver.values()) {
            OtScorer s = OtScorer.builder(Metric.WRD).solver(solver).kernels(CostKernelsProvider.scalar()).build();
            OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(RandomInstances.normal(r, 24, d), 24, d), null);
            TokenMatrix[] docs = new TokenMatrix[50];
            for (int t = 0; t < docs.length; t++) {
                int m = 10 + r.nextInt(60);
                docs[t] = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
            }
            for (int rep = 0; rep < 3; rep++) {
                for (TokenMatrix doc : docs) {
                    s.score(p, doc, null, 0);
                }
            }
            long tid = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(tid);
            double sink = 0;
            for (TokenMatrix doc : docs) {
                sink += s.score(p, doc, null, 0).distance();
            }
            long perPair = (mx.getThreadAllocatedBytes(tid) - before) / docs.length;
            assertTrue(sink > 0);
            assertTrue(perPair < 1024, solver + " allocates " + perPair + " bytes per pair");
        }
    }

    @Test
    void testAlignments_whenAllRequested_thenWholePlanSortedByFlow() {
        Random r = new Random(71);
        int d = 12;
        for (Solver solver : Solver.values()) {
            OtScorer s = OtScorer.builder(Metric.WMD).solver(solver).build();
            int n = 9, m = 14;
            OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(RandomInstances.normal(r, n, d), n, d), null);
            TokenMatrix doc = TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d);
            OtResult all = s.score(p, doc, null, Integer.MAX_VALUE);
            if (solver == Solver.EMD) {
                assertTrue(all.alignments().size() <= n + m - 1);
            } else {
                assertEquals(n * m, all.alignments().size());
            }
            double total = 0;
            double value = 0;
            for (int t = 0; t < all.alignments().size(); t++) {
                Alignment a = all.alignments().get(t);
                total += a.flow();
                value += a.flow() * a.cost();
                if (t > 0) {
                    assertTrue(all.alignments().get(t - 1).flow() >= a.flow(), "not sorted at " + t);
                }
            }
            assertEquals(1.0, total, 1e-9);
            assertEquals(all.distance(), value, 1e-9 * all.costMax());
            // the top 5 are a prefix of the whole list
            OtResult top = s.score(p, doc, null, 5);
            assertEquals(all.alignments().subList(0, 5), top.alignments());
        }
    }

    @Test
    void testSimilarity_whenWmd_thenOneOverOnePlusDistance() {
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        OtResult res = s.score(s.prepareQuery(TokenMatrix.ofDoubles(new double[] {0, 0}, 1, 2), null),
            TokenMatrix.ofDoubles(new double[] {3, 4}, 1, 2), null, 0);
        assertEquals(5.0, res.distance(), 0.0);
        assertEquals(1.0 / 6, res.similarity(), 1e-16);
    }

    @Test
    void testDocument_whenZeroNormRowsInside_thenSameAsWithoutThem() {
        // the default-rule path widens rows without normalising them and compacts zero-norm rows itself; float and
        // double storage, WRD (rows dropped: mass 0) and maxSim (rows ignored)
        Random r = new Random(123);
        int n = 7, m = 11, d = 19;
        double[] x = RandomInstances.normal(r, n, d);
        double[] y = RandomInstances.normal(r, m, d);
        double[] yz = new double[(m + 3) * d];   // zero rows at 0, 5 and the end
        for (int t = 0, k = 0; t < m + 3; t++) {
            if (t == 0 || t == 5 || t == m + 2) {
                continue;
            }
            System.arraycopy(y, k++ * d, yz, t * d, d);
        }
        float[] yzf = new float[yz.length];
        double[] yzd = new double[yz.length];
        float[] yf = new float[y.length];
        for (int k = 0; k < y.length; k++) {
            yf[k] = (float) y[k];
        }
        for (int k = 0; k < yz.length; k++) {
            yzf[k] = (float) yz[k];
            yzd[k] = yzf[k];
        }
        for (Solver solver : Solver.values()) {
            OtScorer s = OtScorer.builder(Metric.WRD).solver(solver).build();
            OtScorer.Prepared p = s.prepareQuery(TokenMatrix.ofDoubles(x, n, d), null);
            OtResult plain = s.score(p, TokenMatrix.of(yf, m, d), null, 0);
            for (TokenMatrix doc : new TokenMatrix[] {TokenMatrix.of(yzf, m + 3, d), TokenMatrix.ofDoubles(yzd, m + 3, d)}) {
                OtResult withZeros = s.score(p, doc, null, 3);
                assertEquals(plain.distance(), withZeros.distance(), 1e-12, solver + " distance");
                assertEquals(plain.lowerBound(), withZeros.lowerBound(), 1e-12, solver + " bound");
                assertEquals(s.wcd(p, TokenMatrix.of(yf, m, d), null), s.wcd(p, doc, null), 1e-12);
                assertEquals(s.maxSim(p, TokenMatrix.of(yf, m, d)), s.maxSim(p, doc), 1e-12);
                for (Alignment a : withZeros.alignments()) {
                    assertTrue(a.docToken() != 0 && a.docToken() != 5 && a.docToken() != m + 2, "zero-norm row aligned: " + a);
                }
            }
        }
    }

    @Test
    void testDefaultMasses_whenGivenAsExplicitWeights_thenSameProblemAndBounds() {
        // the default rules (WMD uniform, WRD norm) take a one-pass path; explicit weights equal to those masses take
        // the general one: both must give the same problem
        Random r = new Random(321);
        int n = 6, m = 40, d = 24;
        float[] xf = new float[n * d];
        float[] yf = new float[m * d];
        for (int k = 0; k < xf.length; k++) {
            xf[k] = (float) r.nextGaussian();
        }
        for (int k = 0; k < yf.length; k++) {
            yf[k] = (float) r.nextGaussian();
        }
        TokenMatrix x = TokenMatrix.of(xf, n, d);
        TokenMatrix y = TokenMatrix.of(yf, m, d);
        for (Metric metric : Metric.values()) {
            double[] wx = new double[n];
            double[] wy = new double[m];
            for (int t = 0; t < n; t++) {
                wx[t] = metric == Metric.WMD ? 1 : norm(xf, t, d);
            }
            for (int t = 0; t < m; t++) {
                wy[t] = metric == Metric.WMD ? 1 : norm(yf, t, d);
            }
            OtScorer def = OtScorer.builder(metric).build();
            OtScorer exp = OtScorer.builder(metric).massRule(MassRule.EXPLICIT).build();
            OtResult a = def.score(def.prepareQuery(x, null), y, null, 0);
            OtResult b = exp.score(exp.prepareQuery(x, wx), y, wy, 0);
            double tol = 1e-13 * b.costMax();
            assertEquals(b.distance(), a.distance(), tol, metric + " distance");
            assertEquals(b.wcd(), a.wcd(), tol, metric + " wcd");
            assertEquals(b.rwmdQueryToDoc(), a.rwmdQueryToDoc(), tol, metric + " rwmd q->d");
            assertEquals(b.rwmdDocToQuery(), a.rwmdDocToQuery(), tol, metric + " rwmd d->q");
            assertEquals(b.costMax(), a.costMax(), tol, metric + " cost max");
            assertEquals(exp.wcd(exp.prepareQuery(x, wx), y, wy), def.wcd(def.prepareQuery(x, null), y, null), tol);
        }
    }

    private static double norm(float[] v, int t, int d) {
        double s = 0;
        for (int c = 0; c < d; c++) {
            s += (double) v[t * d + c] * v[t * d + c];
        }
        return Math.sqrt(s);
    }

    @Test
    void testDualBound_whenRandomProblems_thenBetweenRwmdAndEmd() {
        // one query token (mass 1) against two document tokens (1/2 each) at costs 1 and 3: RWMD(q -> d) = 1 and
        // RWMD(d -> q) = 2; the c-transforms reach the EMD 2 exactly
        OtScorer s = OtScorer.builder(Metric.WMD).build();
        OtScorer.Problem hand = s.buildProblem(s.prepareQuery(TokenMatrix.ofDoubles(new double[] {0}, 1, 1), null),
            TokenMatrix.ofDoubles(new double[] {1, -3}, 2, 1), null);
        assertEquals(2.0, s.dualBound(hand), 1e-15);
        // random problems, both metrics, many shapes (the rescorer's 20 x 127 among them): RWMD <= dual <= EMD
        Random r = new Random(99);
        int tighter = 0;
        int[][] shapes = {{20, 127}, {1, 1}, {1, 9}, {9, 1}, {5, 60}, {30, 30}};
        for (int rep = 0; rep < 60; rep++) {
            Metric metric = rep % 2 == 0 ? Metric.WMD : Metric.WRD;
            int[] sh = shapes[rep % shapes.length];
            int n = sh[0], m = sh[1], d = 8;
            OtScorer sc = OtScorer.builder(metric).build();
            OtScorer.Problem q = sc.buildProblem(sc.prepareQuery(TokenMatrix.ofDoubles(RandomInstances.normal(r, n, d), n, d), null),
                TokenMatrix.ofDoubles(RandomInstances.normal(r, m, d), m, d), null);
            double rwmd = q.rwmd();
            double dual = sc.dualBound(q);
            double cm = q.costMax();
            double emd = sc.solve(q, 0).distance();
            assertTrue(dual >= rwmd - 1e-12 * cm, "dual " + dual + " below rwmd " + rwmd);
            assertTrue(dual <= emd + 1e-12 * cm, "dual " + dual + " above emd " + emd + " for " + n + " x " + m);
            if (dual > rwmd + 1e-9 * cm) {
                tighter++;
            }
        }
        assertTrue(tighter > 20, "the dual bound was tighter than RWMD on only " + tighter + " of 60 problems");
    }
    /**
     * The rescorer's call sequences (wcd, maxSim and buildProblem of several documents, interleaved) give every problem
     * exactly as a fresh scorer builds it: the reused workspace never leaks one document into the next.
     */
    @Test
    void reusedDocumentSetupMatchesAFreshScorer() {
        Random r = new Random(21);
        for (Metric metric : Metric.values()) {
            OtScorer warm = OtScorer.builder(metric).build();
            TokenMatrix q = randomMatrix(r, 5, 12, false);
            OtScorer.Prepared pw = warm.prepareQuery(q, null);
            TokenMatrix[] docs = new TokenMatrix[6];
            for (int k = 0; k < docs.length; k++) {
                docs[k] = randomMatrix(r, 3 + r.nextInt(20), 12, k % 3 == 1);
            }
            for (int step = 0; step < 60; step++) {
                TokenMatrix d = docs[r.nextInt(docs.length)];
                switch (r.nextInt(4)) {
                    case 0 -> warm.maxSim(pw, d);
                    case 1 -> warm.wcd(pw, d, null);
                    default -> {
                        double wcd = warm.wcd(pw, d, null);
                        OtScorer.Problem p = warm.buildProblem(pw, d, null);
                        OtScorer fresh = OtScorer.builder(metric).build();
                        OtScorer.Problem e = fresh.buildProblem(fresh.prepareQuery(q, null), d, null);
                        assertEquals(e.m(), p.m());
                        assertEquals(e.wcd(), wcd, 0.0);
                        assertEquals(e.wcd(), p.wcd(), 0.0);
                        assertEquals(e.rwmd(), p.rwmd(), 0.0);
                        for (int c = 0; c < e.m(); c++) {
                            assertEquals(e.docMasses()[c], p.docMasses()[c], 0.0);
                        }
                        for (int c = 0; c < e.n() * e.m(); c++) {
                            assertEquals(e.cost()[c], p.cost()[c], 0.0, metric + " step " + step);
                        }
                        assertEquals(fresh.solve(e, 0).distance(), warm.solve(p, 0).distance(), 0.0);
                    }
                }
            }
        }
    }

    /** Gaussian rows; with {@code zeroRow} the second row is all zeros (norm 0: no mass under the norm rule). */
    private static TokenMatrix randomMatrix(Random r, int rows, int dims, boolean zeroRow) {
        float[] f = new float[rows * dims];
        for (int k = 0; k < f.length; k++) {
            f[k] = zeroRow && k / dims == 1 ? 0f : (float) r.nextGaussian();
        }
        return TokenMatrix.of(f, rows, dims);
    }
}
