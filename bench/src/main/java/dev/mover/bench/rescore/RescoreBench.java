package dev.mover.bench.rescore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.bench.eval.Figures;
import dev.mover.bench.eval.RankMetrics;
import dev.mover.bench.eval.RetrievalEval;
import dev.mover.bench.node.EsHome;
import dev.mover.bench.node.LocalNode;
import dev.mover.encoder.EncodedText;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.tokenize.BertTokenizer;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.PartialTransport;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;
import dev.mover.scoring.codec.TokenVectorCodec;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./mover bench rescore [--data DIR] [--queries N] [--json FILE]}: end-to-end latency of the {@code mover}
 * rescorer on a real node, beside POT (Python Optimal Transport) on the same (query, hit) pairs in the same run
 * (issue 6, "What it must show").
 *
 * <p>Steps: cut the first passages of a BEIR corpus ({@code corpus.jsonl}) to about {@code --tokens} model tokens,
 * index them through the {@code mover_encode} pipeline of a local node (kept under {@code .mover/rescore-node}, so
 * the index is reused by later runs), keep the queries for which BM25 returns at least {@code --window} hits, then for
 * each query time the {@code _search} call (client wall time and ES {@code took}) of BM25 alone and of BM25 + mover
 * rescoring of the window for wrd/emd, wmd/emd, wrd/sinkhorn, wmd/sinkhorn, wrd partial transport (doc_mass auto) and
 * maxsim, each with and without pruning.
 * {@code _mover/stats} deltas give the share of exact solves skipped by pruning; the top-{@code size} ids with and
 * without pruning are compared.
 *
 * <p>For the solver-to-solver comparison the same pairs are encoded in this process (the query as the node encodes
 * it, in float; each hit round-tripped through the int8 codec exactly as stored), scored by {@link OtScorer} (all hits,
 * no pruning) and written to a temporary folder that {@code bench/src/main/python/pot_rescore.py} (run by the python3
 * with POT named by {@code -Dmover.python}, which {@code ./mover} finds) reads and times: per query, the loop over its
 * hits of masses + cost matrix +
 * {@code ot.emd2} or {@code ot.sinkhorn2(method='sinkhorn_log')}, one thread.
 */
public final class RescoreBench {

    static final String USAGE = String.join("\n",
        "usage: mover bench rescore [options]",
        "  --data DIR        BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv); default ../shared/data/retrieval-scifact",
        "  --queries N       measured queries (default 50), after --warmup W more (default 5)",
        "  --docs N          passages indexed (default 2000), each cut to about --tokens model tokens (default 128)",
        "  --window N        rescore window = BM25 hits each query must have (default 100); result size --size (default 10)",
        "  --repeats R       in-process Java and POT loops: median of R timed runs per query (default 3)",
        "  --json FILE       also write the figures as mover-figures/1 JSON",
        "  --url URL         use this running node (with the plugin) instead of starting one",
        "  --no-pot          skip the POT column",
        "  --simd            Panama cost kernels in the node (JVM option --add-modules=jdk.incubator.vector) and in the",
        "                    in-process Java loop (default: scalar in both, as a JDK 17 node without that option runs;",
        "                    see 'cost kernels [...]' in the node log)",
        "  --node-repeats R  node searches: each system R times per query (in shuffled rounds), latency = median of R",
        "                    (default 1: single shots; the in-process and POT loops always take the median of --repeats)",
        "  --only P1,P2      only these pairs (wrd-emd, wmd-emd, wrd-sinkhorn, wmd-sinkhorn, wrd-partial, maxsim), e.g. to",
        "                    profile one (wrd-partial: doc_mass auto, exact; POT: ot.partial.partial_wasserstein2)",
        "  --node-jvm-option OPT  one more JVM option for the started node (repeatable), e.g.",
        "                    -XX:StartFlightRecording=filename=node.jfr,settings=profile",
        "  -Dmover.models.dir=DIR  models directory (default encoder/target/models)");

    private static final ObjectMapper OM = new ObjectMapper();
    private static final String TASK = "rescore-bench";
    private static final String MODEL = "all-minilm-l6-v2";
    /** Sinkhorn parameters sent to the node and used by the Java and POT loops (the plugin's defaults). */
    static final double SK_EPSILON = 0.05;
    static final double SK_TOLERANCE = 1e-6;
    static final int SK_MAX_ITERATIONS = 1000;

    /**
     * One rescoring configuration. Solver {@code partial} is exact partial transport ({@code "doc_mass": "auto"} with
     * the exact solver): the query's mass all moves, each document token takes at most {@code b_j / s},
     * {@code s = min(1, n / m)}.
     */
    record Config(String metric, String solver, boolean prune) {
        String pair() {
            return metric.equals("maxsim") ? "maxsim" : metric + "-" + solver;
        }

        String system() {
            return "bm25+" + pair() + (prune ? "-prune" : "-noprune");
        }
    }

    /** Options. */
    record Options(Path data, int queries, int warmup, int docs, int tokens, int window, int size, int repeats, Path json,
                   String url, boolean pot, boolean simd, List<String> nodeJvmOptions, List<String> only, int nodeRepeats) {}

    private final Options opt;
    private final Figures figures;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private URI base;

    private RescoreBench(Options opt, Figures figures) {
        this.opt = opt;
        this.figures = figures;
    }

