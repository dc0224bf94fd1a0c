package dev.mover.bench.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.bench.node.EsHome;
import dev.mover.bench.node.LocalNode;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.tokenize.BertTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mover eval retrieval}: BEIR-layout retrieval against a real Elasticsearch node with the Mover plugin.
 *
 * <p>Layout: {@code corpus.jsonl} ({@code _id}, {@code title}, {@code text}), {@code queries.jsonl} ({@code _id},
 * {@code text}) and {@code qrels.tsv} (header {@code query-id corpus-id score}); recognised by those keys and that
 * header, whatever the file names. The dataset name is the directory name. The language of the corpus picks the
 * model.
 *
 * <p>Without {@code --url} the command starts a local node (data kept under {@code .mover/eval-node}) with the plugin
 * ({@code mover.plugin.zip}, {@code mover.es.distribution}, as {@code ./mover} sets them). The index is named by a
 * hash of the corpus file and the model fingerprint and reused when it already holds every document; otherwise it is
 * built through the {@code mover_encode} ingest pipeline and the indexing throughput is printed.
 *
 * <p>Systems (100 hits each): {@code bm25} (ES {@code match} on title + text), {@code bm25+wrd}, {@code bm25+wmd},
 * {@code bm25+maxsim} (the BM25 top 100 rescored by Mover alone: window 100, query weight 0), {@code knn-pooled}
 * (HNSW kNN on the pooled vector, k 100, 200 candidates; the query vector comes from the same encoder in this
 * process), {@code knn-pooled+wrd} (that kNN query's top 100 rescored by WRD) and {@code bm25+default} (the BM25 top
 * 100 rescored with the DSL's defaults, as a user whose index has a pooled vector field gets them: only {@code field},
 * {@code query_text} and {@code pooled_field} are sent). Metrics: nDCG@10, Recall@100,
 * MRR@10 (judged relevance &gt; 0) and per-query latency p50/p95 of the HTTP search call. With {@code --limit N},
 * the first N queries that have judgments.
 */
public final class RetrievalEval {

    private static final ObjectMapper OM = new ObjectMapper();
    private static final String[] RESCORE_METRICS = {"wrd", "wmd", "maxsim"};

    /**
     * {@code --variants} (issue 9), every one the BM25 (or kNN) top 100 rescored by Mover alone: {@code -pooled} blends
     * the pooled cosine in with the fixed weight {@value #POOLED_WEIGHT} ({@code pooled_field}, {@code pooled_weight}),
     * {@code -idf} weighs WRD's tokens by the shard's BM25 idf of {@code body} ({@code weights: idf}), {@code -partial}
     * solves partial transport with {@code doc_mass: auto} (only min(1, query tokens / document tokens) of the
     * document's mass must receive the query's), and {@code knn-pooled+maxsim} rescores the kNN top 100 by maxSim.
     */
    static final List<String> VARIANTS = List.of("bm25+maxsim-pooled", "bm25+wrd-pooled", "bm25+wrd-idf",
        "bm25+wrd-partial", "bm25+wrd-partial-pooled", "knn-pooled+maxsim");

    /** Pooled-cosine weight of the {@code -pooled} variants, fixed in advance (as in {@code eval sts --variants}). */
    static final double POOLED_WEIGHT = 0.5;

    private final EvalCli.Options opt;
    private final Figures figures;
    private final Models models;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private URI base;

    RetrievalEval(EvalCli.Options opt, Figures figures, Models models) {
        this.opt = opt;
        this.figures = figures;
        this.models = models;
    }

    /** Files of one BEIR-layout folder. */
    public record Layout(Path corpus, Path queries, Path qrels) {}

