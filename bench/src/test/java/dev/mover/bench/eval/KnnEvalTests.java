package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Prefetch-and-prune must return exactly the brute-force neighbours; the vote rule as documented. */
class KnnEvalTests {

    private static KnnEval.Enc randomDoc(Random rnd, int dims, int cluster) {
        int n = 3 + rnd.nextInt(12);
        float[] v = new float[n * dims];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() + (i % dims == cluster ? 3 : 0));
        }
        float[] pooled = new float[dims];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < dims; c++) {
                pooled[c] += v[t * dims + c] / n;
            }
        }
        return KnnEval.enc(pooled, v, n, dims);
    }

    private static KnnEval.Enc[] randomPool(Random rnd, int size, int dims) {
        KnnEval.Enc[] pool = new KnnEval.Enc[size];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = randomDoc(rnd, dims, i % 4);
        }
        return pool;
    }

    private static int[] all(int n) {
        int[] all = new int[n];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    @Test
    void testNearest_whenPruned_thenSameNeighboursAsBruteForce() {
        Random rnd = new Random(11);
        int dims = 8;
        KnnEval.Enc[] pool = randomPool(rnd, 300, dims);
        int[] all = all(pool.length);
        for (String system : new String[] {"wmd", "wrd"}) {
            KnnEval.Search s = new KnnEval.Search(system, pool, null);
            for (int q = 0; q < 10; q++) {
                KnnEval.Enc query = randomDoc(rnd, dims, q % 4);
                int[] brute = s.bruteForce(query, all, 7);
                int[] pruned = s.nearest(query, all, 7);
                assertArrayEquals(brute, pruned, system + " query " + q);
            }
            long visited = s.visited.sum();
            assertTrue(s.exact.sum() < visited || visited < 10L * pool.length, system + ": nothing was pruned or skipped");
            assertTrue(s.exact.sum() < 10L * pool.length, system + ": every document was solved exactly");
            assertTrue(s.pruned.sum() > 0, system + ": no bound pruned anything");
        }
    }

    @Test
    void testNearest_whenScalarKernelAndLongerDocs_thenSameNeighboursAsBruteForce() {
        // 40 dims (not a multiple of the vector length), documents of up to 40 tokens (several padded blocks)
        Random rnd = new Random(5);
        int dims = 40;
        KnnEval.Enc[] pool = new KnnEval.Enc[120];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = longDoc(rnd, dims, i % 3);
        }
        int[] cands = new int[pool.length - 20];
        for (int i = 0; i < cands.length; i++) {
            cands[i] = i + 20; // a subset of the pool, as the validation split searches
        }
        for (String system : new String[] {"wmd", "wrd"}) {
            for (KnnEval.Dots dots : new KnnEval.Dots[] {new KnnEval.ScalarDots(), null}) {
                KnnEval.Search s = dots == null ? new KnnEval.Search(system, pool, null)
                    : new KnnEval.Search(system, pool, new KnnEval.FloatPool(system, pool), null, dots);
                for (int q = 0; q < 6; q++) {
                    KnnEval.Enc query = q < 3 ? pool[q] : longDoc(rnd, dims, q % 3);
                    assertArrayEquals(s.bruteForce(query, cands, 5), s.nearest(query, cands, 5), system + " " + s.dots.name() + " query " + q);
                }
            }
        }
    }

    private static KnnEval.Enc longDoc(Random rnd, int dims, int cluster) {
        int n = 1 + rnd.nextInt(40);
        float[] v = new float[n * dims];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() + (i % dims == cluster ? 2 : 0));
        }
        return KnnEval.enc(new float[dims], v, n, dims);
    }

    @Test
    void testDots_whenPanamaOrScalar_thenSameProducts() {
        Random rnd = new Random(3);
        int d = 37;
        int n = 11; // 4 + 4 + 3 rows: full tiles and a row tail
        int m = 70;
        int stride = (m + KnnEval.PAD - 1) / KnnEval.PAD * KnnEval.PAD;
        float[] x = new float[n * d];
        float[] yt = new float[d * stride];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (int c = 0; c < d; c++) {
            for (int j = 0; j < m; j++) {
                yt[c * stride + j] = (float) rnd.nextGaussian();
            }
        }
        KnnEval.Dots[] kernels = {new KnnEval.ScalarDots(), new KnnEval.PanamaDots()};
        for (KnnEval.Dots k : kernels) {
            float[] out = new float[(n - 1) * stride];
            k.dots(x, 1, n, yt, stride, d, out); // rows 1..10
            for (int i = 1; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    double want = 0;
                    for (int c = 0; c < d; c++) {
                        want += (double) x[i * d + c] * yt[c * stride + j];
                    }
                    assertEquals(want, out[(i - 1) * stride + j], 1e-4, k.name() + " row " + i + " col " + j);
                }
            }
        }
        assertTrue(KnnEval.dotsName().startsWith("panama"), "surefire runs with jdk.incubator.vector: " + KnnEval.dotsName());
    }

    @Test
    void testRwmdBound_whenFloat_thenAtMostTheDoubleRwmdAndClose() {
        Random rnd = new Random(17);
        int dims = 24;
        KnnEval.Enc[] pool = randomPool(rnd, 40, dims);
        for (String system : new String[] {"wmd", "wrd"}) {
            OtScorer sc = OtScorer.builder(system.equals("wmd") ? Metric.WMD : Metric.WRD).build();
            KnnEval.Search s = new KnnEval.Search(system, pool, null);
            KnnEval.Enc q = randomDoc(rnd, dims, 1);
            OtScorer.Prepared pq = sc.prepareQuery(q.tokens(), null);
            KnnEval.Rows rows = KnnEval.Rows.of(q.tokens(), system.equals("wrd"), true, false);
            for (int i = 0; i < pool.length; i++) {
                OtScorer.Problem p = sc.buildProblem(pq, pool[i].tokens(), null);
                double rwmd = p.rwmd();
                double exact = sc.solve(p, 0).distance();
                double lb = s.rwmdBound(rows, i, Double.POSITIVE_INFINITY);
                assertTrue(lb <= rwmd, system + " doc " + i + ": bound " + lb + " above RWMD " + rwmd);
                assertTrue(lb <= exact, system + " doc " + i + ": bound " + lb + " above the distance " + exact);
                assertEquals(rwmd, lb, 1e-3 * Math.max(1, rwmd), system + " doc " + i);
                // stopped early: a partial sum, still a lower bound, above the limit
                double partial = s.rwmdBound(rows, i, 1e-6);
                assertTrue(partial <= lb + 1e-12 && partial > 1e-6, system + " doc " + i + ": partial " + partial);
            }
        }
    }

    @Test
    void testIct_whenHandExample_thenTighterThanRwmdAndAtMostExact() {
        // WMD in one dimension: query {0, 10} (masses 1/2), document {0, 0, 9} (masses 1/3).
        // costs: row 0 [0 0 9], row 1 [10 10 1]. RWMD: query side 0.5*0 + 0.5*1 = 0.5, doc side (0 + 0 + 1)/3.
        // ICT query side: row 0 fills 1/3 + 1/6 at cost 0; row 1 sends 1/3 at cost 1 then 1/6 at cost 10 -> 2.
        // Exact: the same plan is feasible, so the distance is 2.
        KnnEval.Enc q = KnnEval.enc(new float[1], new float[] {0, 10}, 2, 1);
        KnnEval.Enc d = KnnEval.enc(new float[1], new float[] {0, 0, 9}, 3, 1);
        KnnEval.Search s = new KnnEval.Search("wmd", new KnnEval.Enc[] {d}, null);
        OtScorer sc = OtScorer.builder(Metric.WMD).build();
        OtScorer.Problem p = sc.buildProblem(sc.prepareQuery(q.tokens(), null), d.tokens(), null);
        assertEquals(0.5, p.rwmd(), 1e-12);
        assertEquals(2.0, s.ict(p, Double.POSITIVE_INFINITY), 1e-12);
        assertEquals(2.0, sc.solve(p, 0).distance(), 1e-9);
    }

    @Test
    void testIctAndDual_whenRandomProblems_thenBetweenRwmdAndExact() {
        Random rnd = new Random(23);
        int dims = 6;
        KnnEval.Enc[] pool = randomPool(rnd, 60, dims);
        int tighter = 0;
        int dualTighter = 0;
        for (String system : new String[] {"wmd", "wrd"}) {
            OtScorer sc = OtScorer.builder(system.equals("wmd") ? Metric.WMD : Metric.WRD).build();
            KnnEval.Search s = new KnnEval.Search(system, pool, null);
            for (int i = 1; i < pool.length; i++) {
                OtScorer.Problem p = sc.buildProblem(sc.prepareQuery(pool[0].tokens(), null), pool[i].tokens(), null);
                double rwmd = p.rwmd();
                double ict = s.ict(p, Double.POSITIVE_INFINITY);
                double exact = sc.solve(p, 0).distance();
                assertTrue(ict >= rwmd - 1e-12, system + " doc " + i + ": ICT " + ict + " below RWMD " + rwmd);
                assertTrue(ict <= exact + 1e-9, system + " doc " + i + ": ICT " + ict + " above the distance " + exact);
                tighter += ict > rwmd + 1e-9 ? 1 : 0;
                double dual = s.dualBound(p, Double.POSITIVE_INFINITY);
                assertTrue(dual >= rwmd - 1e-12, system + " doc " + i + ": dual " + dual + " below RWMD " + rwmd);
                assertTrue(dual <= exact + 1e-9, system + " doc " + i + ": dual " + dual + " above the distance " + exact);
                assertTrue(ict >= dual - 1e-12, system + " doc " + i + ": ict() must include the dual bound");
                dualTighter += dual > rwmd + 1e-9 ? 1 : 0;
            }
        }
        assertNotEquals(0, tighter, "ICT never tighter than RWMD");
        assertNotEquals(0, dualTighter, "the c-transform bound never tighter than RWMD");
    }

    @Test
    void testVote_whenTie_thenClassOfNearestTiedNeighbour() {
        List<KnnEval.Doc> pool = List.of(new KnnEval.Doc("0", "a", ""), new KnnEval.Doc("1", "b", ""),
            new KnnEval.Doc("2", "b", ""), new KnnEval.Doc("3", "a", ""), new KnnEval.Doc("4", "c", ""));
        // neighbours 1 (b), 0 (a), 3 (a), 2 (b): k=4 ties a/b 2-2 -> nearest tied is 1 (b)
        assertEquals("b", KnnEval.vote(pool, new int[] {1, 0, 3, 2}, 4));
        assertEquals("a", KnnEval.vote(pool, new int[] {1, 0, 3, 2}, 3));
        assertEquals("b", KnnEval.vote(pool, new int[] {1, 0, 3, 2}, 1));
        assertEquals("c", KnnEval.vote(pool, new int[] {4, 0, 1}, 3));
    }
}
