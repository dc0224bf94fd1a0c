package dev.mover.scoring.lucene;

import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;
import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.codec.TokenVectorCodec.Encoding;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FilterBinaryDocValues;
import org.apache.lucene.index.FilterDirectoryReader;
import org.apache.lucene.index.FilterLeafReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteArrayDataOutput;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain-Lucene rescorer over an in-memory index of several segments, checked against {@link OtScorer} called
 * directly on the same stored bytes.
 */
class MoverRescorerTests {
    private static final int DIMS = 16;
    private static final int DOCS = 90;
    private static final int WINDOW = 70;
    private static final long FINGERPRINT = 0x1F2E3D4C5B6A7988L;
    private static final String FIELD = "tokens";

    /** The codec value of each test doc (by its "id"), null when the doc has no value. */
    private static final byte[][] STORED = new byte[DOCS][];
    private static Directory dir;
    private static DirectoryReader rawReader;
    private static DirectoryReader reader;
    private static IndexSearcher searcher;
    private static TokenMatrix query;
    private static final AtomicInteger BDV_READS = new AtomicInteger();
    private static final Query FIRST = new TermQuery(new Term("body", "alpha"));

    @BeforeAll
    static void buildIndex() throws IOException {
        Random r = new Random(42);
        double[][] concepts = new double[8][DIMS];
        for (double[] c : concepts) {
            double n = 0;
            for (int d = 0; d < DIMS; d++) {
                c[d] = r.nextGaussian();
                n += c[d] * c[d];
            }
            for (int d = 0; d < DIMS; d++) {
                c[d] /= Math.sqrt(n);
            }
        }
        query = TokenMatrix.of(tokens(r, concepts, 4, 0, 1), 4, DIMS);
        dir = new ByteBuffersDirectory();
        IndexWriterConfig cfg = new IndexWriterConfig().setMaxBufferedDocs(8).setMergePolicy(NoMergePolicy.INSTANCE);
        try (IndexWriter w = new IndexWriter(dir, cfg)) {
            for (int i = 0; i < DOCS; i++) {
                Document doc = new Document();
                doc.add(new StringField("id", Integer.toString(i), Field.Store.YES));
                // the first-pass order (BM25 on term frequency) has nothing to do with the token vectors
                doc.add(new TextField("body", "alpha ".repeat(1 + (i * 7) % 5) + "filler ".repeat(i % 4), Field.Store.NO));
                if (i % 11 != 5) {
                    int n = i % 17 == 3 ? 0 : 3 + r.nextInt(10);
                    int a = r.nextInt(concepts.length);
                    int b = i % 4 == 0 ? r.nextInt(2) : r.nextInt(concepts.length);
                    float[] v = tokens(r, concepts, n, a, b);
                    int[] starts = new int[n];
                    int[] ends = new int[n];
                    for (int t = 0; t < n; t++) {
                        starts[t] = 6 * t;
                        ends[t] = 6 * t + 5;
                    }
                    Encoding enc = Encoding.values()[i % 3];
                    byte[] value = TokenVectorCodec.encode(v, DIMS, starts, ends, enc, FINGERPRINT);
                    STORED[i] = value;
                    BytesRef wrapped = esBinary(value);
                    // the main field alternates between the two layouts; the other two hold one layout each
                    doc.add(new BinaryDocValuesField(FIELD, i % 2 == 0 ? wrapped : new BytesRef(value)));
                    doc.add(new BinaryDocValuesField("tokens_bare", new BytesRef(value)));
                    doc.add(new BinaryDocValuesField("tokens_wrapped", wrapped));
                }
                w.addDocument(doc);
            }
        }
        rawReader = DirectoryReader.open(dir);
        reader = new ForwardOnlyReader(rawReader);
        searcher = new IndexSearcher(reader);
    }

    @AfterAll
    static void close() throws IOException {
        reader.close();
        dir.close();
    }