    /** The BEIR files of {@code dir}, recognised by their first lines; null when one is missing. */
    public static Layout layout(Path dir) throws IOException {
        Path corpus = null;
        Path queries = null;
        Path qrels = null;
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            String first;
            try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                first = r.readLine();
            } catch (IOException e) {
                continue;
            }
            if (first == null) {
                continue;
            }
            if (first.trim().replace("\uFEFF", "").startsWith("query-id\tcorpus-id\tscore")) {
                qrels = f;
                continue;
            }
            try {
                JsonNode n = OM.readTree(first);
                if (n != null && n.isObject() && n.has("_id") && n.has("text")) {
                    if (n.has("title")) {
                        corpus = f;
                    } else {
                        queries = f;
                    }
                }
            } catch (IOException e) {
                // not JSON
            }
        }
        return corpus != null && queries != null && qrels != null ? new Layout(corpus, queries, qrels) : null;
    }

    int run() throws Exception {
        Layout l = layout(opt.data());
        if (l == null) {
            System.err.println("[eval retrieval] no BEIR layout (corpus/queries JSONL with _id and text, qrels.tsv) in [" + opt.data() + "]");
            return 1;
        }
        String dataset = opt.data().toAbsolutePath().normalize().getFileName().toString();
        Map<String, String[]> corpus = new LinkedHashMap<>(); // id -> {title, text}
        for (JsonNode n : jsonl(l.corpus())) {
            corpus.put(n.get("_id").asText(), new String[] {n.path("title").asText(""), n.path("text").asText("")});
        }
        Map<String, Map<String, Integer>> qrels = new HashMap<>();
        List<String> qrelLines = Files.readAllLines(l.qrels(), StandardCharsets.UTF_8);
        for (String line : qrelLines.subList(1, qrelLines.size())) {
            String[] f = line.split("\t");
            if (f.length >= 3) {
                qrels.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], Integer.parseInt(f[2].trim()));
            }
        }
        List<String[]> queries = new ArrayList<>(); // {id, text}
        for (JsonNode n : jsonl(l.queries())) {
            String id = n.get("_id").asText();
            if (qrels.containsKey(id) && (opt.limit() <= 0 || queries.size() < opt.limit())) {
                queries.add(new String[] {id, n.get("text").asText()});
            }
        }
        List<String> sample = new ArrayList<>();
        corpus.values().stream().limit(200).forEach(d -> sample.add(d[0] + " " + d[1]));
        Lang lang = Lang.detect(sample);
        TextEncoder enc = models.get(lang);
        String index = "eval-" + dataset.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-") + "-" + indexKey(l.corpus(), enc);

        LocalNode node = null;
        if (opt.url() != null) {
            base = URI.create(opt.url());
        } else {
            LocalNode.refuseRoot();
            Path root = Path.of(System.getProperty("mover.root", "."));
            Path work = root.resolve(".mover/eval-node");
            Path dist = Path.of(required("mover.es.distribution"));
            Path plugin = Path.of(required("mover.plugin.zip"));
            EsHome home = EsHome.prepare(dist, List.of(plugin), EsHome.JAVA_17, work.resolve("home"));
            System.err.println("[eval retrieval] starting a local node under " + work);
            node = LocalNode.start(home, LocalNode.config(work.resolve("node")).javaHome(EsHome.JAVA_17)
                .clusterName("mover-eval").nodeName("eval").heap("2g").reuseData(true));
            base = node.httpUri();
        }
        try {
            ensureIndex(index, enc, corpus, dataset);
            evaluate(dataset, index, enc, queries, qrels);
        } finally {
            if (node != null) {
                node.stop(Duration.ofSeconds(60));
            }
        }
        return 0;
    }

    /**
     * For other benchmarks ({@code bench rescore}): builds {@code index} on the node at {@code base} through the
     * {@code mover_encode} pipeline from {@code corpus} (id -> {title, text}), or reuses it when it already holds every
     * document; the indexing throughput goes to {@code figures} (task {@code retrieval}).
     */
    public static void ensureIndex(URI base, String index, TextEncoder enc, Map<String, String[]> corpus, String dataset,
                                   Figures figures) throws Exception {
        RetrievalEval r = new RetrievalEval(null, figures, null);
        r.base = base;
        r.ensureIndex(index, enc, corpus, dataset);
    }

    private void ensureIndex(String index, TextEncoder enc, Map<String, String[]> corpus, String dataset) throws Exception {
        JsonNode count = callOrNull("GET", "/" + index + "/_count", null);
        if (count != null && count.path("count").asLong() == corpus.size()) {
            System.err.println("[eval retrieval] reusing index [" + index + "] (" + corpus.size() + " documents)");
            return;
        }
        String model = enc.model().name();
        String pipeline = "mover-eval-" + model;
        call("PUT", "/_ingest/pipeline/" + pipeline, """
            { "description": "Mover token vectors for [body] (eval)",
              "processors": [ { "mover_encode": { "field": "body", "target_field": "body_tokens",
                "model": "%s", "pooled_field": "body_vector", "ignore_missing": false } } ] }
            """.formatted(model));
        call("DELETE", "/" + index + "?ignore_unavailable=true", null);
        call("PUT", "/" + index, """
            { "settings": { "index.default_pipeline": "%s", "number_of_shards": 1, "number_of_replicas": 0,
                            "refresh_interval": "-1" },
              "mappings": { "_source": { "excludes": ["body_tokens", "body_vector"] },
                "properties": {
                  "body":        { "type": "text" },
                  "body_tokens": { "type": "mover_tokens", "model": "%s" },
                  "body_vector": { "type": "dense_vector", "dims": %d, "similarity": "cosine", "index": true } } } }
            """.formatted(pipeline, model, enc.model().dims()));
        BertTokenizer tok = BertTokenizer.load(enc.model().tokenizerPath());
        long tokens = 0;
        long t0 = System.nanoTime();
        Progress p = new Progress("index " + dataset, corpus.size());
        StringBuilder nd = new StringBuilder();
        int inBatch = 0;
        int done = 0;
        for (Map.Entry<String, String[]> d : corpus.entrySet()) {
            String body = body(d.getValue());
            tokens += tok.tokenize(body).size();
            ObjectNode action = OM.createObjectNode();
            action.putObject("index").put("_id", d.getKey());
            nd.append(OM.writeValueAsString(action)).append('\n')
                .append(OM.writeValueAsString(OM.createObjectNode().put("body", body))).append('\n');
            if (++inBatch == 32) {
                bulk(index, nd);
                done += inBatch;
                inBatch = 0;
                nd.setLength(0);
                p.update(done);
            }
        }
        if (inBatch > 0) {
            bulk(index, nd);
        }
        call("POST", "/" + index + "/_refresh", null);
        p.done();
        double secs = (System.nanoTime() - t0) / 1e9;
        String note = String.format(Locale.ROOT, "index %s built through the mover_encode pipeline in %.1fs (%s); %d tokens",
            index, secs, model, tokens);
        figures.add("retrieval", dataset, "index", "docs_per_s", corpus.size() / secs, corpus.size(), note);
        figures.add("retrieval", dataset, "index", "tokens_per_s", tokens / secs, corpus.size(), note);
        System.err.printf(Locale.ROOT, "[eval retrieval] indexed %d docs in %.1fs: %.1f docs/s, %.0f tokens/s%n",
            corpus.size(), secs, corpus.size() / secs, tokens / secs);
    }

    private static String body(String[] titleText) {
        return titleText[0].isEmpty() ? titleText[1] : titleText[0] + "\n" + titleText[1];
    }

    private void bulk(String index, StringBuilder nd) throws Exception {
        JsonNode r = call("POST", "/" + index + "/_bulk", nd.toString(), "application/x-ndjson");
        if (r.path("errors").asBoolean()) {
            for (JsonNode it : r.path("items")) {
                JsonNode err = it.path("index").path("error");
                if (!err.isMissingNode()) {
                    throw new IOException("[eval retrieval] bulk into [" + index + "] failed: " + err);
                }
            }
        }
    }

    private void evaluate(String dataset, String index, TextEncoder enc, List<String[]> queries,
                          Map<String, Map<String, Integer>> qrels) throws Exception {
        List<String> systems = new ArrayList<>(List.of("bm25"));
        for (String m : RESCORE_METRICS) {
            systems.add("bm25+" + m);
        }
        systems.add("knn-pooled");
        systems.add("knn-pooled+wrd");
        systems.add("bm25+default");
        if (opt.variants() || !opt.systems().isEmpty()) {
            systems.addAll(VARIANTS);
        }
        if (!opt.systems().isEmpty()) {
            for (String s : opt.systems()) {
                if (!systems.contains(s)) {
                    throw new IllegalArgumentException("[eval retrieval] unknown system [" + s + "], known: " + systems);
                }
            }
            systems.removeIf(s -> !s.equals("bm25") && !opt.systems().contains(s));
        }
        int n = queries.size();
        Map<String, double[][]> perQuery = new LinkedHashMap<>(); // system -> {ndcg, recall, mrr, latency}
        for (String s : systems) {
            perQuery.put(s, new double[4][n]);
        }
        Progress p = new Progress("retrieval " + dataset, n);
        for (int i = 0; i < n; i++) {
            String qid = queries.get(i)[0];
            String text = queries.get(i)[1];
            float[] qv = enc.encode(text).pooled();
            for (String s : systems) {
                String body = searchBody(s, text, qv);
                long t0 = System.nanoTime();
                JsonNode r = call("POST", "/" + index + "/_search", body);
                double ms = (System.nanoTime() - t0) / 1e6;
                List<String> ranked = new ArrayList<>();
                for (JsonNode h : r.path("hits").path("hits")) {
                    ranked.add(h.path("_id").asText());
                }
                Map<String, Integer> rel = qrels.get(qid);
                double[][] v = perQuery.get(s);
                v[0][i] = RankMetrics.ndcg(ranked, rel, 10);
                v[1][i] = RankMetrics.recall(ranked, rel, 100);
                v[2][i] = RankMetrics.mrr(ranked, rel, 10);
                v[3][i] = ms;
            }
            p.update(i + 1);
        }
        p.done();
        double[][] bm25 = perQuery.get("bm25");
        String[] names = {"ndcg@10", "recall@100", "mrr@10"};
        for (String s : systems) {
            double[][] v = perQuery.get(s);
            for (int m = 0; m < 3; m++) {
                String note = null;
                if (!s.equals("bm25") && opt.bootstrap() > 0) {
                    double[] a = v[m];
                    double[] b = bm25[m];
                    double[] ci = RankMetrics.pairedBootstrap(n, idx -> {
                        double d = 0;
                        for (int k : idx) {
                            d += a[k] - b[k];
                        }
                        return d / idx.length;
                    }, opt.bootstrap(), 1);
                    note = String.format(Locale.ROOT, "minus bm25 %+.4f, 95%% CI [%.4f, %.4f]", mean(a) - mean(b), ci[0], ci[1]);
                }
                figures.add("retrieval", dataset, s, names[m], mean(v[m]), n, note);
            }
            double[] lat = v[3].clone();
            Arrays.sort(lat);
            figures.add("retrieval", dataset, s, "latency_p50_ms", RankMetrics.percentile(lat, 0.5), n, null);
            figures.add("retrieval", dataset, s, "latency_p95_ms", RankMetrics.percentile(lat, 0.95), n, null);
        }
    }

    private static String searchBody(String system, String text, float[] qv) throws IOException {
        ObjectNode root = OM.createObjectNode();
        root.put("size", 100);
        root.put("_source", false);
        if (system.startsWith("bm25")) {
            root.putObject("query").putObject("match").put("body", text);
        } else {
            ObjectNode knn = root.putObject("query").putObject("knn");
            knn.put("field", "body_vector");
            ArrayNode arr = knn.putArray("query_vector");
            for (float f : qv) {
                arr.add(f);
            }
            knn.put("k", 100);
            knn.put("num_candidates", 200);
        }
        int plus = system.indexOf('+');
        if (plus > 0) {
            ObjectNode rescore = root.putObject("rescore");
            rescore.put("window_size", 100);
            ObjectNode mover = rescore.putObject("mover");
            mover.put("field", "body_tokens");
            mover.put("query_text", text);
            String variant = system.substring(plus + 1);
            int dash = variant.indexOf('-');
            String metric = dash > 0 ? variant.substring(0, dash) : variant;
            if (metric.equals("default")) {
                // the DSL's defaults as a user with a pooled field gets them: no metric, no weights, no doc_mass
                mover.put("pooled_field", "body_vector");
            } else {
                mover.put("metric", metric);
            }
            if (variant.endsWith("-pooled")) {
                mover.put("pooled_field", "body_vector");
                mover.put("pooled_weight", POOLED_WEIGHT);
            }
            if (variant.endsWith("-idf")) {
                mover.put("weights", "idf");
                mover.put("text_field", "body");
            }
            if (variant.contains("-partial")) {
                mover.put("doc_mass", "auto");
            }
            mover.put("query_weight", 0.0);
            mover.put("rescore_query_weight", 1.0);
        }
        return OM.writeValueAsString(root);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    private static String indexKey(Path corpus, TextEncoder enc) throws IOException {
        try (InputStream in = Files.newInputStream(corpus)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            md.update((enc.model().name() + ":" + enc.fingerprint()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JSON objects of a JSONL file (blank lines skipped). */
    public static List<JsonNode> jsonl(Path f) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    out.add(OM.readTree(line));
                }
            }
        }
        return out;
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        if (v == null || !Files.isRegularFile(Path.of(v))) {
            throw new IllegalStateException("[eval retrieval] [" + property + "] is [" + v
                + "]: run through ./mover (it builds the plugin and the distribution) or pass --url");
        }
        return v;
    }

    private JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        return call(method, path, body, "application/json");
    }

    private JsonNode callOrNull(String method, String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = send(method, path, body, "application/json");
        return r.statusCode() / 100 == 2 ? OM.readTree(r.body()) : null;
    }

    private JsonNode call(String method, String path, String body, String contentType) throws IOException, InterruptedException {
        HttpResponse<String> r = send(method, path, body, contentType);
        if (r.statusCode() / 100 != 2) {
            throw new IOException("[eval retrieval] " + method + " " + path + " answered [" + r.statusCode() + "]: "
                + r.body().substring(0, Math.min(2000, r.body().length())));
        }
        return r.body().isEmpty() ? OM.nullNode() : OM.readTree(r.body());
    }

    private HttpResponse<String> send(String method, String path, String body, String contentType)
        throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(10));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
