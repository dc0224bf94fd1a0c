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
 * <p>Search (exact): order the pool by word centroid distance (WCD, a lower bound), compute the exact distance for
 * the first 19, then walk the order: stop when WCD reaches the current 19th distance, skip a document when
 * max(WCD, RWMD) exceeds it, else solve exactly. The speed-up is measured on the first {@value #BRUTE_DOCS} test
 * documents, each searched both ways one after the other on one thread (brute force: every pool document solved
 * exactly); {@code prune_speedup} is brute time / pruned time, and the note says whether both found the same
 * neighbours. The searches of the error figures run on {@code --threads} threads.
 */
final class KnnEval {

    static final int K_MAX = 19;
    static final int BRUTE_DOCS = 3;
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
        Enc[] poolEnc = encodeCached(pool, poolDocs, enc);
        for (Path test : files) {
            if (test.equals(pool)) {
                continue;
            }
            String name = EvalCli.datasetName(test);
            if (!opt.only().isEmpty() && !opt.only().contains(name)) {
                continue;
            }
            List<Doc> testDocs = read(test, opt.limit());
            Enc[] testEnc = encode(testDocs, enc, "encode " + name);
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
                note += String.format(Locale.ROOT, "; per test doc: %.1f exact solves, %.1f pruned by RWMD/WCD, %.1f never visited (WCD stop)",
                    (double) counters.exact.sum() / test.size(), (double) counters.pruned.sum() / test.size(),
                    pool.size() - (double) counters.visited.sum() / test.size());
            }
            figures.add("knn", name, system, "error", error, test.size(), note);
            if (!system.equals("pooled")) {
                // speed-up: the same documents searched both ways, one after the other on one thread
                int b = Math.min(BRUTE_DOCS, test.size());
                Search one = new Search(system, poolEnc, null);
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

    /** Nearest-neighbour search of one system over the pool. */
    static final class Search {
        final String system;
        final Enc[] pool;
        final OtScorer scorer;
        final java.util.concurrent.atomic.LongAdder exact;
        final java.util.concurrent.atomic.LongAdder pruned;
        final java.util.concurrent.atomic.LongAdder visited;

        /** A search with its own scorer (thread-confined) and counters shared with {@code counters} when given. */
        Search(String system, Enc[] pool, Search counters) {
            this.system = system;
            this.pool = pool;
            this.scorer = system.equals("pooled") ? null : OtScorer.builder(system.equals("wmd") ? Metric.WMD : Metric.WRD).build();
            this.exact = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.exact;
            this.pruned = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.pruned;
            this.visited = counters == null ? new java.util.concurrent.atomic.LongAdder() : counters.visited;
        }

        void resetCounters() {
            exact.reset();
            pruned.reset();
            visited.reset();
        }

        /** The k nearest candidates (pool indices), nearest first; ties by pool index. */
        int[] nearest(Enc q, int[] candidates, int k) {
            if (scorer == null) {
                double[] d = new double[candidates.length];
                for (int i = 0; i < candidates.length; i++) {
                    d[i] = 1 - StsEval.cosine(q.pooled(), pool[candidates[i]].pooled());
                }
                return topK(candidates, d, k);
            }
            OtScorer.Prepared pq = scorer.prepareQuery(q.tokens(), null);
            double[] wcd = new double[candidates.length];
            Integer[] order = new Integer[candidates.length];
            for (int i = 0; i < candidates.length; i++) {
                wcd[i] = wcd(q, pool[candidates[i]]);
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : Double.compare(wcd[a], wcd[b]) != 0
                ? Double.compare(wcd[a], wcd[b]) : Integer.compare(candidates[a], candidates[b]));
            int[] heapIdx = new int[k];
            double[] heapD = new double[k];
            int size = 0;
            for (Integer oi : order) {
                int c = candidates[oi];
                double kth = size < k ? Double.POSITIVE_INFINITY : heapD[size - 1];
                if (size == k && wcd[oi] > kth) {
                    break; // sorted by WCD: no later candidate can enter
                }
                visited.increment();
                OtScorer.Problem p = scorer.buildProblem(pq, pool[c].tokens(), null);
                if (size == k && Math.max(p.wcd(), p.rwmd()) > kth) {
                    pruned.increment();
                    continue;
                }
                double d = scorer.solve(p, 0).distance();
                exact.increment();
                size = insert(heapIdx, heapD, size, k, c, d);
            }
            return Arrays.copyOf(heapIdx, size);
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
     * Encodes the pool, reusing {@code target/eval-cache/<sha256 of file + model fingerprint>.bin} (the int8 codec
     * values and pooled vectors) when present.
     */
    static Enc[] encodeCached(Path file, List<Doc> docs, TextEncoder enc) throws IOException {
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
                    System.err.println("[eval knn] pool encodings read from " + cache);
                    return out;
                }
            }
        }
        Enc[] out = new Enc[docs.size()];
        Files.createDirectories(cache.getParent());
        Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
        try (DataOutputStream os = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            os.writeInt(docs.size());
            Progress p = new Progress("encode pool", docs.size());
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