    /** {@code n} tokens around two concepts, with noise and varied norms. */
    private static float[] tokens(Random r, double[][] concepts, int n, int a, int b) {
        float[] v = new float[n * DIMS];
        for (int t = 0; t < n; t++) {
            double[] c = concepts[t % 2 == 0 ? a : b];
            double scale = 0.5 + r.nextDouble();
            for (int d = 0; d < DIMS; d++) {
                v[t * DIMS + d] = (float) (scale * c[d] + 0.35 * r.nextGaussian() / Math.sqrt(DIMS));
            }
        }
        return v;
    }

    /** The doc-values layout of Elasticsearch {@code binary} fields: vint count, vint length, bytes. */
    private static BytesRef esBinary(byte[] value) {
        byte[] out = new byte[value.length + 10];
        ByteArrayDataOutput o = new ByteArrayDataOutput(out);
        try {
            o.writeVInt(1);
            o.writeVInt(value.length);
            o.writeBytes(value, value.length);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return new BytesRef(out, 0, o.getPosition());
    }

    /** Fails on any backward (or repeated) doc-values read, and counts reads. */
    private static final class ForwardOnlyReader extends FilterDirectoryReader {
        ForwardOnlyReader(DirectoryReader in) throws IOException {
            super(in, new SubReaderWrapper() {
                @Override
                public LeafReader wrap(LeafReader leaf) {
                    return new FilterLeafReader(leaf) {
                        @Override
                        public BinaryDocValues getBinaryDocValues(String field) throws IOException {
                            BinaryDocValues v = super.getBinaryDocValues(field);
                            return v == null ? null : new FilterBinaryDocValues(v) {
                                private int last = -1;

                                @Override
                                public boolean advanceExact(int target) throws IOException {
                                    if (target <= last) {
                                        throw new AssertionError("doc values read backwards: [" + target + "] after [" + last + "]");
                                    }
                                    last = target;
                                    BDV_READS.incrementAndGet();
                                    return in.advanceExact(target);
                                }
                            };
                        }

                        @Override
                        public CacheHelper getCoreCacheHelper() {
                            return null;
                        }

                        @Override
                        public CacheHelper getReaderCacheHelper() {
                            return null;
                        }
                    };
                }
            });
        }

        @Override
        protected DirectoryReader doWrapDirectoryReader(DirectoryReader in) throws IOException {
            return new ForwardOnlyReader(in);
        }

        @Override
        public CacheHelper getReaderCacheHelper() {
            return null;
        }
    }

    private static TopDocs firstPass() throws IOException {
        return searcher.search(FIRST, WINDOW);
    }

    private static int testId(int doc) throws IOException {
        return Integer.parseInt(searcher.storedFields().document(doc).get("id"));
    }

    /** The expected top N, computed with {@link OtScorer} directly from the bytes the test stored. */
    private static ScoreDoc[] expected(TopDocs first, Metric metric, boolean maxSim, Solver solver, double qw, double rw, int topN)
        throws IOException {
        OtScorer.Builder b = OtScorer.builder(metric).solver(solver);
        if (solver == Solver.SINKHORN) {
            b.sinkhornEpsilon(0.05, true).sinkhornTolerance(1e-6).sinkhornMaxIterations(1000);
        }
        OtScorer s = b.build();
        OtScorer.Prepared p = s.prepareQuery(query, null);
        List<ScoreDoc> out = new ArrayList<>();
        for (ScoreDoc h : first.scoreDocs) {
            byte[] bytes = STORED[testId(h.doc)];
            double sim = 0;
            if (bytes != null) {
                TokenVectorCodec.Decoded d = TokenVectorCodec.decode(bytes, 0, bytes.length);
                if (d.tokens() > 0) {
                    TokenMatrix m = TokenMatrix.of(d.vectors(), d.tokens(), d.dims());
                    if (maxSim) {
                        sim = Math.max(0, s.maxSim(p, m));
                    } else {
                        OtResult res = s.score(p, m, null, 0);
                        sim = metric == Metric.WRD ? Math.max(0, 1 - res.distance()) : 1 / (1 + res.distance());
                    }
                }
            }
            out.add(new ScoreDoc(h.doc, (float) (qw * h.score + rw * sim)));
        }
        out.sort((x, y) -> x.score != y.score ? Float.compare(y.score, x.score) : Integer.compare(x.doc, y.doc));
        return out.subList(0, Math.min(topN, out.size())).toArray(new ScoreDoc[0]);
    }

    private static MoverRescorer.Builder rescorer(Metric metric, boolean maxSim, Solver solver, double qw, double rw) {
        return MoverRescorer.builder(FIELD, query, FINGERPRINT).metric(metric).maxSim(maxSim).solver(solver)
            .queryWeight(qw).rescoreWeight(rw);
    }

    private static void assertSameHits(ScoreDoc[] want, ScoreDoc[] got, String what) {
        assertEquals(want.length, got.length, what + " length");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i].doc, got[i].doc, what + " doc at rank " + i);
            assertEquals(want[i].score, got[i].score, what + " score at rank " + i);
        }
    }

    @Test
    void testIndex_whenBuilt_thenSeveralSegmentsAndFirstPassNotInDocOrder() throws IOException {
        assertTrue(reader.leaves().size() >= 5, "segments " + reader.leaves().size());
        int[] docs = Arrays.stream(firstPass().scoreDocs).mapToInt(h -> h.doc).toArray();
        int[] sorted = docs.clone();
        Arrays.sort(sorted);
        assertFalse(Arrays.equals(docs, sorted), "the first pass must not already be in doc order");
    }

    @Test
    void testRescore_whenEachMeasure_thenOrderEqualsDirectComputation() throws IOException {
        TopDocs first = firstPass();
        float[] firstScores = new float[first.scoreDocs.length];
        for (int i = 0; i < firstScores.length; i++) {
            firstScores[i] = first.scoreDocs[i].score;
        }
        Object[][] cases = {
            {Metric.WRD, false, Solver.EMD}, {Metric.WMD, false, Solver.EMD}, {Metric.WRD, false, Solver.SINKHORN},
            {Metric.WMD, false, Solver.SINKHORN}, {Metric.WRD, true, Solver.EMD}};
        for (Object[] c : cases) {
            for (double qw : new double[] {0.0, 0.05}) {
                for (int topN : new int[] {1, 10, WINDOW + 5}) {
                    Metric m = (Metric) c[0];
                    boolean ms = (Boolean) c[1];
                    Solver s = (Solver) c[2];
                    String what = m + (ms ? " maxsim " : " ") + s + " qw " + qw + " topN " + topN;
                    int reads = BDV_READS.get();
                    TopDocs got = rescorer(m, ms, s, qw, 1.0).build().rescore(searcher, first, topN);
                    assertTrue(BDV_READS.get() - reads > 0, "doc values were read through the reader");
                    assertSameHits(expected(first, m, ms, s, qw, 1.0, topN), got.scoreDocs, what);
                    assertEquals(first.totalHits, got.totalHits);
                }
            }
        }
        for (int i = 0; i < firstScores.length; i++) {
            assertEquals(firstScores[i], first.scoreDocs[i].score, "first pass hits are not modified");
        }
    }

    @Test
    void testRescore_whenOrderChanges_thenNotTheFirstPassOrder() throws IOException {
        TopDocs first = firstPass();
        TopDocs got = rescorer(Metric.WRD, false, Solver.EMD, 0, 1).build().rescore(searcher, first, 10);
        int[] firstTop = Arrays.stream(first.scoreDocs).limit(10).mapToInt(h -> h.doc).toArray();
        int[] rescored = Arrays.stream(got.scoreDocs).mapToInt(h -> h.doc).toArray();
        assertFalse(Arrays.equals(firstTop, rescored));
        for (int i = 1; i < got.scoreDocs.length; i++) {
            assertTrue(got.scoreDocs[i - 1].score >= got.scoreDocs[i].score);
        }
        assertTrue(got.scoreDocs[0].score > 0.5f, "a doc on the query's concepts is near: " + got.scoreDocs[0].score);
    }

    @Test
    void testPrune_whenOnOrOff_thenSameTopNAndSolvesSkipped() throws IOException {
        TopDocs first = firstPass();
        for (Metric m : Metric.values()) {
            for (Solver s : Solver.values()) {
                for (double qw : new double[] {0.0, 0.05, -0.02}) {
                    int skipped = 0;
                    for (int topN = 1; topN <= 15; topN++) {
                        MoverRescorer.Stats pruned = rescorer(m, false, s, qw, 1.0).prune(true).build().rescoreWithStats(searcher, first, topN);
                        MoverRescorer.Stats full = rescorer(m, false, s, qw, 1.0).prune(false).build().rescoreWithStats(searcher, first, topN);
                        String what = m + " " + s + " qw " + qw + " topN " + topN;
                        assertSameHits(full.topDocs().scoreDocs, pruned.topDocs().scoreDocs, what);
                        assertEquals(0, full.pruned());
                        assertEquals(WINDOW, full.window());
                        assertEquals(full.window() - full.missing(), full.exactSolves(), what);
                        assertEquals(full.exactSolves(), pruned.exactSolves() + pruned.pruned(), what);
                        skipped += pruned.pruned();
                    }
                    assertTrue(skipped > 0, m + " " + s + " qw " + qw + ": pruning never skipped a solve");
                }
            }
        }
        // small epsilon (value close to EMD) and a loose tolerance: the document-side marginals are off by up to 0.3, so
        // max(WCD, RWMD) is no longer below the Sinkhorn value; the bound must allow for the tolerance
        for (Metric m : Metric.values()) {
            for (int topN = 1; topN <= 15; topN++) {
                MoverRescorer.Builder b = rescorer(m, false, Solver.SINKHORN, 0, 1).sinkhorn(1e-3, true, 0.3, 1000);
                MoverRescorer.Stats pruned = b.prune(true).build().rescoreWithStats(searcher, first, topN);
                MoverRescorer.Stats full = b.prune(false).build().rescoreWithStats(searcher, first, topN);
                assertEquals(0, full.notConverged());
                assertSameHits(full.topDocs().scoreDocs, pruned.topDocs().scoreDocs, m + " loose sinkhorn topN " + topN);
            }
        }
        MoverRescorer.Stats st = rescorer(Metric.WRD, false, Solver.EMD, 0, 1).build().rescoreWithStats(searcher, first, 5);
        System.out.printf("[lucene rescorer] WRD emd top 5 of %d hits (%d without tokens): %d exact solves, %d skipped%n",
            st.window(), st.missing(), st.exactSolves(), st.pruned());
        assertTrue(st.pruned() * 2 >= st.window() - st.missing(),
            "WRD top 5: at least half the solves skipped, was " + st.pruned() + " of " + (st.window() - st.missing()));
        // a negative rescore weight makes the bound useless: everything is solved
        MoverRescorer.Stats neg = rescorer(Metric.WRD, false, Solver.EMD, 0, -1).build().rescoreWithStats(searcher, first, 5);
        assertEquals(0, neg.pruned());
        assertSameHits(expected(first, Metric.WRD, false, Solver.EMD, 0, -1, 5), neg.topDocs().scoreDocs, "negative weight");
    }

    @Test
    void testExplain_whenHitsRescored_thenValueEqualsScore() throws IOException {
        TopDocs first = firstPass();
        for (Metric m : Metric.values()) {
            for (boolean ms : new boolean[] {false, true}) {
                MoverRescorer r = rescorer(m, ms, Solver.EMD, 0.05, 1.0).queryTokenLabels("q0", "q1", "q2", "q3").build();
                TopDocs got = r.rescore(searcher, first, WINDOW);
                int withTokens = 0;
                for (ScoreDoc h : got.scoreDocs) {
                    Explanation e = r.explain(searcher, searcher.explain(FIRST, h.doc), h.doc);
                    assertTrue(e.isMatch());
                    assertEquals(h.score, e.getValue().floatValue(), "explain of doc " + h.doc);
                    byte[] stored = STORED[testId(h.doc)];
                    String text = e.toString();
                    if (stored == null || TokenVectorCodec.decode(stored, 0, stored.length).tokens() == 0) {
                        assertTrue(text.contains("document has no tokens in [tokens]"), text);
                    } else {
                        withTokens++;
                        if (!ms) {
                            assertTrue(text.contains(m.name().toLowerCase() + " distance (emd)"), text);
                            assertTrue(text.contains("flow from query token [q"), text);
                        } else {
                            assertTrue(text.contains("maxsim"), text);
                        }
                    }
                }
                assertTrue(withTokens > WINDOW / 2);
            }
        }
    }

    @Test
    void testLayout_whenBareOrWrapped_thenSameResult() throws IOException {
        TopDocs first = firstPass();
        TopDocs bare = MoverRescorer.builder("tokens_bare", query, FINGERPRINT).prune(false).build().rescore(searcher, first, WINDOW);
        TopDocs wrapped = MoverRescorer.builder("tokens_wrapped", query, FINGERPRINT).prune(false).build().rescore(searcher, first, WINDOW);
        TopDocs mixed = MoverRescorer.builder(FIELD, query, FINGERPRINT).prune(false).build().rescore(searcher, first, WINDOW);
        assertSameHits(bare.scoreDocs, wrapped.scoreDocs, "bare vs wrapped");
        assertSameHits(bare.scoreDocs, mixed.scoreDocs, "bare vs mixed");
    }

    @Test
    void testBuilder_whenQueryGivenAsCodecValue_thenSameAsMatrix() throws IOException {
        float[] v = new float[query.rows() * DIMS];
        for (int t = 0; t < query.rows(); t++) {
            for (int d = 0; d < DIMS; d++) {
                v[t * DIMS + d] = (float) query.get(t, d);
            }
        }
        byte[] q = TokenVectorCodec.encode(v, DIMS, new int[query.rows()], new int[query.rows()], Encoding.FLOAT32, FINGERPRINT);
        TopDocs first = firstPass();
        assertSameHits(MoverRescorer.builder(FIELD, query, FINGERPRINT).build().rescore(searcher, first, 10).scoreDocs,
            MoverRescorer.builder(FIELD, q).build().rescore(searcher, first, 10).scoreDocs, "codec query");
    }

    @Test
    void testRescore_whenDocsWithoutValue_thenSimilarityZero() throws IOException {
        TopDocs first = firstPass();
        TopDocs got = rescorer(Metric.WRD, false, Solver.EMD, 0.5, 1).build().rescore(searcher, first, WINDOW);
        int missing = 0;
        for (ScoreDoc h : got.scoreDocs) {
            byte[] stored = STORED[testId(h.doc)];
            if (stored == null || TokenVectorCodec.decode(stored, 0, stored.length).tokens() == 0) {
                float fp = Arrays.stream(first.scoreDocs).filter(x -> x.doc == h.doc).findFirst().orElseThrow().score;
                assertEquals((float) (0.5 * fp), h.score);
                missing++;
            }
        }
        assertTrue(missing >= 3, "missing " + missing);
        assertEquals(0, rescorer(Metric.WRD, false, Solver.EMD, 0, 1).build().rescore(searcher, first, 0).scoreDocs.length);
    }

    @Test
    void testRescore_whenFingerprintOrDimsDiffer_thenNamedError() throws IOException {
        TopDocs first = firstPass();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> MoverRescorer.builder(FIELD, query, FINGERPRINT + 1).build().rescore(searcher, first, 10));
        assertTrue(e.getMessage().startsWith("[tokens] doc ["), e.getMessage());
        assertTrue(e.getMessage().endsWith("was encoded by another model (fingerprint [1f2e3d4c5b6a7988]) than the query"
            + " (fingerprint [1f2e3d4c5b6a7989])"), e.getMessage());
        TokenMatrix small = TokenMatrix.of(new float[] {1, 0, 0, 1, 1, 1}, 2, 3);
        e = assertThrows(IllegalArgumentException.class,
            () -> MoverRescorer.builder(FIELD, small, FINGERPRINT).build().rescore(searcher, first, 10));
        assertTrue(e.getMessage().matches("\\[tokens\\] doc \\[\\d+\\] has \\[16\\] dims but the query has \\[3\\]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> MoverRescorer.builder(FIELD, TokenMatrix.of(new float[0], 0, 3), FINGERPRINT).build());
        assertTrue(e.getMessage().startsWith("[tokens] query tokens are unusable: "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> MoverRescorer.builder(FIELD, query, FINGERPRINT).solver(Solver.SINKHORN).sinkhorn(0, true, 1e-6, 10).build());
        assertEquals("[tokens] [mover] sinkhorn epsilon must be positive and finite but was [0.0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MoverRescorer.builder(FIELD, new byte[] {1, 2, 3}));
        assertTrue(e.getMessage().startsWith("[tokens] query value is invalid: [mover] token vectors are truncated"), e.getMessage());
    }

    @Test
    void testRescore_whenStoredValueCorrupt_thenNamedError() throws IOException {
        byte[] good = STORED[0];
        byte[][] bad = {
            esBinaryCount(2, good),                                  // two values: not a mover_tokens value
            Arrays.copyOf(esBinary(good).bytes, esBinary(good).length - 1), // length says more than follows
            corruptChecksum(good),
        };
        String[] messages = {
            "[t] doc [0]: stored value is neither a bare token-vector value nor one Elasticsearch binary value (value count [2])",
            "[t] doc [0]: Elasticsearch binary value length [" + good.length + "] does not match the [" + (good.length - 1) + "] bytes that follow",
            "[t] corrupt stored token vectors in doc [0]: [mover] token vectors are corrupt: checksum mismatch",
        };
        for (int k = 0; k < bad.length; k++) {
            try (Directory d = new ByteBuffersDirectory()) {
                try (IndexWriter w = new IndexWriter(d, new IndexWriterConfig())) {
                    Document doc = new Document();
                    doc.add(new BinaryDocValuesField("t", new BytesRef(bad[k])));
                    doc.add(new TextField("body", "alpha", Field.Store.NO));
                    w.addDocument(doc);
                }
                try (DirectoryReader rd = DirectoryReader.open(d)) {
                    IndexSearcher s = new IndexSearcher(rd);
                    TopDocs first = s.search(FIRST, 10);
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> MoverRescorer.builder("t", query, FINGERPRINT).build().rescore(s, first, 10));
                    assertEquals(messages[k], e.getMessage());
                }
            }
        }
    }

    private static byte[] esBinaryCount(int count, byte[] value) {
        BytesRef one = esBinary(value);
        byte[] b = Arrays.copyOfRange(one.bytes, one.offset, one.offset + one.length);
        b[0] = (byte) count;
        return b;
    }

    private static byte[] corruptChecksum(byte[] value) {
        byte[] b = value.clone();
        b[b.length - 1] ^= 1;
        return b;
    }

    @Test
    void testRescore_whenFirstPassRepeatsADoc_thenBothCopiesScoredOnce() throws IOException {
        TopDocs first = firstPass();
        ScoreDoc[] hits = Arrays.copyOf(first.scoreDocs, first.scoreDocs.length + 1);
        ScoreDoc dup = first.scoreDocs[3];
        hits[hits.length - 1] = new ScoreDoc(dup.doc, dup.score);
        TopDocs withDup = new TopDocs(first.totalHits, hits);
        MoverRescorer.Stats st = rescorer(Metric.WRD, false, Solver.EMD, 0, 1).prune(false).build()
            .rescoreWithStats(searcher, withDup, hits.length);
        List<Float> scores = new ArrayList<>();
        for (ScoreDoc h : st.topDocs().scoreDocs) {
            if (h.doc == dup.doc) {
                scores.add(h.score);
            }
        }
        assertEquals(2, scores.size());
        assertEquals(scores.get(0), scores.get(1));
        assertEquals(st.window() - st.missing(), st.exactSolves(), "the repeated hit is solved like any other");
    }

    @Test
    void testStats_whenSinkhornCapped_thenNotConvergedCounted() throws IOException {
        TopDocs first = firstPass();
        MoverRescorer.Stats st = MoverRescorer.builder(FIELD, query, FINGERPRINT).solver(Solver.SINKHORN)
            .sinkhorn(0.001, true, 1e-12, 2).prune(false).build().rescoreWithStats(searcher, first, 10);
        assertEquals(st.exactSolves(), st.notConverged());
        assertNotEquals(0, st.exactSolves());
    }
}
