package dev.mover.bench.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.encoder.EncodedText;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./mover eval knn}: kNN document classification error (%) of WMD, WRD (over the int8-stored token vectors)
 * and pooled cosine, with Kusner et al.'s (2015) prefetch-and-prune search and its speed-up over brute force.
 *
 * <p>Layout: JSONL files of {@code {"id", "label", "text"}} records. The reference pool is the file whose name
 * contains {@code train} (else the largest); every other such file is a test set, named after its file.
 *
 * <p>Rules, fixed in advance: the pool is split deterministically, every 5th document (index mod 5 == 0) for
 * validation and the rest as reference; {@code k} is chosen per system from {1, 3, ..., 19} by the validation error
 * against the reference part (ties to the smaller k), then the test documents are classified against the whole
 * pool. With {@code --limit N}, at most N validation and N test documents are used. Vote: majority of the k
 * nearest, a tie goes to the tied class of the nearest neighbour.
 *
 * <p>Search (exact, see {@link Search#nearest}): order the pool by word centroid distance (WCD, a lower bound);
 * compute the RWMD bound of the first 4k in float and solve them exactly in the order of that bound, which bounds the
 * k-th distance from above; then walk the WCD order (stopping when WCD exceeds that k-th distance) computing the RWMD
 * bound in float (Panama Vector API kernel when {@code jdk.incubator.vector} is present, rounding allowed for), each
 * one stopped as soon as its query-to-document half passes the k-th distance; finally solve the survivors exactly in
 * the order of their bound, skipping those whose double-precision max(WCD, RWMD), c-transform dual or ICT bound
 * exceeds the current k-th distance. Every bound is a lower bound of the exact distance, so the neighbours are those of
 * brute force. The speed-up is measured on the first {@value #BRUTE_DOCS} test documents, each searched both ways one
 * after the other on one thread (brute force: every pool document solved exactly); {@code prune_speedup} is brute
 * time / pruned time, and the note says whether both found the same neighbours. The searches of the error figures run
 * on {@code --threads} threads. Test encodings are cached beside the pool's on a full run.
 */
final class KnnEval {

    static final int K_MAX = 19;
    static final int BRUTE_DOCS = 3;
    /** Documents solved exactly first, as a multiple of k, to bound the k-th distance before the RWMD pass. */
    static final int PROBE_FACTOR = 4;
    private static final ObjectMapper OM = new ObjectMapper();

    record Doc(String id, String label, String text) {}

    /** A document as the index stores it: pooled vector and int8-decoded token vectors. */
    record Enc(float[] pooled, TokenMatrix tokens, double[] centroidWmd, double[] centroidWrd) {}

    private final EvalCli.Options opt;
    private final Figures figures;
    private final Models models;

    KnnEval(EvalCli.Options opt, Figures figures, Models models) {
        this.opt = opt;
        this.figures = figures;
        this.models = models;
    }

    int run() throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(opt.data())) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                if (isLabelled(p)) {
                    files.add(p);
                }
            }
        }
        if (files.size() < 2) {
            System.err.println("[eval knn] need a pool and a test file of {id, label, text} JSONL in [" + opt.data() + "]");
            return 1;
        }
        Path pool = files.stream().filter(p -> p.getFileName().toString().contains("train")).findFirst()
            .orElse(files.stream().max((a, b) -> Long.compare(size(a), size(b))).orElseThrow());
        List<Doc> poolDocs = read(pool, 0);
        Lang lang = Lang.detect(poolDocs.subList(0, Math.min(200, poolDocs.size())).stream().map(Doc::text).toList());
        TextEncoder enc = models.get(lang);
        Enc[] poolEnc = encodeCached(pool, poolDocs, enc, "pool");
        for (Path test : files) {
            if (test.equals(pool)) {
                continue;
            }
            String name = EvalCli.datasetName(test);
            if (!opt.only().isEmpty() && !opt.only().contains(name)) {
                continue;
            }
            List<Doc> testDocs = read(test, opt.limit());
            // a full run caches the test encodings as the pool's; a limited one encodes only what it uses
            Enc[] testEnc = opt.limit() <= 0 ? encodeCached(test, testDocs, enc, name) : encode(testDocs, enc, "encode " + name);
            evaluate(name, poolDocs, poolEnc, testDocs, testEnc, enc.model().name());
        }
        return 0;
    }

    private void evaluate(String name, List<Doc> pool, Enc[] poolEnc, List<Doc> test, Enc[] testEnc, String model) {
        // deterministic split of the pool
        List<Integer> valIdx = new ArrayList<>();
        List<Integer> refIdx = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) {
            if (i % 5 == 0) {
                valIdx.add(i);
            } else {
                refIdx.add(i);
            }
        }
        if (opt.limit() > 0 && valIdx.size() > opt.limit()) {
            valIdx = valIdx.subList(0, opt.limit());
        }
        int[] all = new int[pool.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        int[] ref = refIdx.stream().mapToInt(Integer::intValue).toArray();
        for (String system : new String[] {"pooled", "wrd", "wmd"}) {
            Search counters = new Search(system, poolEnc, null);
            ThreadLocal<Search> local = ThreadLocal.withInitial(() -> new Search(system, poolEnc, counters));
            // choose k on the validation split
            int[] val = valIdx.stream().mapToInt(Integer::intValue).toArray();
            int[][] valNn = parallel("knn " + system + " validation", val.length, i -> local.get().nearest(poolEnc[val[i]], ref, K_MAX));
            long[] errs = new long[K_MAX + 1];
            for (int i = 0; i < val.length; i++) {
                for (int k = 1; k <= K_MAX; k += 2) {
                    if (!vote(pool, valNn[i], k).equals(pool.get(val[i]).label())) {
                        errs[k]++;
                    }
                }
            }
            int bestK = 1;
            for (int k = 3; k <= K_MAX; k += 2) {
                if (errs[k] < errs[bestK]) {
                    bestK = k;
                }
            }
            // test against the whole pool
            counters.resetCounters();
            long t0 = System.nanoTime();
            int[][] neighbours = parallel("knn " + system + " test " + name, test.size(), t -> local.get().nearest(testEnc[t], all, K_MAX));
            double secs = (System.nanoTime() - t0) / 1e9;
            long wrong = 0;
            for (int t = 0; t < test.size(); t++) {
                if (!vote(pool, neighbours[t], bestK).equals(test.get(t).label())) {
                    wrong++;
                }
            }
            double error = 100.0 * wrong / test.size();
            String note = String.format(Locale.ROOT, "model %s; k=%d chosen on %d validation docs (val error %.2f%%); %.2fs/test doc on %d threads",
                model, bestK, val.length, 100.0 * errs[bestK] / Math.max(1, val.length), secs / test.size(), opt.threads());
            if (!system.equals("pooled")) {
                note += String.format(Locale.ROOT, "; per test doc: %.1f exact solves, %.1f pruned by bounds (%.1f stopped early in the float"
                        + " RWMD), %.1f never visited (WCD stop); time %.0f%% float RWMD bounds (%s), %.0f%% exact solves",
                    (double) counters.exact.sum() / test.size(), (double) counters.pruned.sum() / test.size(),
                    (double) counters.abandoned.sum() / test.size(), pool.size() - (double) counters.visited.sum() / test.size(),
                    100.0 * counters.boundNanos.sum() / Math.max(1, counters.boundNanos.sum() + counters.exactNanos.sum()), dotsName(),
                    100.0 * counters.exactNanos.sum() / Math.max(1, counters.boundNanos.sum() + counters.exactNanos.sum()));
            }
            figures.add("knn", name, system, "error", error, test.size(), note);
            if (!system.equals("pooled")) {
                // speed-up: the same documents searched both ways, one after the other on one thread
                int b = Math.min(BRUTE_DOCS, test.size());
                Search one = new Search(system, poolEnc, counters.rows, null, DOTS);
                long bruteNanos = 0;
                long prunedNanos = 0;
                boolean same = true;
                Progress pb = new Progress("knn " + system + " brute force vs pruned", b);
                for (int t = 0; t < b; t++) {
                    long s0 = System.nanoTime();
                    int[] pr = one.nearest(testEnc[t], all, K_MAX);
                    long s1 = System.nanoTime();
                    int[] nn = one.bruteForce(testEnc[t], all, K_MAX);
                    long s2 = System.nanoTime();
                    prunedNanos += s1 - s0;
                    bruteNanos += s2 - s1;
                    same &= Arrays.equals(nn, pr) || one.sameDistances(testEnc[t], nn, pr);
                    pb.update(t + 1);
                }
                pb.done();
                figures.add("knn", name, system, "prune_speedup", (double) bruteNanos / Math.max(1, prunedNanos), b,
                    String.format(Locale.ROOT, "brute force %.2fs vs prefetch-and-prune %.2fs per doc (one thread, first %d test docs); neighbours %s",
                        bruteNanos / 1e9 / b, prunedNanos / 1e9 / b, b, same ? "identical" : "DIFFER"));
            }
        }
    }

    /** Runs {@code task} for 0..n-1 on {@code --threads} threads, with progress; results in index order. */
    private int[][] parallel(String label, int n, java.util.function.IntFunction<int[]> task) {
        int[][] out = new int[n][];
        Progress p = new Progress(label, n);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ForkJoinPool fj = new java.util.concurrent.ForkJoinPool(opt.threads());
        try {
            fj.submit(() -> java.util.stream.IntStream.range(0, n).parallel().forEach(i -> {
                out[i] = task.apply(i);
                p.update(done.incrementAndGet());
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("[eval knn] interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("[eval knn] search failed: " + e.getCause(), e.getCause());
        } finally {
            fj.shutdown();
        }
        p.done();
        return out;
    }

    /** Majority vote of the first k neighbours; ties to the tied class of the nearest. */
    static String vote(List<Doc> pool, int[] nn, int k) {
        Map<String, Integer> counts = new HashMap<>();
        int best = 0;
        for (int i = 0; i < Math.min(k, nn.length); i++) {
            best = Math.max(best, counts.merge(pool.get(nn[i]).label(), 1, Integer::sum));
        }
        for (int i = 0; i < Math.min(k, nn.length); i++) {
            String l = pool.get(nn[i]).label();
            if (counts.get(l) == best) {
                return l;
            }
        }
        return "";
    }

    /** Column padding of the transposed document rows (a multiple of every float vector length up to 512 bits). */
    static final int PAD = 16;

    /**
     * Dot products of float rows, the kernel of the RWMD bound: {@code out[(i - i0) * stride + j] = sum_c x[i*d+c] *
     * yt[c*stride+j]} for query rows {@code i0 <= i < i1} (row-major) and all {@code stride} columns of the
     * transposed document ({@code stride} a multiple of {@link #PAD}). Float arithmetic; the bound allows for its
     * rounding (see {@link #slack}).
     */
    interface Dots {
        void dots(float[] x, int i0, int i1, float[] yt, int stride, int d, float[] out);

        String name();
    }

    /** Plain loops (used when the Vector API module is absent). */
    static final class ScalarDots implements Dots {
        @Override
        public void dots(float[] x, int i0, int i1, float[] yt, int stride, int d, float[] out) {
            for (int i = i0; i < i1; i++) {
                int o = (i - i0) * stride;
                Arrays.fill(out, o, o + stride, 0f);
                for (int c = 0; c < d; c++) {
                    float xc = x[i * d + c];
                    int yo = c * stride;
                    for (int j = 0; j < stride; j++) {
                        out[o + j] += xc * yt[yo + j];
                    }
                }
            }
        }

        @Override
        public String name() {
            return "scalar";
        }
    }

    /**
     * The Panama Vector API kernel ({@code jdk.incubator.vector}, on the launcher's java command line): register
     * tiles of 4 query rows x 4 vectors of document columns, one broadcast and fused multiply-add per component.
     * Loaded by name only when the module is present.
     */
    static final class PanamaDots implements Dots {
        private static final jdk.incubator.vector.VectorSpecies<Float> S = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

        PanamaDots() {
            if (PAD % S.length() != 0) {
                throw new IllegalStateException("[eval knn] vector length [" + S.length() + "] does not divide the padding [" + PAD + "]");
            }
        }

        @Override
        public void dots(float[] x, int i0, int i1, float[] yt, int stride, int d, float[] out) {
            int l = S.length();
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                int j = 0;
                for (; j + 4 * l <= stride; j += 4 * l) {
                    tile4x4(x, i * d, yt, stride, d, j, out, (i - i0) * stride + j, l);
                }
                for (; j < stride; j += l) {
                    tile4x1(x, i * d, yt, stride, d, j, out, (i - i0) * stride + j);
                }
            }
            for (; i < i1; i++) {
                for (int j = 0; j < stride; j += l) {
                    jdk.incubator.vector.FloatVector acc = jdk.incubator.vector.FloatVector.zero(S);
                    for (int c = 0, xo = i * d; c < d; c++) {
                        acc = jdk.incubator.vector.FloatVector.fromArray(S, yt, c * stride + j)
                            .fma(jdk.incubator.vector.FloatVector.broadcast(S, x[xo + c]), acc);
                    }
                    acc.intoArray(out, (i - i0) * stride + j);
                }
            }
        }

        private static void tile4x4(float[] x, int xo, float[] yt, int stride, int d, int j, float[] out, int o, int l) {
            jdk.incubator.vector.FloatVector c00 = jdk.incubator.vector.FloatVector.zero(S);
            jdk.incubator.vector.FloatVector c01 = c00, c02 = c00, c03 = c00;
            jdk.incubator.vector.FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            jdk.incubator.vector.FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
            jdk.incubator.vector.FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
            for (int c = 0; c < d; c++) {
                int yo = c * stride + j;
                jdk.incubator.vector.FloatVector y0 = jdk.incubator.vector.FloatVector.fromArray(S, yt, yo);
                jdk.incubator.vector.FloatVector y1 = jdk.incubator.vector.FloatVector.fromArray(S, yt, yo + l);
                jdk.incubator.vector.FloatVector y2 = jdk.incubator.vector.FloatVector.fromArray(S, yt, yo + 2 * l);
                jdk.incubator.vector.FloatVector y3 = jdk.incubator.vector.FloatVector.fromArray(S, yt, yo + 3 * l);
                jdk.incubator.vector.FloatVector b = jdk.incubator.vector.FloatVector.broadcast(S, x[xo + c]);
                c00 = y0.fma(b, c00);
                c01 = y1.fma(b, c01);
                c02 = y2.fma(b, c02);
                c03 = y3.fma(b, c03);
                b = jdk.incubator.vector.FloatVector.broadcast(S, x[xo + d + c]);
                c10 = y0.fma(b, c10);
                c11 = y1.fma(b, c11);
                c12 = y2.fma(b, c12);
                c13 = y3.fma(b, c13);
                b = jdk.incubator.vector.FloatVector.broadcast(S, x[xo + 2 * d + c]);
                c20 = y0.fma(b, c20);
                c21 = y1.fma(b, c21);
                c22 = y2.fma(b, c22);
                c23 = y3.fma(b, c23);
                b = jdk.incubator.vector.FloatVector.broadcast(S, x[xo + 3 * d + c]);
                c30 = y0.fma(b, c30);
                c31 = y1.fma(b, c31);
                c32 = y2.fma(b, c32);
                c33 = y3.fma(b, c33);
            }
            c00.intoArray(out, o);
            c01.intoArray(out, o + l);
            c02.intoArray(out, o + 2 * l);
            c03.intoArray(out, o + 3 * l);
            o += stride;
            c10.intoArray(out, o);
            c11.intoArray(out, o + l);
            c12.intoArray(out, o + 2 * l);
            c13.intoArray(out, o + 3 * l);
            o += stride;
            c20.intoArray(out, o);
            c21.intoArray(out, o + l);
            c22.intoArray(out, o + 2 * l);
            c23.intoArray(out, o + 3 * l);
            o += stride;
            c30.intoArray(out, o);
            c31.intoArray(out, o + l);
            c32.intoArray(out, o + 2 * l);
            c33.intoArray(out, o + 3 * l);
        }

        private static void tile4x1(float[] x, int xo, float[] yt, int stride, int d, int j, float[] out, int o) {
            jdk.incubator.vector.FloatVector c0 = jdk.incubator.vector.FloatVector.zero(S);
            jdk.incubator.vector.FloatVector c1 = c0, c2 = c0, c3 = c0;
            for (int c = 0; c < d; c++) {
                jdk.incubator.vector.FloatVector y = jdk.incubator.vector.FloatVector.fromArray(S, yt, c * stride + j);
                c0 = y.fma(jdk.incubator.vector.FloatVector.broadcast(S, x[xo + c]), c0);
                c1 = y.fma(jdk.incubator.vector.FloatVector.broadcast(S, x[xo + d + c]), c1);
                c2 = y.fma(jdk.incubator.vector.FloatVector.broadcast(S, x[xo + 2 * d + c]), c2);
                c3 = y.fma(jdk.incubator.vector.FloatVector.broadcast(S, x[xo + 3 * d + c]), c3);
            }
            c0.intoArray(out, o);
            c1.intoArray(out, o + stride);
            c2.intoArray(out, o + 2 * stride);
            c3.intoArray(out, o + 3 * stride);
        }

        @Override
        public String name() {
            return "panama-" + S.vectorBitSize();
        }
    }

    private static final Dots DOTS = loadDots();

    /** The Panama kernel when {@code jdk.incubator.vector} is in the boot layer (and not disabled), else scalar. */
    private static Dots loadDots() {
        if (!"false".equals(System.getProperty("mover.simd")) && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                return (Dots) Class.forName(KnnEval.class.getName() + "$PanamaDots").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                System.err.println("[eval knn] Vector API kernel unavailable, using scalar loops: " + e);
            }
        }
        return new ScalarDots();
    }

    /** The kernel in use ({@code scalar} or {@code panama-<bits>}). */
    static String dotsName() {
        return DOTS.name();
    }

    /**
     * The rows of one side as the RWMD bound reads them: the positive-mass tokens in float (unit-normalised for WRD,
     * raw for WMD), their masses as {@link OtScorer} resolves them (WMD uniform, WRD proportional to the norm), and
     * for WMD their squared norms scaled down by the rounding allowance.
     */
    record Rows(float[] v, int n, int stride, double[] mass, double[] sqNorm) {

        /** These rows in the order {@code perm} (a permutation of 0..n-1). */
        Rows permute(int[] perm) {
            int d = v.length / Math.max(1, n);
            float[] pv = new float[v.length];
            double[] pm = new double[n];
            double[] ps = new double[n];
            for (int k = 0; k < n; k++) {
                System.arraycopy(v, perm[k] * d, pv, k * d, d);
                pm[k] = mass[perm[k]];
                ps[k] = sqNorm[perm[k]];
            }
            return new Rows(pv, n, stride, pm, ps);
        }

        /**
         * @param byMass   WRD: heaviest rows first (queries)
         * @param transpose store {@code d x stride} column-major with zero padding to a multiple of {@link #PAD}
         *                  (documents), else row-major {@code n x d}
         */
        static Rows of(TokenMatrix t, boolean wrd, boolean byMass, boolean transpose) {
            int rows = t.rows();
            int d = t.dims();
            double[] norm = new double[rows];
            double normSum = 0;
            int active = 0;
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    double x = t.get(r, c);
                    s += x * x;
                }
                norm[r] = Math.sqrt(s);
                normSum += norm[r];
                if (!wrd || norm[r] > 0) {
                    active++;
                }
            }
            Integer[] order = new Integer[active];
            for (int r = 0, k = 0; r < rows; r++) {
                if (!wrd || norm[r] > 0) {
                    order[k++] = r;
                }
            }
            if (byMass && wrd) {
                // heaviest first: the query->doc sum grows fastest, so the bound can stop early
                Arrays.sort(order, (a, b) -> norm[a] != norm[b] ? Double.compare(norm[b], norm[a]) : Integer.compare(a, b));
            }
            int stride = transpose ? (active + PAD - 1) / PAD * PAD : active;
            float[] v = new float[stride * d];
            double[] mass = new double[active];
            double[] sq = new double[active];
            double keep = 1 - slack(d);
            for (int k = 0; k < active; k++) {
                int r = order[k];
                double inv = wrd ? 1.0 / norm[r] : 1.0;
                double s = 0;
                for (int c = 0; c < d; c++) {
                    double x = t.get(r, c) * inv;
                    v[transpose ? c * stride + k : k * d + c] = (float) x;
                    s += x * x;
                }
                mass[k] = wrd ? norm[r] / normSum : 1.0 / rows;
                sq[k] = keep * s;
            }
            return new Rows(v, active, stride, mass, sq);
        }
    }

    /**
     * Relative rounding allowance of a float dot product of {@code d} components (inputs rounded to float, sums in
     * any order, with or without fused multiply-add): {@code |fl(x.y) - x.y| <= slack * |x| |y|}.
     */
    static double slack(int d) {
        return (d + 8) * 0x1p-24;
    }

    /** The pool of one system in float rows, shared (read-only) by the searches of all threads. */
    static final class FloatPool {
        final boolean wrd;
        final int dims;
        final Rows[] docs;

        FloatPool(String system, Enc[] pool) {
            this.wrd = system.equals("wrd");
            this.dims = pool.length == 0 ? 1 : pool[0].tokens().dims();
            this.docs = new Rows[pool.length];
            for (int i = 0; i < pool.length; i++) {
                docs[i] = Rows.of(pool[i].tokens(), wrd, false, true);
            }
        }
    }

    /** Nearest-neighbour search of one system over the pool. */
    static final class Search {
        final String system;
        final Enc[] pool;
        final FloatPool rows;
        final OtScorer scorer;
        final Dots dots;
        final java.util.concurrent.atomic.LongAdder exact;
        final java.util.concurrent.atomic.LongAdder pruned;
        final java.util.concurrent.atomic.LongAdder visited;
        final java.util.concurrent.atomic.LongAdder abandoned;
        /** Nanoseconds spent in the float RWMD bounds and in exact solves (with their cost matrices). */
        final java.util.concurrent.atomic.LongAdder boundNanos;
        final java.util.concurrent.atomic.LongAdder exactNanos;
        /** Query rows the float bounds computed, and the rows they would have computed without stopping early. */
        final java.util.concurrent.atomic.LongAdder rowsDone = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder rowsAll = new java.util.concurrent.atomic.LongAdder();
        private float[] out = new float[0];
        private double[] col = new double[0];

        /** A search with its own scorer (thread-confined) and counters shared with {@code counters} when given. */
        Search(String system, Enc[] pool, Search counters) {
            this(system, pool, counters == null ? (system.equals("pooled") ? null : new FloatPool(system, pool)) : counters.rows,
                counters, DOTS);
        }

        Search(String system, Enc[] pool, FloatPool rows, Search counters, Dots dots) {
            this.system = system;
            this.pool = pool;
            this.rows = rows;
            this.dots = dots;
            this.scorer = system.equals("pooled") ? null : OtScorer.builder(system.equals("wmd") ? Metric.WMD : Metric.WRD).build();
            this.exact = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.exact;
            this.pruned = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.pruned;
            this.visited = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.visited;
            this.abandoned = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.abandoned;
            this.boundNanos = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.boundNanos;
            this.exactNanos = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.exactNanos;
        }

        void resetCounters() {
            exact.reset();
            pruned.reset();
            visited.reset();
            abandoned.reset();
            boundNanos.reset();
            exactNanos.reset();
        }

        /**
         * The k nearest candidates (pool indices), nearest first; ties by pool index. Exact: (1) order by WCD and
         * solve the first k exactly, which bounds the k-th distance from above; (2) walk the WCD order until WCD
         * exceeds that bound, computing the RWMD bound in float for each document, stopped as soon as its
         * query-to-document half exceeds the bound; (3) solve the survivors exactly in the order of their bound,
         * stopping when the bound exceeds the current k-th distance, skipping any whose double-precision
         * max(WCD, RWMD) does.
         */
        int[] nearest(Enc q, int[] candidates, int k) {
            if (scorer == null) {
                double[] d = new double[candidates.length];
                for (int i = 0; i < candidates.length; i++) {
                    d[i] = 1 - StsEval.cosine(q.pooled(), pool[candidates[i]].pooled());
                }
                return topK(candidates, d, k);
            }
            OtScorer.Prepared pq = scorer.prepareQuery(q.tokens(), null);
            Rows qr = Rows.of(q.tokens(), rows.wrd, true, false);
            int nc = candidates.length;
            double[] wcd = new double[nc];
            for (int i = 0; i < nc; i++) {
                wcd[i] = wcd(q, pool[candidates[i]]);
            }
            int[] order = sortedBy(wcd, candidates);
            int[] heapIdx = new int[k];
            double[] heapD = new double[k];
            int size = 0;
            long t0 = System.nanoTime();
            // (1) the first PROBE_FACTOR * k by WCD: full RWMD bounds, which also give each query row's mean term
            int probe = Math.min(nc, PROBE_FACTOR * k);
            double[] rowTerms = new double[qr.n()];
            int[] surv = new int[nc];
            double[] survBound = new double[nc];
            for (int p = 0; p < probe; p++) {
                int oi = order[p];
                visited.increment();
                surv[p] = candidates[oi];
                survBound[p] = Math.max(wcd[oi], rwmdBound(qr, candidates[oi], Double.POSITIVE_INFINITY, rowTerms));
            }
            long t1 = System.nanoTime();
            size = solveInBoundOrder(pq, surv, survBound, probe, heapIdx, heapD, size, k);
            long t2 = System.nanoTime();
            // (2) the rest while WCD stays below the k-th distance so far: RWMD bounds with the query rows in the
            // order of their mean term, largest first, so the query-to-document half passes the limit early
            qr = qr.permute(sortedBy(negate(rowTerms), identity(qr.n())));
            double limit = size < k ? Double.POSITIVE_INFINITY : heapD[k - 1];
            int ns = 0;
            for (int p = probe; p < nc; p++) {
                int oi = order[p];
                if (wcd[oi] > limit) {
                    break; // sorted by WCD: no later candidate can enter
                }
                visited.increment();
                double lb = Math.max(wcd[oi], rwmdBound(qr, candidates[oi], limit));
                if (lb > limit) {
                    pruned.increment();
                    continue;
                }
                surv[ns] = candidates[oi];
                survBound[ns++] = lb;
            }
            long t3 = System.nanoTime();
            // (3) the survivors exactly, in the order of their bound
            size = solveInBoundOrder(pq, surv, survBound, ns, heapIdx, heapD, size, k);
            exactNanos.add(t2 - t1 + System.nanoTime() - t3);
            boundNanos.add(t1 - t0 + t3 - t2);
            return Arrays.copyOf(heapIdx, size);
        }

        /**
         * Solves {@code ids[0..n)} exactly in the order of {@code bound} (ties by pool index) into the heap, stopping
         * once the bound exceeds the k-th distance and skipping those whose double-precision max(WCD, RWMD) or ICT
         * bound does; returns the heap size.
         */
        private int solveInBoundOrder(OtScorer.Prepared pq, int[] ids, double[] bound, int n, int[] heapIdx, double[] heapD,
                                      int size, int k) {
            int[] so = sortedBy(Arrays.copyOf(bound, n), Arrays.copyOf(ids, n));
            for (int t = 0; t < n; t++) {
                int c = ids[so[t]];
                double kth = size < k ? Double.POSITIVE_INFINITY : heapD[k - 1];
                if (bound[so[t]] > kth) {
                    pruned.add(n - t);
                    break;
                }
                OtScorer.Problem pr = scorer.buildProblem(pq, pool[c].tokens(), null);
                if (Math.max(pr.wcd(), pr.rwmd()) > kth || ict(pr, kth) - 1e-9 > kth) {
                    pruned.increment();
                    continue;
                }
                exact.increment();
                size = insert(heapIdx, heapD, size, k, c, scorer.solve(pr, 0).distance());
            }
            return size;
        }

        /**
         * A lower bound of the distance between the query rows and pool document {@code doc}: max of the two RWMD
         * halves, from float dot products with every cost lowered by the rounding allowance {@link #slack}. The
         * query-to-document half is summed over query rows in blocks; once it exceeds {@code limit} the partial sum
         * (itself a lower bound) is returned.
         */
        double rwmdBound(Rows q, int doc, double limit) {
            return rwmdBound(q, doc, limit, null);
        }

        /** As {@link #rwmdBound(Rows, int, double)}, adding each query row's term {@code a_i min_j c_ij} to {@code rowTerms}. */
        double rwmdBound(Rows q, int doc, double limit, double[] rowTerms) {
            Rows y = rows.docs[doc];
            int n = q.n();
            int m = y.n();
            int d = rows.dims;
            int block = 8;
            int stride = y.stride();
            out = ArraysUtil.grow(out, block * stride);
            col = ArraysUtil.grow(col, m);
            boolean wrd = rows.wrd;
            double slack = slack(d);
            Arrays.fill(col, 0, m, wrd ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
            double rq = 0;
            for (int i0 = 0; i0 < n; i0 += block) {
                int i1 = Math.min(n, i0 + block);
                dots.dots(q.v(), i0, i1, y.v(), stride, d, out);
                for (int i = i0; i < i1; i++) {
                    int o = (i - i0) * stride;
                    if (wrd) {
                        // cost 1 - cos >= 1 - fl(u.v) - slack (unit rows)
                        double best = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < m; j++) {
                            double s = out[o + j];
                            best = s > best ? s : best;
                            col[j] = s > col[j] ? s : col[j];
                        }
                        double term = q.mass()[i] * clampCost(1 - best - slack);
                        rq += term;
                        if (rowTerms != null) {
                            rowTerms[i] += term;
                        }
                    } else {
                        // |x - y|^2 >= (1 - slack)(|x|^2 + |y|^2) - 2 fl(x.y)
                        double best = Double.POSITIVE_INFINITY;
                        double nx = q.sqNorm()[i];
                        double[] ny = y.sqNorm();
                        for (int j = 0; j < m; j++) {
                            double s2 = 2.0 * out[o + j];
                            double r = ny[j] - s2;
                            best = r < best ? r : best;
                            double cv = nx - s2;
                            col[j] = cv < col[j] ? cv : col[j];
                        }
                        double term = q.mass()[i] * Math.sqrt(Math.max(0, nx + best));
                        rq += term;
                        if (rowTerms != null) {
                            rowTerms[i] += term;
                        }
                    }
                }
                if (rq > limit) {
                    abandoned.increment();
                    rowsDone.add(i1);
                    rowsAll.add(n);
                    return rq;
                }
            }
            rowsDone.add(n);
            rowsAll.add(n);
            double rd = 0;
            for (int j = 0; j < m; j++) {
                rd += y.mass()[j] * (wrd ? clampCost(1 - col[j] - slack) : Math.sqrt(Math.max(0, col[j] + y.sqNorm()[j])));
            }
            return Math.max(rq, rd);
        }

        /**
         * The dual (c-transform) bound, and if that does not pass {@code limit}, the larger of it and Atasu and
         * Mittelholzer's (2019) ICT capacity bound ({@link OtScorer#capacityBound}); both at most the exact distance.
         */
        double ict(OtScorer.Problem pr, double limit) {
            double dual = dualBound(pr, limit);
            if (dual > limit) {
                return dual;
            }
            return Math.max(dual, scorer.capacityBound(pr));
        }

        private double[] pot = new double[0];

        /** Alternating c-transforms per start of {@link #dualBound}. */
        static final int DUAL_ROUNDS = 1;

        /**
         * A dual-feasible bound beyond RWMD by alternating c-transforms (block coordinate ascent on the dual): from
         * {@code u_i = min_j c_ij} (v = 0, the query-to-document RWMD), {@code v_j = min_i (c_ij - u_i)}, then
         * {@code u_i = min_j (c_ij - v_j)}, and so on; every step keeps {@code u_i + v_j <= c_ij} and does not lower
         * {@code sum a_i u_i + sum b_j v_j}, which by weak duality is at most the exact distance. Likewise from the
         * column minima; the larger value, returned early once above {@code limit}.
         */
        double dualBound(OtScorer.Problem pr, double limit) {
            int n = pr.n();
            int m = pr.m();
            double[] c = pr.cost();
            double[] a = pr.queryMasses();
            double[] b = pr.docMasses();
            pot = ArraysUtil.grow(pot, n + m);
            double best = 0;
            for (int side = 0; side < 2; side++) {
                // u in pot[0..n), v in pot[n..n+m); start with the other side's potentials at zero
                Arrays.fill(pot, 0, n + m, 0.0);
                boolean rowsNext = side == 0;
                for (int step = 0; step < 2 * DUAL_ROUNDS; step++) {
                    if (rowsNext) {
                        for (int i = 0; i < n; i++) {
                            double u = Double.POSITIVE_INFINITY;
                            for (int j = 0, o = i * m; j < m; j++) {
                                double r = c[o + j] - pot[n + j];
                                u = r < u ? r : u;
                            }
                            pot[i] = u;
                        }
                    } else {
                        for (int j = 0; j < m; j++) {
                            pot[n + j] = Double.POSITIVE_INFINITY;
                        }
                        for (int i = 0; i < n; i++) {
                            double u = pot[i];
                            for (int j = 0, o = i * m; j < m; j++) {
                                double r = c[o + j] - u;
                                pot[n + j] = r < pot[n + j] ? r : pot[n + j];
                            }
                        }
                    }
                    rowsNext = !rowsNext;
                    if (step == 0) {
                        continue; // one side only: the RWMD half, already known
                    }
                    double total = 0;
                    for (int i = 0; i < n; i++) {
                        total += a[i] * pot[i];
                    }
                    for (int j = 0; j < m; j++) {
                        total += b[j] * pot[n + j];
                    }
                    best = Math.max(best, total);
                    if (best > limit) {
                        return best;
                    }
                }
            }
            return best;
        }

        private static double clampCost(double c) {
            return c < 0 ? 0 : (c > 2 ? 2 : c);
        }

        /** Every candidate solved exactly. */
        int[] bruteForce(Enc q, int[] candidates, int k) {
            OtScorer.Prepared pq = scorer.prepareQuery(q.tokens(), null);
            double[] d = new double[candidates.length];
            for (int i = 0; i < candidates.length; i++) {
                d[i] = scorer.score(pq, pool[candidates[i]].tokens(), null, 0).distance();
            }
            return topK(candidates, d, k);
        }

        /** Whether two neighbour lists have the same distances (differences only among exact ties). */
        boolean sameDistances(Enc q, int[] a, int[] b) {
            if (a.length != b.length) {
                return false;
            }
            OtScorer.Prepared pq = scorer.prepareQuery(q.tokens(), null);
            for (int i = 0; i < a.length; i++) {
                double da = scorer.score(pq, pool[a[i]].tokens(), null, 0).distance();
                double db = scorer.score(pq, pool[b[i]].tokens(), null, 0).distance();
                if (Math.abs(da - db) > 1e-9 * Math.max(1, Math.abs(da))) {
                    return false;
                }
            }
            return true;
        }

        private double wcd(Enc q, Enc d) {
            double[] a = system.equals("wmd") ? q.centroidWmd() : q.centroidWrd();
            double[] b = system.equals("wmd") ? d.centroidWmd() : d.centroidWrd();
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                double t = a[i] - b[i];
                s += t * t;
            }
            // WMD: Euclidean distance of the mean vectors; WRD: 0.5 |u - v|^2 of the mass-weighted unit centroids
            // (Jensen), as the scoring module's bound; a little slack keeps the early stop safe from rounding.
            return (system.equals("wmd") ? Math.sqrt(s) : 0.5 * s) - 1e-9;
        }
    }

    private static double[] negate(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = -a[i];
        }
        return r;
    }

    private static int[] identity(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    /** Positions 0..n-1 sorted by {@code key}, ties by {@code id}. */
    private static int[] sortedBy(double[] key, int[] id) {
        Integer[] o = new Integer[key.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = i;
        }
        Arrays.sort(o, (a, b) -> key[a] != key[b] ? Double.compare(key[a], key[b]) : Integer.compare(id[a], id[b]));
        int[] r = new int[o.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = o[i];
        }
        return r;
    }

    /** Grows a buffer (contents not kept). */
    private static final class ArraysUtil {
        static float[] grow(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length * 2)];
        }

        static double[] grow(double[] a, int n) {
            return a.length >= n ? a : new double[Math.max(n, a.length * 2)];
        }
    }

    private static int insert(int[] idx, double[] dist, int size, int k, int c, double d) {
        if (size == k && !(d < dist[size - 1] || (d == dist[size - 1] && c < idx[size - 1]))) {
            return size;
        }
        int pos = size == k ? k - 1 : size;
        while (pos > 0 && (dist[pos - 1] > d || (dist[pos - 1] == d && idx[pos - 1] > c))) {
            dist[pos] = dist[pos - 1];
            idx[pos] = idx[pos - 1];
            pos--;
        }
        dist[pos] = d;
        idx[pos] = c;
        return size == k ? k : size + 1;
    }

    private static int[] topK(int[] candidates, double[] d, int k) {
        int[] idx = new int[k];
        double[] dist = new double[k];
        int size = 0;
        for (int i = 0; i < candidates.length; i++) {
            size = insert(idx, dist, size, k, candidates[i], d[i]);
        }
        return Arrays.copyOf(idx, size);
    }

    private static boolean isLabelled(Path p) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            String line = r.readLine();
            if (line == null) {
                return false;
            }
            try {
                JsonNode n = OM.readTree(line);
                return n.isObject() && n.has("label") && n.get("label").isTextual() && n.has("text") && n.get("text").isTextual();
            } catch (IOException e) {
                return false;
            }
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    static List<Doc> read(Path f, int limit) throws IOException {
        List<Doc> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null && (limit <= 0 || out.size() < limit)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = OM.readTree(line);
                out.add(new Doc(n.path("id").asText(String.valueOf(out.size())), n.get("label").asText(), n.get("text").asText()));
            }
        }
        return out;
    }

    private static Enc[] encode(List<Doc> docs, TextEncoder enc, String label) {
        Enc[] out = new Enc[docs.size()];
        Progress p = new Progress(label, docs.size());
        int chunk = 128;
        for (int from = 0; from < docs.size(); from += chunk) {
            int to = Math.min(docs.size(), from + chunk);
            List<String> texts = docs.subList(from, to).stream().map(Doc::text).toList();
            List<EncodedText> e = enc.encodeBatch(texts);
            for (int i = from; i < to; i++) {
                EncodedText t = e.get(i - from);
                byte[] bytes = EncodedTextCodec.encode(t, TokenVectorCodec.Encoding.INT8, enc.fingerprint());
                out[i] = enc(t.pooled(), bytes);
            }
            p.update(to);
        }
        p.done();
        return out;
    }

    private static Enc enc(float[] pooled, byte[] codecBytes) {
        TokenVectorCodec.Decoded dec = TokenVectorCodec.decode(codecBytes, 0, codecBytes.length);
        return enc(pooled, dec.vectors(), dec.tokens(), dec.dims());
    }

    /** A document from its pooled vector and {@code n x d} token vectors, with both WCD centroids. */
    static Enc enc(float[] pooled, float[] v, int n, int d) {
        double[] cWmd = new double[d];
        double[] cWrd = new double[d];
        double normSum = 0;
        for (int t = 0; t < n; t++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += (double) v[t * d + c] * v[t * d + c];
                cWmd[c] += v[t * d + c];
                cWrd[c] += v[t * d + c];
            }
            normSum += Math.sqrt(s);
        }
        for (int c = 0; c < d; c++) {
            cWmd[c] = n == 0 ? 0 : cWmd[c] / n;
            cWrd[c] = normSum == 0 ? 0 : cWrd[c] / normSum; // sum_t (|x_t| / sum|x|) * x_t / |x_t|
        }
        return new Enc(pooled, TokenMatrix.of(v, n, d), cWmd, cWrd);
    }

    /**
     * Encodes a file's documents (the pool, or a test file on a full run), reusing {@code
     * target/eval-cache/knn-<sha256 of file + model fingerprint>.bin} (the int8 codec values and pooled vectors) when
     * present; {@code label} names it in the progress line.
     */
    static Enc[] encodeCached(Path file, List<Doc> docs, TextEncoder enc, String label) throws IOException {
        String key;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            md.update(Long.toString(enc.fingerprint()).getBytes(StandardCharsets.UTF_8));
            key = HexFormat.of().formatHex(md.digest()).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path cache = Path.of(System.getProperty("mover.cache.dir", "target/eval-cache"), "knn-" + key + ".bin");
        if (Files.isRegularFile(cache)) {
            try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache), 1 << 20))) {
                int n = in.readInt();
                if (n == docs.size()) {
                    Enc[] out = new Enc[n];
                    for (int i = 0; i < n; i++) {
                        float[] pooled = new float[in.readInt()];
                        for (int k = 0; k < pooled.length; k++) {
                            pooled[k] = in.readFloat();
                        }
                        byte[] b = new byte[in.readInt()];
                        in.readFully(b);
                        out[i] = enc(pooled, b);
                    }
                    System.err.println("[eval knn] " + label + " encodings read from " + cache);
                    return out;
                }
            }
        }
        Enc[] out = new Enc[docs.size()];
        Files.createDirectories(cache.getParent());
        Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
        try (DataOutputStream os = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            os.writeInt(docs.size());
            Progress p = new Progress("encode " + label, docs.size());
            int chunk = 128;
            for (int from = 0; from < docs.size(); from += chunk) {
                int to = Math.min(docs.size(), from + chunk);
                List<EncodedText> e = enc.encodeBatch(docs.subList(from, to).stream().map(Doc::text).toList());
                for (int i = from; i < to; i++) {
                    EncodedText t = e.get(i - from);
                    byte[] bytes = EncodedTextCodec.encode(t, TokenVectorCodec.Encoding.INT8, enc.fingerprint());
                    os.writeInt(t.pooled().length);
                    for (float f : t.pooled()) {
                        os.writeFloat(f);
                    }
                    os.writeInt(bytes.length);
                    os.write(bytes);
                    out[i] = enc(t.pooled(), bytes);
                }
                p.update(to);
            }
            p.done();
        }
        Files.move(tmp, cache, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return out;
    }
}