    /** Runs the benchmark; returns the exit code. */
    public static int run(String[] args) throws Exception {
        Options opt;
        try {
            opt = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        if (opt == null) {
            System.out.println(USAGE);
            return 0;
        }
        if (!opt.simd()) {
            // read once when the scoring module first scores (nothing has yet): the in-process loop uses the node's kernels
            System.setProperty("mover.simd", "false");
        }
        long t0 = System.nanoTime();
        Figures figures = new Figures("mover bench rescore " + String.join(" ", args));
        // the ratio to POT depends on what else runs: POT's Python loop slows more under load than the node does
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double loadStart = os.getSystemLoadAverage();
        int rc = new RescoreBench(opt, figures).runBench();
        double loadEnd = os.getSystemLoadAverage();
        String cpus = os.getAvailableProcessors() + " processors";
        figures.add(TASK, "machine", "machine", "load_avg_1m_start", loadStart, 1, cpus + "; 1-minute load average as the run began");
        figures.add(TASK, "machine", "machine", "load_avg_1m_end", loadEnd, 1, cpus + "; 1-minute load average as the run ended");
        System.err.printf(Locale.ROOT, "[bench rescore] 1-minute load average %.2f at start, %.2f at end (%s)%n", loadStart,
            loadEnd, cpus);
        System.out.print(table(figures));
        if (opt.json() != null) {
            figures.writeJson(opt.json());
            System.err.println("[bench rescore] figures written to " + opt.json());
        }
        System.err.printf(Locale.ROOT, "[bench rescore] wall time %.0fs%n", (System.nanoTime() - t0) / 1e9);
        return rc;
    }

    static Options parse(String[] args) {
        Path root = Path.of(System.getProperty("mover.root", "."));
        Path data = root.resolve("../shared/data/retrieval-scifact").normalize();
        int queries = 50;
        int warmup = 5;
        int docs = 2000;
        int tokens = 128;
        int window = 100;
        int size = 10;
        int repeats = 3;
        Path json = null;
        String url = null;
        boolean pot = true;
        boolean simd = false;
        List<String> nodeJvm = new ArrayList<>();
        List<String> only = List.of();
        int nodeRepeats = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--no-pot" -> pot = false;
                case "--simd" -> simd = true;
                case "--data", "--queries", "--warmup", "--docs", "--tokens", "--window", "--size", "--repeats", "--json", "--url",
                     "--node-jvm-option", "--only", "--node-repeats" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("[" + a + "] needs a value");
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--data" -> data = Path.of(v);
                        case "--queries" -> queries = positive(a, v);
                        case "--warmup" -> warmup = nonNegative(a, v);
                        case "--docs" -> docs = positive(a, v);
                        case "--tokens" -> tokens = positive(a, v);
                        case "--window" -> window = positive(a, v);
                        case "--size" -> size = positive(a, v);
                        case "--repeats" -> repeats = positive(a, v);
                        case "--json" -> json = Path.of(v);
                        case "--node-jvm-option" -> nodeJvm.add(v);
                        case "--node-repeats" -> nodeRepeats = positive(a, v);
                        case "--only" -> {
                            only = List.of(v.split(","));
                            List<String> known = configs().stream().map(Config::pair).distinct().toList();
                            for (String o : only) {
                                if (!known.contains(o)) {
                                    throw new IllegalArgumentException("[--only] unknown pair [" + o + "], known " + known);
                                }
                            }
                        }
                        default -> url = v;
                    }
                }
                default -> throw new IllegalArgumentException("[bench rescore] unknown argument [" + a + "]");
            }
        }
        if (size > window) {
            throw new IllegalArgumentException("[--size] [" + size + "] must not exceed [--window] [" + window + "]");
        }
        return new Options(data, queries, warmup, docs, tokens, window, size, repeats, json, url, pot, simd, List.copyOf(nodeJvm), only, nodeRepeats);
    }

    private static int positive(String name, String v) {
        int n = nonNegative(name, v);
        if (n < 1) {
            throw new IllegalArgumentException("[" + name + "] must be at least [1] but was [" + v + "]");
        }
        return n;
    }

    private static int nonNegative(String name, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new IllegalArgumentException("[" + name + "] must not be negative but was [" + v + "]");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("[" + name + "] must be an integer but was [" + v + "]");
        }
    }

    /** The configurations this run measures: all, or those of {@code --only}. */
    private List<Config> selected() {
        return configs().stream().filter(c -> opt.only().isEmpty() || opt.only().contains(c.pair())).toList();
    }

    static List<Config> configs() {
        List<Config> out = new ArrayList<>();
        String[][] pairs = {{"wrd", "emd"}, {"wmd", "emd"}, {"wrd", "sinkhorn"}, {"wmd", "sinkhorn"}, {"wrd", "partial"},
            {"maxsim", "emd"}};
        for (String[] p : pairs) {
            out.add(new Config(p[0], p[1], true));
            out.add(new Config(p[0], p[1], false));
        }
        return out;
    }

    // -------------------------------------------------------------------------------------------------------------

    private int runBench() throws Exception {
        RetrievalEval.Layout layout = RetrievalEval.layout(opt.data());
        if (layout == null) {
            System.err.println("[bench rescore] no BEIR layout (corpus/queries JSONL with _id and text, qrels.tsv) in ["
                + opt.data() + "]");
            return 1;
        }
        Path modelDir = Path.of(System.getProperty("mover.models.dir", "encoder/target/models")).resolve(MODEL);
        if (!Files.isDirectory(modelDir)) {
            System.err.println("[bench rescore] model directory [" + modelDir.toAbsolutePath()
                + "] does not exist; build it with `mvn -pl encoder -am package` or set -Dmover.models.dir");
            return 1;
        }
        String dataset = opt.data().toAbsolutePath().normalize().getFileName().toString().replaceFirst("^retrieval-", "")
            + "-" + opt.tokens();
        try (TextEncoder enc = TextEncoder.open(modelDir, EncoderConfig.builder().intraOpThreads(2).build())) {
            BertTokenizer tok = BertTokenizer.load(enc.model().tokenizerPath());
            Map<String, String> passages = passages(layout.corpus(), tok);
            List<String[]> allQueries = new ArrayList<>();
            for (JsonNode n : RetrievalEval.jsonl(layout.queries())) {
                allQueries.add(new String[] {n.get("_id").asText(), n.get("text").asText()});
            }
            String index = "rescore-" + dataset.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-") + "-"
                + indexKey(passages, enc);

            LocalNode node = null;
            Path work = Path.of(System.getProperty("mover.root", ".")).resolve(".mover/rescore-node");
            if (opt.url() != null) {
                base = URI.create(opt.url());
            } else {
                LocalNode.refuseRoot();
                Path dist = Path.of(required("mover.es.distribution"));
                Path plugin = Path.of(required("mover.plugin.zip"));
                EsHome home = EsHome.prepare(dist, List.of(plugin), EsHome.JAVA_17, work.resolve("home"));
                System.err.println("[bench rescore] starting a local node under " + work);
                LocalNode.Config cfg = LocalNode.config(work.resolve("node")).javaHome(EsHome.JAVA_17)
                    .clusterName("mover-rescore-bench").nodeName("rescore").heap("1g").reuseData(true);
                if (opt.simd()) {
                    cfg.jvmOption("--add-modules=jdk.incubator.vector");
                }
                opt.nodeJvmOptions().forEach(cfg::jvmOption);
                node = LocalNode.start(home, cfg);
                base = node.httpUri();
            }
            try {
                Map<String, String[]> corpus = new LinkedHashMap<>();
                passages.forEach((id, text) -> corpus.put(id, new String[] {"", text}));
                Figures indexFigures = new Figures(figures.command());
                RetrievalEval.ensureIndex(base, index, enc, corpus, dataset, indexFigures);
                for (Figures.Record r : indexFigures.records()) {
                    figures.add(TASK, dataset, "index", r.metric(), r.value(), r.n(), r.note());
                }
                List<Query> queries = selectQueries(index, allQueries);
                if (queries.size() < 2) {
                    System.err.println("[bench rescore] only [" + queries.size() + "] queries have [" + opt.window()
                        + "] BM25 hits; index more documents (--docs)");
                    return 1;
                }
                NodeResults node0 = measureNode(index, dataset, queries);
                InProcess java = inProcess(enc, passages, queries, work.resolve("vectors-" + index + ".bin"));
                if (node != null) {
                    node.stop(Duration.ofSeconds(60));
                    node = null;
                }
                report(dataset, queries, node0, java);
            } finally {
                if (node != null) {
                    node.stop(Duration.ofSeconds(60));
                }
            }
        }
        return 0;
    }

    /** One selected query: its text, the ids of its BM25 window (in BM25 order) and whether it only warms up. */
    record Query(String id, String text, List<String> window, boolean warmup) {}

    /** The first passages of the corpus (title + text) cut at a word boundary to at most {@code --tokens} tokens. */
    private Map<String, String> passages(Path corpusFile, BertTokenizer tok) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        int minTokens = opt.tokens() * 3 / 4;
        long tokenSum = 0;
        for (JsonNode n : RetrievalEval.jsonl(corpusFile)) {
            if (out.size() >= opt.docs()) {
                break;
            }
            String title = n.path("title").asText("");
            String text = n.path("text").asText("");
            String body = title.isEmpty() ? text : title + "\n" + text;
            BertTokenizer.Tokens t = tok.tokenize(body, opt.tokens());
            if (t.size() > opt.tokens()) {
                int cut = opt.tokens();
                int[] ids = t.ids();
                while (cut > 0 && tok.token(ids[cut]) != null && tok.token(ids[cut]).startsWith("##")) {
                    cut--;
                }
                body = body.substring(0, t.starts()[cut]).strip();
            }
            int size = tok.tokenize(body).size();
            if (size < minTokens) {
                continue; // keep the passages about --tokens long
            }
            tokenSum += size;
            out.put(n.get("_id").asText(), body);
        }
        System.err.printf(Locale.ROOT, "[bench rescore] %d passages, %.1f tokens on average (at most %d)%n", out.size(),
            (double) tokenSum / Math.max(1, out.size()), opt.tokens());
        return out;
    }

    private List<Query> selectQueries(String index, List<String[]> all) throws Exception {
        List<Query> out = new ArrayList<>();
        int skipped = 0;
        int wanted = opt.warmup() + opt.queries();
        for (String[] q : all) {
            if (out.size() >= wanted) {
                break;
            }
            ObjectNode body = OM.createObjectNode();
            body.put("size", opt.window());
            body.put("_source", false);
            body.put("track_total_hits", true);
            body.putObject("query").putObject("match").put("body", q[1]);
            JsonNode r = call("POST", "/" + index + "/_search", OM.writeValueAsString(body));
            List<String> ids = new ArrayList<>();
            for (JsonNode h : r.path("hits").path("hits")) {
                ids.add(h.path("_id").asText());
            }
            if (ids.size() < opt.window()) {
                skipped++;
                continue;
            }
            out.add(new Query(q[0], q[1], ids, out.size() < opt.warmup()));
        }
        System.err.printf(Locale.ROOT, "[bench rescore] %d queries (%d warm-up), %d skipped with fewer than %d BM25 hits%n",
            out.size(), Math.min(out.size(), opt.warmup()), skipped, opt.window());
        return out;
    }

    // ------------------------------------------------------------------------------------------------- node

    /** Per measured query and system: client wall ms, took ms, top ids and scores; pruning counters per config. */
    static final class NodeResults {
        final Map<String, double[]> wall = new LinkedHashMap<>();
        final Map<String, double[]> took = new LinkedHashMap<>();
        final Map<String, List<List<String>>> top = new HashMap<>();
        final Map<String, List<double[]>> scores = new HashMap<>();
        final Map<String, long[]> solves = new HashMap<>(); // {exact, skipped, hits, query encodings}
        double[] coldWall;
    }

    private NodeResults measureNode(String index, String dataset, List<Query> queries) throws Exception {
        List<Config> configs = selected();
        List<String> systems = new ArrayList<>(List.of("bm25"));
        configs.forEach(c -> systems.add(c.system()));
        int measured = (int) queries.stream().filter(q -> !q.warmup()).count();
        NodeResults res = new NodeResults();
        for (String s : systems) {
            res.wall.put(s, new double[measured]);
            res.took.put(s, new double[measured]);
            res.top.put(s, new ArrayList<>());
            res.scores.put(s, new ArrayList<>());
            res.solves.put(s, new long[4]);
        }
        res.coldWall = new double[measured];
        Random rnd = new Random(42);
        long t0 = System.nanoTime();
        long lastPrint = t0;
        int mi = 0;
        for (int qi = 0; qi < queries.size(); qi++) {
            Query q = queries.get(qi);
            // the node caches encoded query texts: the first rescored search of a text pays its encoding (timed apart)
            long c0 = System.nanoTime();
            search(index, q.text(), new Config("maxsim", "emd", false));
            double coldMs = (System.nanoTime() - c0) / 1e6;
            Map<String, double[]> wallRuns = new HashMap<>();
            Map<String, double[]> tookRuns = new HashMap<>();
            Map<String, JsonNode> last = new HashMap<>();
            int reps = opt.nodeRepeats();
            for (int rep = 0; rep < reps; rep++) {
                List<String> order = new ArrayList<>(systems);
                Collections.shuffle(order, rnd); // no system always runs first or right after another
                for (String s : order) {
                    Config c = s.equals("bm25") ? null : configs.get(systems.indexOf(s) - 1);
                    Map<String, Long> before = c == null || q.warmup() ? null : stats();
                    long s0 = System.nanoTime();
                    JsonNode r = search(index, q.text(), c);
                    double ms = (System.nanoTime() - s0) / 1e6;
                    if (q.warmup()) {
                        continue;
                    }
                    if (before != null) {
                        Map<String, Long> after = stats();
                        long[] sv = res.solves.get(s);
                        sv[0] += after.get("exact_solves") - before.get("exact_solves");
                        sv[1] += after.get("solves_skipped_by_pruning") - before.get("solves_skipped_by_pruning");
                        sv[2] += after.get("hits_rescored") - before.get("hits_rescored");
                        sv[3] += after.get("queries_encoded") - before.get("queries_encoded");
                    }
                    wallRuns.computeIfAbsent(s, k -> new double[reps])[rep] = ms;
                    tookRuns.computeIfAbsent(s, k -> new double[reps])[rep] = r.path("took").asDouble();
                    last.put(s, r);
                }
            }
            if (!q.warmup()) {
                for (String s : systems) {
                    double[] w = wallRuns.get(s);
                    double[] t = tookRuns.get(s);
                    Arrays.sort(w);
                    Arrays.sort(t);
                    res.wall.get(s)[mi] = w[reps / 2];
                    res.took.get(s)[mi] = t[reps / 2];
                    List<String> ids = new ArrayList<>();
                    List<Double> sc = new ArrayList<>();
                    for (JsonNode h : last.get(s).path("hits").path("hits")) {
                        ids.add(h.path("_id").asText());
                        sc.add(h.path("_score").asDouble());
                    }
                    res.top.get(s).add(ids);
                    res.scores.get(s).add(sc.stream().mapToDouble(Double::doubleValue).toArray());
                }
            }
            if (!q.warmup()) {
                res.coldWall[mi++] = coldMs;
            }
            long now = System.nanoTime();
            if (now - lastPrint > 2_000_000_000L || qi + 1 == queries.size()) {
                lastPrint = now;
                System.err.printf(Locale.ROOT, "\r[bench rescore] searches: query %d/%d (%.0fs)   ", qi + 1, queries.size(),
                    (now - t0) / 1e9);
            }
        }
        System.err.println();
        return res;
    }

    private JsonNode search(String index, String text, Config c) throws Exception {
        ObjectNode root = OM.createObjectNode();
        root.put("size", opt.size());
        root.put("_source", false);
        root.putObject("query").putObject("match").put("body", text);
        if (c != null) {
            ObjectNode rescore = root.putObject("rescore");
            rescore.put("window_size", opt.window());
            ObjectNode mover = rescore.putObject("mover");
            mover.put("field", "body_tokens");
            mover.put("query_text", text);
            mover.put("metric", c.metric());
            if (c.solver().equals("partial")) {
                mover.put("solver", "emd");
                mover.put("doc_mass", "auto");
            } else if (!c.metric().equals("maxsim")) {
                mover.put("solver", c.solver());
            }
            if (c.solver().equals("sinkhorn")) {
                ObjectNode sk = mover.putObject("sinkhorn");
                sk.put("epsilon", SK_EPSILON);
                sk.put("epsilon_relative_to", "max_cost");
                sk.put("tolerance", SK_TOLERANCE);
                sk.put("max_iterations", SK_MAX_ITERATIONS);
            }
            mover.put("prune", c.prune());
            mover.put("query_weight", 0.0);
            mover.put("rescore_query_weight", 1.0);
        }
        return call("POST", "/" + index + "/_search", OM.writeValueAsString(root));
    }

    private Map<String, Long> stats() throws Exception {
        JsonNode r = call("GET", "/_mover/stats", null);
        Map<String, Long> out = new HashMap<>();
        for (String k : List.of("exact_solves", "solves_skipped_by_pruning", "hits_rescored", "queries_encoded")) {
            if (!r.has(k)) {
                throw new IOException("[bench rescore] _mover/stats has no [" + k + "]: " + r);
            }
            out.put(k, r.get(k).asLong());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------- in process

    /** In-process results: per pair (config without prune) per measured query the loop ms and each hit's result. */
    static final class InProcess {
        final Map<String, double[]> loopMs = new LinkedHashMap<>();
        final Map<String, double[][]> distance = new HashMap<>();   // pair -> [query][hit]
        final Map<String, double[][]> similarity = new HashMap<>(); // pair -> [query][hit]
        final Map<String, double[][]> lowerBound = new HashMap<>(); // pair -> [query][hit], the bound the plugin prunes by
        final Map<String, Integer> unconverged = new HashMap<>();
        Map<String, JsonNode> pot; // pair -> POT result, null when POT did not run
        String potReference;
        String kernel;
        double queryTokens;
        double docTokens;
    }

    private InProcess inProcess(TextEncoder enc, Map<String, String> passages, List<Query> queries, Path cacheFile)
        throws Exception {
        // hits: encoded once (cached on disk beside the node), then decoded exactly as the node decodes the stored bytes
        Map<String, byte[]> stored = readCache(cacheFile, enc.fingerprint());
        List<String> missing = new ArrayList<>();
        for (Query q : queries) {
            for (String id : q.window()) {
                if (!stored.containsKey(id) && !missing.contains(id)) {
                    missing.add(id);
                }
            }
        }
        if (!missing.isEmpty()) {
            System.err.printf(Locale.ROOT, "[bench rescore] encoding %d hit passages in process (%d cached)%n", missing.size(),
                stored.size());
            long t0 = System.nanoTime();
            for (int from = 0; from < missing.size(); from += 64) {
                List<String> ids = missing.subList(from, Math.min(missing.size(), from + 64));
                List<EncodedText> enc64 = enc.encodeBatch(ids.stream().map(passages::get).toList());
                for (int i = 0; i < ids.size(); i++) {
                    stored.put(ids.get(i), EncodedTextCodec.encode(enc64.get(i), TokenVectorCodec.Encoding.INT8, enc.fingerprint()));
                }
                System.err.printf(Locale.ROOT, "\r[bench rescore] encoded %d/%d (%.0fs)   ", Math.min(missing.size(), from + 64),
                    missing.size(), (System.nanoTime() - t0) / 1e9);
            }
            System.err.println();
            writeCache(cacheFile, enc.fingerprint(), stored);
        }
        Map<String, TokenMatrix> docs = new HashMap<>();
        Map<String, float[]> docVectors = new HashMap<>();
        Map<String, Integer> docTokens = new HashMap<>();
        for (Query q : queries) {
            for (String id : q.window()) {
                if (!docs.containsKey(id)) {
                    byte[] b = stored.get(id);
                    TokenVectorCodec.Decoded d = TokenVectorCodec.decode(b, 0, b.length);
                    docs.put(id, TokenMatrix.of(d.vectors(), d.tokens(), d.dims()));
                    docVectors.put(id, d.vectors());
                    docTokens.put(id, d.tokens());
                }
            }
        }
        List<EncodedText> qEnc = new ArrayList<>();
        List<TokenMatrix> qm = new ArrayList<>();
        for (Query q : queries) {
            EncodedText t = enc.encode(q.text());
            qEnc.add(t);
            qm.add(TokenMatrix.of(t.vectors(), t.tokens(), t.dims()));
        }

        InProcess out = new InProcess();
        out.queryTokens = qEnc.stream().mapToInt(EncodedText::tokens).average().orElse(Double.NaN);
        out.docTokens = docTokens.values().stream().mapToInt(Integer::intValue).average().orElse(Double.NaN);
        List<Config> pairs = selected().stream().filter(c -> !c.prune()).toList();
        int measured = (int) queries.stream().filter(q -> !q.warmup()).count();
        for (Config c : pairs) {
            OtScorer scorer = scorer(c);
            out.kernel = scorer.kernelName();
            double[] ms = new double[measured];
            double[][] dist = new double[measured][];
            double[][] sim = new double[measured][];
            double[][] lb = new double[measured][];
            int unconverged = 0;
            // warm-up: the warm-up queries twice (JIT), then every query R times, median per query
            for (int pass = 0; pass < 2; pass++) {
                for (int qi = 0; qi < queries.size(); qi++) {
                    if (queries.get(qi).warmup()) {
                        javaLoop(scorer, c, qm.get(qi), queries.get(qi).window(), docs, null, null, null);
                    }
                }
            }
            int mi = 0;
            for (int qi = 0; qi < queries.size(); qi++) {
                Query q = queries.get(qi);
                if (q.warmup()) {
                    continue;
                }
                double[] runs = new double[opt.repeats()];
                dist[mi] = new double[q.window().size()];
                sim[mi] = new double[q.window().size()];
                lb[mi] = new double[q.window().size()];
                for (int r = 0; r < opt.repeats(); r++) {
                    long t0 = System.nanoTime();
                    unconverged = javaLoop(scorer, c, qm.get(qi), q.window(), docs, dist[mi], sim[mi], lb[mi]);
                    runs[r] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(runs);
                if (!c.solver().equals("sinkhorn") && !c.metric().equals("maxsim")) {
                    tighten(scorer, c, qm.get(qi), q.window(), docs, lb[mi]);   // untimed: what the node checks before a solve
                }
                ms[mi++] = runs[runs.length / 2];
                out.unconverged.merge(c.pair(), unconverged, Integer::sum);
            }
            out.loopMs.put(c.pair(), ms);
            out.distance.put(c.pair(), dist);
            out.similarity.put(c.pair(), sim);
            out.lowerBound.put(c.pair(), lb);
            System.err.printf(Locale.ROOT, "[bench rescore] java %-13s loop p50 %.2f ms%n", c.pair(), p(ms, 0.5));
        }
        if (opt.pot()) {
            runPot(out, queries, qEnc, docVectors, docTokens, enc.model().dims());
        }
        return out;
    }

    private static OtScorer scorer(Config c) {
        OtScorer.Builder b = OtScorer.builder(c.metric().equals("wmd") ? Metric.WMD : Metric.WRD);
        if (c.solver().equals("sinkhorn") && !c.metric().equals("maxsim")) {
            b.solver(Solver.SINKHORN).sinkhornEpsilon(SK_EPSILON, true).sinkhornTolerance(SK_TOLERANCE)
                .sinkhornMaxIterations(SK_MAX_ITERATIONS);
        }
        return b.build();
    }

    /** Scores one query against its window (every hit, no pruning); returns the number of unconverged Sinkhorn runs. */
    private static int javaLoop(OtScorer scorer, Config c, TokenMatrix q, List<String> window, Map<String, TokenMatrix> docs,
                                double[] dist, double[] sim, double[] lb) {
        OtScorer.Prepared p = scorer.prepareQuery(q, null);
        int unconverged = 0;
        for (int i = 0; i < window.size(); i++) {
            TokenMatrix d = docs.get(window.get(i));
            if (c.metric().equals("maxsim")) {
                double m = scorer.maxSim(p, d);
                if (dist != null) {
                    dist[i] = m;
                    sim[i] = Math.max(0.0, m);
                    lb[i] = Double.NEGATIVE_INFINITY;
                }
            } else if (c.solver().equals("partial")) {
                OtScorer.Problem pr = scorer.buildProblem(p, d, null);
                double rwmdQ = pr.rwmdQueryToDoc();
                OtResult r = scorer.solvePartial(pr, PartialTransport.autoFraction(pr.n(), pr.m()), 0);
                if (dist != null) {
                    dist[i] = r.distance();
                    sim[i] = Math.max(0.0, r.similarity());
                    lb[i] = rwmdQ;   // partial transport's only RWMD half; ICT added by tighten
                }
            } else {
                OtResult r = scorer.score(p, d, null, 0);
                if (!r.converged()) {
                    unconverged++;
                }
                if (dist != null) {
                    dist[i] = r.distance();
                    sim[i] = Math.max(0.0, r.similarity());
                    // the bounds the plugin orders and prunes by (Sinkhorn: only those an inexact document marginal keeps)
                    lb[i] = c.solver().equals("sinkhorn")
                        ? Math.max(r.rwmdQueryToDoc(), r.rwmdDocToQuery() - SK_TOLERANCE * r.costMax())
                        : r.lowerBound();
                }
            }
        }
        return unconverged;
    }

    /**
     * Raises each lower bound to the one the node checks before a solve: for exact EMD the dual (c-transform) bound,
     * for partial transport the ICT capacity bound with capacities {@code b_j / s}.
     */
    private static void tighten(OtScorer scorer, Config c, TokenMatrix q, List<String> window, Map<String, TokenMatrix> docs,
                                double[] lb) {
        OtScorer.Prepared p = scorer.prepareQuery(q, null);
        for (int i = 0; i < window.size(); i++) {
            OtScorer.Problem pr = scorer.buildProblem(p, docs.get(window.get(i)), null);
            double bound = c.solver().equals("partial")
                ? scorer.capacityBoundQueryToDoc(pr, PartialTransport.autoFraction(pr.n(), pr.m()))
                : scorer.dualBound(pr);
            lb[i] = Math.max(lb[i], bound - 1e-12 * pr.costMax());
        }
    }

    private void runPot(InProcess out, List<Query> queries, List<EncodedText> qEnc, Map<String, float[]> docVectors,
                        Map<String, Integer> docTokens, int dims) throws Exception {
        Path script = Path.of(System.getProperty("mover.root", ".")).resolve("bench/src/main/python/pot_rescore.py");
        String py = System.getProperty("mover.python", "");
        if (!Files.isRegularFile(script) || py.isBlank() || !Files.isExecutable(Path.of(py))) {
            System.err.println("[bench rescore] POT column skipped: no python3 that imports ot ([mover.python] is [" + py
                + "]; ./mover looks at $MOVER_PYTHON, python3 on PATH, /usr/bin/python3) or [" + script + "] missing");
            return;
        }
        Path python = Path.of(py);
        Path dir = Files.createTempDirectory("mover-rescore-pot");
        try {
            ObjectNode manifest = OM.createObjectNode();
            manifest.put("format", "mover-rescore-pot/1");
            manifest.put("layout", "row-major little-endian float32, one row per token");
            manifest.put("dims", dims);
            manifest.put("queries_file", "queries.f32");
            manifest.put("docs_file", "docs.f32");
            manifest.put("repeats", opt.repeats());
            List<String> docIds = new ArrayList<>(docVectors.keySet());
            Map<String, Integer> docIndex = new HashMap<>();
            ArrayNode docsArr = manifest.putArray("docs");
            int row = 0;
            try (FileChannel ch = FileChannel.open(dir.resolve("docs.f32"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                for (String id : docIds) {
                    docIndex.put(id, docIndex.size());
                    docsArr.addObject().put("id", id).put("row", row).put("m", docTokens.get(id));
                    writeFloats(ch, docVectors.get(id));
                    row += docTokens.get(id);
                }
            }
            ArrayNode qArr = manifest.putArray("queries");
            row = 0;
            try (FileChannel ch = FileChannel.open(dir.resolve("queries.f32"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                for (int qi = 0; qi < queries.size(); qi++) {
                    EncodedText t = qEnc.get(qi);
                    ObjectNode o = qArr.addObject().put("id", queries.get(qi).id()).put("row", row).put("n", t.tokens())
                        .put("warmup", queries.get(qi).warmup());
                    ArrayNode d = o.putArray("docs");
                    queries.get(qi).window().forEach(id -> d.add(docIndex.get(id)));
                    writeFloats(ch, t.vectors());
                    row += t.tokens();
                }
            }
            ArrayNode cfgs = manifest.putArray("configs");
            for (Config c : selected()) {
                if (c.prune() || c.metric().equals("maxsim")) {
                    continue;
                }
                ObjectNode o = cfgs.addObject().put("name", c.pair()).put("metric", c.metric()).put("solver", c.solver());
                if (c.solver().equals("sinkhorn")) {
                    o.put("epsilon", SK_EPSILON).put("epsilon_relative_to", "max_cost").put("tolerance", SK_TOLERANCE)
                        .put("max_iterations", SK_MAX_ITERATIONS);
                }
            }
            Files.writeString(dir.resolve("manifest.json"), OM.writerWithDefaultPrettyPrinter().writeValueAsString(manifest));
            System.err.println("[bench rescore] POT: " + python + " " + script + " --dir " + dir);
            ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(), "--dir", dir.toString())
                .redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", "1");
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            pb.environment().put("MKL_NUM_THREADS", "1");
            Process p = pb.start();
            p.getOutputStream().close();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(System.err);
            }
            if (!p.waitFor(60, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                System.err.println("[bench rescore] POT column skipped: the script ran over 60 minutes");
                return;
            }
            Path result = dir.resolve("pot.json");
            if (p.exitValue() != 0 || !Files.isRegularFile(result)) {
                System.err.println("[bench rescore] POT column skipped: the script exited with [" + p.exitValue() + "]");
                return;
            }
            JsonNode pot = OM.readTree(result.toFile());
            out.potReference = pot.path("reference").asText();
            out.pot = new LinkedHashMap<>();
            pot.path("configs").fields().forEachRemaining(e -> out.pot.put(e.getKey(), e.getValue()));
        } finally {
            try (var s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void writeFloats(FileChannel ch, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static Map<String, byte[]> readCache(Path f, long fingerprint) {
        Map<String, byte[]> out = new HashMap<>();
        if (!Files.isRegularFile(f)) {
            return out;
        }
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(f)))) {
            if (in.readLong() != fingerprint) {
                return out;
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String id = in.readUTF();
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                out.put(id, b);
            }
        } catch (IOException e) {
            System.err.println("[bench rescore] ignoring unreadable vector cache [" + f + "]: " + e.getMessage());
            out.clear();
        }
        return out;
    }

    private static void writeCache(Path f, long fingerprint, Map<String, byte[]> stored) throws IOException {
        Files.createDirectories(f.toAbsolutePath().getParent());
        try (OutputStream os = Files.newOutputStream(f); DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os))) {
            out.writeLong(fingerprint);
            out.writeInt(stored.size());
            for (Map.Entry<String, byte[]> e : stored.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                out.write(e.getValue());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- report

    private void report(String dataset, List<Query> queries, NodeResults node, InProcess java) {
        List<Query> measured = queries.stream().filter(q -> !q.warmup()).toList();
        int n = measured.size();
        double[] bm25 = node.wall.get("bm25");
        addLatency(dataset, "bm25", node.wall.get("bm25"), node.took.get("bm25"), n, null);
        figures.add(TASK, dataset, "query-encoding", "latency_p50_ms", p(node.coldWall, 0.5), n,
            "first maxsim search of each query text (the node encodes and caches it); later searches reuse the cache");
        figures.add(TASK, dataset, "query-encoding", "latency_p95_ms", p(node.coldWall, 0.95), n, null);
        figures.add(TASK, dataset, "pairs", "query_tokens_mean", java.queryTokens, n, "tokens per query text");
        figures.add(TASK, dataset, "pairs", "doc_tokens_mean", java.docTokens, n, "tokens per distinct window hit");
        int totalMismatch = 0;
        StringBuilder summary = new StringBuilder();
        for (Config c : selected()) {
            String s = c.system();
            double[] wall = node.wall.get(s);
            double[] rescoreMs = new double[n];
            for (int i = 0; i < n; i++) {
                rescoreMs[i] = wall[i] - bm25[i];
            }
            long[] sv = node.solves.get(s);
            double prunedShare = sv[0] + sv[1] == 0 ? Double.NaN : (double) sv[1] / (sv[0] + sv[1]);
            addLatency(dataset, s, wall, node.took.get(s), n, null);
            figures.add(TASK, dataset, s, "rescore_p50_ms", p(rescoreMs, 0.5), n,
                "rescored minus BM25 client latency of the same query");
            figures.add(TASK, dataset, s, "rescore_p95_ms", p(rescoreMs, 0.95), n, null);
            figures.add(TASK, dataset, s, "pruned_share", prunedShare, n, String.format(Locale.ROOT,
                "_mover/stats deltas: %d exact solves, %d skipped, %d hits rescored, %d query texts encoded", sv[0], sv[1], sv[2], sv[3]));
            // node scores of the returned hits against the in-process similarities of the same pairs
            double maxDiff = 0;
            double[][] sim = java.similarity.get(c.pair());
            for (int qi = 0; qi < n; qi++) {
                List<String> ids = node.top.get(s).get(qi);
                double[] sc = node.scores.get(s).get(qi);
                List<String> window = measured.get(qi).window();
                for (int h = 0; h < ids.size(); h++) {
                    int idx = window.indexOf(ids.get(h));
                    maxDiff = Math.max(maxDiff, idx < 0 ? Double.POSITIVE_INFINITY : Math.abs(sc[h] - sim[qi][idx]));
                }
            }
            figures.add(TASK, dataset, s, "max_score_diff_vs_java", maxDiff, n,
                "largest |node _score - in-process similarity| over the returned hits");
            if (c.prune()) {
                String other = new Config(c.metric(), c.solver(), false).system();
                int mismatch = 0;
                for (int qi = 0; qi < n; qi++) {
                    if (!node.top.get(s).get(qi).equals(node.top.get(other).get(qi))) {
                        mismatch++;
                    }
                }
                totalMismatch += mismatch;
                figures.add(TASK, dataset, s, "top" + opt.size() + "_mismatch", mismatch, n,
                    "queries whose top-" + opt.size() + " ids differ from " + other);
                if (!c.metric().equals("maxsim")) {
                    figures.add(TASK, dataset, s, "prunable_share", prunableShare(java.distance.get(c.pair()),
                        java.lowerBound.get(c.pair()), opt.size()), n, "in process: share of window hits whose lower bound"
                        + " exceeds the " + opt.size() + "-th best exact distance (the most these bounds can skip; exact EMD: max(WCD, RWMD,"
                        + " dual c-transform bound); partial: max(RWMD(q -> d), ICT(q -> d)))");
                }
            }
            JsonNode pot = java.pot == null ? null : java.pot.get(c.pair());
            double potP50 = pot == null ? Double.NaN : p(doubles(pot.path("ms")), 0.5);
            figures.add(TASK, dataset, s, "ratio_vs_pot", p(rescoreMs, 0.5) / potP50, n,
                pot == null ? (c.metric().equals("maxsim") ? "POT has no maxSim" : "POT did not run")
                    : "rescore_p50_ms / POT loop p50 over the same " + opt.window() + " pairs");
            summary.append(String.format(Locale.ROOT, "  %-24s rescore p50 %7.2f ms  pruned %5.1f%%  %s%n", s,
                p(rescoreMs, 0.5), 100 * prunedShare,
                pot == null ? "" : String.format(Locale.ROOT, "POT p50 %7.2f ms  ratio %.3f", potP50, p(rescoreMs, 0.5) / potP50)));
        }
        for (Map.Entry<String, double[]> e : java.loopMs.entrySet()) {
            String pair = e.getKey();
            double[] ms = e.getValue();
            String sys = "java-" + pair;
            JsonNode pot = java.pot == null ? null : java.pot.get(pair);
            double potP50 = pot == null ? Double.NaN : p(doubles(pot.path("ms")), 0.5);
            figures.add(TASK, dataset, sys, "loop_p50_ms", p(ms, 0.5), n,
                "in-process OtScorer (" + java.kernel + " kernels), every hit of the window, no pruning, one thread; "
                    + java.unconverged.getOrDefault(pair, 0) + " unconverged");
            figures.add(TASK, dataset, sys, "loop_p95_ms", p(ms, 0.95), n, null);
            figures.add(TASK, dataset, sys, "ratio_vs_pot", p(ms, 0.5) / potP50, n,
                pot == null ? null : "Java loop p50 / POT loop p50");
            if (pot != null) {
                double[] potMs = doubles(pot.path("ms"));
                double[][] jd = java.distance.get(pair);
                double maxRel = 0;
                JsonNode pd = pot.path("distances");
                JsonNode pc = pot.path("cost_max");
                for (int qi = 0; qi < n; qi++) {
                    for (int h = 0; h < jd[qi].length; h++) {
                        double cm = pc.get(qi).get(h).asDouble();
                        maxRel = Math.max(maxRel, Math.abs(jd[qi][h] - pd.get(qi).get(h).asDouble()) / cm);
                    }
                }
                String psys = "pot-" + pair;
                figures.add(TASK, dataset, psys, "loop_p50_ms", p(potMs, 0.5), n, java.potReference
                    + "; " + pot.path("unconverged").asInt() + " unconverged");
                figures.add(TASK, dataset, psys, "loop_p95_ms", p(potMs, 0.95), n, null);
                figures.add(TASK, dataset, psys, "max_diff_vs_java", maxRel, n,
                    "largest |POT - Java| / cost_max over every pair");
            }
        }
        System.err.printf(Locale.ROOT, "[bench rescore] pairs: %.1f query tokens x %.1f hit tokens on average, %d hits per query%n",
            java.queryTokens, java.docTokens, opt.window());
        System.err.println("[bench rescore] summary (rescore = rescored search minus BM25 search, client side):");
        System.err.print(summary);
        System.err.println("[bench rescore] top-" + opt.size() + " mismatches with vs without pruning: " + totalMismatch
            + (totalMismatch == 0 ? " (identical)" : " (MUST be 0)"));
    }

    /** The readable tables: end to end per system, then solver to solver per pair. */
    static String table(Figures figures) {
        Map<String, Map<String, Double>> v = new LinkedHashMap<>();
        String dataset = "";
        int n = 0;
        for (Figures.Record r : figures.records()) {
            if (r.task().equals(TASK) && !r.system().equals("machine")) {
                v.computeIfAbsent(r.system(), k -> new LinkedHashMap<>()).put(r.metric(), r.value());
                dataset = r.dataset();
                if (r.n() != null && r.system().startsWith("bm25")) {
                    n = r.n();
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nEnd to end on one node, %s, %d queries (ms; rescore = rescored search minus BM25"
            + " search of the same query, client side)%n", dataset, n));
        String h = String.format(Locale.ROOT, "%-26s %8s %8s %8s %8s %9s %9s %7s %8s %5s %8s %9s%n", "system", "lat p50",
            "lat p95", "took p50", "took p95", "resc p50", "resc p95", "pruned", "prunable", "diff", "POT p50", "resc/POT");
        sb.append(h).append("-".repeat(h.length() - 1)).append('\n');
        for (Map.Entry<String, Map<String, Double>> e : v.entrySet()) {
            String sys = e.getKey();
            if (!sys.startsWith("bm25") && !sys.equals("query-encoding")) {
                continue;
            }
            Map<String, Double> m = e.getValue();
            Double mismatch = m.entrySet().stream().filter(x -> x.getKey().endsWith("_mismatch")).map(Map.Entry::getValue)
                .findFirst().orElse(null);
            String pair = sys.replaceFirst("^bm25\\+", "").replaceFirst("-(no)?prune$", "");
            Double potP50 = v.getOrDefault("pot-" + pair, Map.of()).get("loop_p50_ms");
            sb.append(String.format(Locale.ROOT, "%-26s %8s %8s %8s %8s %9s %9s %7s %8s %5s %8s %9s%n", sys,
                f(m.get("latency_p50_ms"), 1), f(m.get("latency_p95_ms"), 1), f(m.get("took_p50_ms"), 1),
                f(m.get("took_p95_ms"), 1), f(m.get("rescore_p50_ms"), 1), f(m.get("rescore_p95_ms"), 1),
                pct(m.get("pruned_share")), pct(m.get("prunable_share")), mismatch == null ? "" : f(mismatch, 0),
                f(potP50, 1), f(m.get("ratio_vs_pot"), 2)));
        }
        double maxDiff = v.entrySet().stream().filter(e -> e.getKey().startsWith("bm25+"))
            .mapToDouble(e -> e.getValue().getOrDefault("max_score_diff_vs_java", Double.NaN)).max().orElse(Double.NaN);
        sb.append(String.format(Locale.ROOT, "node _score of every returned hit vs the in-process similarity of the same pair:"
            + " max |diff| %.1e%n", maxDiff));
        sb.append("pruned: exact solves skipped (_mover/stats deltas); prunable: hits whose lower bound exceeds the k-th best"
            + " exact distance (in process);\ndiff: queries whose top-k ids differ from the unpruned run (must be 0)\n");
        sb.append(String.format(Locale.ROOT, "%nSolver to solver, same pairs, one thread (ms per query for its whole window,"
            + " no pruning)%n"));
        h = String.format(Locale.ROOT, "%-14s %9s %9s %9s %9s %9s %14s %11s%n", "pair", "java p50", "java p95", "POT p50",
            "POT p95", "java/POT", "|java-POT|/cm", "resc/POT");
        sb.append(h).append("-".repeat(h.length() - 1)).append('\n');
        for (Map.Entry<String, Map<String, Double>> e : v.entrySet()) {
            if (!e.getKey().startsWith("java-")) {
                continue;
            }
            String pair = e.getKey().substring(5);
            Map<String, Double> j = e.getValue();
            Map<String, Double> pot = v.getOrDefault("pot-" + pair, Map.of());
            Double best = v.getOrDefault("bm25+" + pair + "-prune", Map.of()).get("ratio_vs_pot");
            sb.append(String.format(Locale.ROOT, "%-14s %9s %9s %9s %9s %9s %14s %11s%n", pair, f(j.get("loop_p50_ms"), 2),
                f(j.get("loop_p95_ms"), 2), f(pot.get("loop_p50_ms"), 2), f(pot.get("loop_p95_ms"), 2),
                f(j.get("ratio_vs_pot"), 2), pot.get("max_diff_vs_java") == null ? "" : String.format(Locale.ROOT, "%.1e",
                    pot.get("max_diff_vs_java")), f(best, 2)));
        }
        sb.append("java: in-process OtScorer with the ").append(kernel(figures)).append(" cost kernels\n");
        sb.append("resc/POT: end-to-end rescoring time with pruning / POT loop (goal <= 0.33)\n");
        return sb.toString();
    }

    private static String kernel(Figures figures) {
        for (Figures.Record r : figures.records()) {
            if (r.system().startsWith("java-") && r.note() != null && r.note().contains("(")) {
                return r.note().substring(r.note().indexOf('(') + 1, r.note().indexOf(' ', r.note().indexOf('(')));
            }
        }
        return "?";
    }

    private static String f(Double x, int decimals) {
        return x == null || x.isNaN() ? "" : String.format(Locale.ROOT, "%." + decimals + "f", x);
    }

    private static String pct(Double x) {
        return x == null || x.isNaN() ? "" : String.format(Locale.ROOT, "%.1f%%", 100 * x);
    }

    /** Share of hits whose lower bound is above the k-th smallest distance of their query. */
    static double prunableShare(double[][] dist, double[][] lb, int k) {
        long above = 0;
        long total = 0;
        for (int qi = 0; qi < dist.length; qi++) {
            double[] sorted = dist[qi].clone();
            Arrays.sort(sorted);
            double dk = sorted[Math.min(k, sorted.length) - 1];
            for (double b : lb[qi]) {
                if (b > dk) {
                    above++;
                }
            }
            total += lb[qi].length;
        }
        return total == 0 ? Double.NaN : (double) above / total;
    }

    private void addLatency(String dataset, String system, double[] wall, double[] took, int n, String note) {
        figures.add(TASK, dataset, system, "latency_p50_ms", p(wall, 0.5), n, note);
        figures.add(TASK, dataset, system, "latency_p95_ms", p(wall, 0.95), n, null);
        figures.add(TASK, dataset, system, "took_p50_ms", p(took, 0.5), n, null);
        figures.add(TASK, dataset, system, "took_p95_ms", p(took, 0.95), n, null);
    }

    private static double[] doubles(JsonNode arr) {
        double[] out = new double[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asDouble();
        }
        return out;
    }

    static double p(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        return RankMetrics.percentile(s, q);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private static String indexKey(Map<String, String> passages, TextEncoder enc) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (Map.Entry<String, String> e : passages.entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(e.getValue().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
        }
        md.update((enc.model().name() + ":" + enc.fingerprint()).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest()).substring(0, 12);
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        if (v == null || !Files.isRegularFile(Path.of(v))) {
            throw new IllegalStateException("[bench rescore] [" + property + "] is [" + v
                + "]: run through ./mover (it builds the plugin and the distribution) or pass --url");
        }
        return v;
    }

    private JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(5));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() / 100 != 2) {
            throw new IOException("[bench rescore] " + method + " " + path + " answered [" + r.statusCode() + "]: "
                + r.body().substring(0, Math.min(2000, r.body().length())));
        }
        return OM.readTree(r.body());
    }
}
