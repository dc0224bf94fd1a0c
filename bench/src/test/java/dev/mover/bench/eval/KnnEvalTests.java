package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void testNearest_whenPruned_thenSameNeighboursAsBruteForce() {
        Random rnd = new Random(11);
        int dims = 8;
        KnnEval.Enc[] pool = new KnnEval.Enc[300];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = randomDoc(rnd, dims, i % 4);
        }
        int[] all = new int[pool.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
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
        }
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
