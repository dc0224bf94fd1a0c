package dev.mover.bench.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.bench.node.EsHome;
import dev.mover.bench.node.LocalNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mover demo}: starts a local Elasticsearch node with the Mover plugin, creates an English and a Chinese
 * index with the {@code mover_encode} pipeline, indexes the sample under {@code /demo/} (classpath), prints BM25
 * order next to WRD-rescored order and an extractive summary of a long document, then stops the node.
 *
 * <pre>
 * ./mover demo [--keep] [--java &lt;JAVA_HOME&gt;] [--work &lt;dir&gt;]
 * ./mover demo --stop            stops a node left running by --keep
 * </pre>
 *
 * Needs the system properties {@code mover.plugin.zip} and {@code mover.es.distribution} (set by {@code ./mover}).
 */
public final class Demo {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SNIPPET = 70;

    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private URI base;

    private Demo(PrintStream out) {
        this.out = out;
    }

    public static int run(String[] args) throws Exception {
        boolean keep = false;
        boolean stop = false;
        Path javaHome = EsHome.JAVA_17;
        Path root = Paths.get(System.getProperty("mover.root", "."));
        Path work = root.resolve(".mover/demo");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--keep" -> keep = true;
                case "--stop" -> stop = true;
                case "--java" -> javaHome = Paths.get(value(args, ++i, "--java"));
                case "--work" -> work = Paths.get(value(args, ++i, "--work"));
                case "-h", "--help" -> {
                    System.out.println("usage: ./mover demo [--keep] [--java <JAVA_HOME>] [--work <dir>] | --stop");
                    return 0;
                }
                default -> {
                    System.err.println("unknown option [" + args[i] + "]; try ./mover demo --help");
                    return 2;
                }
            }
        }
        Path pidFile = work.resolve("node.pids");
        if (stop) {
            return stopKept(pidFile);
        }
        if (Files.isRegularFile(pidFile)) {
            stopKept(pidFile);
        }
        return new Demo(System.out).demo(javaHome, work, keep, pidFile);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException("[" + option + "] needs a value");
        }
        return args[i];
    }

    private static int stopKept(Path pidFile) throws IOException, InterruptedException {
        if (!Files.isRegularFile(pidFile)) {
            System.out.println("no demo node recorded in " + pidFile);
            return 0;
        }
        List<Long> pids = new ArrayList<>();
        for (String line : Files.readAllLines(pidFile, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.trim()));
            }
        }
        int n = LocalNode.stopPids(pids, Duration.ofSeconds(30));
        Files.delete(pidFile);
        System.out.println(n == 0 ? "the demo node was not running" : "stopped the demo node (pids " + pids + ")");
        return 0;
    }

    private int demo(Path javaHome, Path work, boolean keep, Path pidFile) throws Exception {
        Path dist = requiredPath("mover.es.distribution");
        Path plugin = requiredPath("mover.plugin.zip");
        long t0 = System.nanoTime();
        heading("Starting Elasticsearch " + EsHome.ES_VERSION + " with the Mover plugin");
        EsHome home = EsHome.prepare(dist, List.of(plugin), javaHome, work.resolve("home"));
        LocalNode node = LocalNode.start(home, LocalNode.config(work.resolve("node")).javaHome(javaHome)
                .clusterName("mover-demo").nodeName("demo").heap("1g"));
        base = node.httpUri();
        out.printf(Locale.ROOT, "node up at %s (Java %s) in %.1f s%n", base, javaHome.getFileName(), secs(t0));
        boolean failed = true;
        try {
            setUp();
            searches("docs-en", resource("en.json"));
            searches("docs-zh", resource("zh.json"));
            summarize(resource("en.json").path("summarize"));
            failed = false;
        } finally {
            if (keep && !failed) {
                List<Long> pids = node.detach();
                Files.writeString(pidFile, join(pids), StandardCharsets.UTF_8);
                heading("Node left running");
                out.println("  " + base + "   (indices docs-en, docs-zh; log " + node.logFile() + ")");
                out.println("  try:  curl -s '" + base + "/docs-en/_search?pretty' -H 'Content-Type: application/json'"
                        + " -d '{\"query\":{\"match\":{\"body\":\"doctor\"}},\"rescore\":{\"window_size\":50,"
                        + "\"mover\":{\"field\":\"body_tokens\",\"query_text\":\"a doctor treats a patient\","
                        + "\"query_weight\":0,\"rescore_query_weight\":1}}}'");
                out.println("  stop: ./mover demo --stop      (or: kill " + join(pids).trim().replace('\n', ' ') + ")");
            } else {
                if (failed) {
                    out.println();
                    out.println(node.tailLog(40));
                }
                node.stop(Duration.ofSeconds(30));
                out.println();
                out.println("node stopped");
            }
        }
        out.printf(Locale.ROOT, "demo finished in %.1f s%n", secs(t0));
        return 0;
    }

    private void setUp() throws IOException, InterruptedException {
        heading("Index set-up (the JSON in README.md)");
        createIndex("docs-en", "mover-en", "all-minilm-l6-v2", 384);
        createIndex("docs-zh", "mover-zh", "bge-small-zh-v15", 512);
        Map<String, String> en = docs(resource("en.json"));
        en.put("bicycle-history", text("long-en.txt"));
        bulk("docs-en", en);
        bulk("docs-zh", docs(resource("zh.json")));
    }

    private void createIndex(String index, String pipeline, String model, int dims)
            throws IOException, InterruptedException {
        call("PUT", "/_ingest/pipeline/" + pipeline, """
            { "description": "Mover token vectors for [body]",
              "processors": [ { "mover_encode": { "field": "body", "target_field": "body_tokens",
                "model": "%s", "pooled_field": "body_vector", "ignore_missing": false } } ] }
            """.formatted(model));
        call("DELETE", "/" + index + "?ignore_unavailable=true", null);
        call("PUT", "/" + index, """
            { "settings": { "index.default_pipeline": "%s", "number_of_shards": 1, "number_of_replicas": 0 },
              "mappings": { "_source": { "excludes": ["body_tokens"] },
                "properties": {
                  "body":        { "type": "text" },
                  "body_tokens": { "type": "mover_tokens", "model": "%s" },
                  "body_vector": { "type": "dense_vector", "dims": %d, "similarity": "cosine" } } } }
            """.formatted(pipeline, model, dims));
        out.printf(Locale.ROOT, "  PUT _ingest/pipeline/%s   (mover_encode with %s)%n", pipeline, model);
        out.printf(Locale.ROOT, "  PUT %s   (body: text, body_tokens: mover_tokens, body_vector: dense_vector[%d])%n",
                index, dims);
    }

    private void bulk(String index, Map<String, String> docs) throws IOException, InterruptedException {
        StringBuilder nd = new StringBuilder();
        for (Map.Entry<String, String> d : docs.entrySet()) {
            ObjectNode action = JSON.createObjectNode();
            action.putObject("index").put("_id", d.getKey());
            ObjectNode source = JSON.createObjectNode().put("body", d.getValue());
            nd.append(JSON.writeValueAsString(action)).append('\n').append(JSON.writeValueAsString(source)).append('\n');
        }
        long t = System.nanoTime();
        JsonNode r = call("POST", "/" + index + "/_bulk?refresh=true", nd.toString(), "application/x-ndjson");
        if (r.path("errors").asBoolean()) {
            throw new IOException("bulk into [" + index + "] had errors: " + r);
        }
        out.printf(Locale.ROOT, "  POST %s/_bulk   %d documents encoded by the pipeline in %.2f s%n",
                index, docs.size(), secs(t));
    }

    private void searches(String index, JsonNode sample) throws IOException, InterruptedException {
        Map<String, String> docs = docs(sample);
        for (JsonNode q : sample.path("queries")) {
            String text = q.asText();
            heading("Search " + index + ": \"" + text + "\"");
            JsonNode bm25 = call("POST", "/" + index + "/_search", """
                { "size": 5, "_source": false, "query": { "match": { "body": %s } } }
                """.formatted(JSON.writeValueAsString(text)));
            long t = System.nanoTime();
            JsonNode wrd = call("POST", "/" + index + "/_search", """
                { "size": 5, "_source": false, "query": { "match": { "body": %s } },
                  "rescore": { "window_size": 50,
                    "mover": { "field": "body_tokens", "query_text": %s, "metric": "wrd",
                               "query_weight": 0.0, "rescore_query_weight": 1.0 } } }
                """.formatted(JSON.writeValueAsString(text), JSON.writeValueAsString(text)));
            double ms = (System.nanoTime() - t) / 1e6;
            out.println("  BM25 (match query)                          | rescored by mover (score = 1 - WRD)");
            JsonNode a = bm25.path("hits").path("hits");
            JsonNode b = wrd.path("hits").path("hits");
            for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
                out.printf(Locale.ROOT, "  %d. %s | %s%n", i + 1, cell(a.path(i), docs, 30),
                        cell(b.path(i), docs, 30));
            }
            out.printf(Locale.ROOT, "  (rescored search took %.0f ms end to end)%n", ms);
        }
    }

    private static String cell(JsonNode hit, Map<String, String> docs, int width) {
        if (hit.isMissingNode()) {
            return "";
        }
        String id = hit.path("_id").asText();
        String s = String.format(Locale.ROOT, "%6.3f %s", hit.path("_score").asDouble(), id);
        String body = docs.getOrDefault(id, "");
        return pad(s + " " + shorten(body, width - Math.min(width - 4, id.length())), 42);
    }

    private static String pad(String s, int width) {
        // CJK characters take two columns in a terminal
        int cols = 0;
        for (int i = 0; i < s.length(); i++) {
            cols += Character.UnicodeScript.of(s.charAt(i)) == Character.UnicodeScript.HAN
                    || (s.charAt(i) >= 0x3000 && s.charAt(i) <= 0x303F) || (s.charAt(i) >= 0xFF00 && s.charAt(i) <= 0xFFEF)
                    ? 2 : 1;
        }
        return cols >= width ? s : s + " ".repeat(width - cols);
    }

    private static String shorten(String s, int max) {
        int limit = Math.max(8, max);
        boolean cjk = s.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN);
        if (cjk) {
            limit = limit / 2;
        }
        return s.length() <= limit ? s : s.substring(0, limit - 1) + "…";
    }

    private void summarize(JsonNode spec) throws IOException, InterruptedException {
        String id = spec.path("id").asText();
        String doc = text("long-en.txt");
        heading("Summarize docs-en/" + id + " (" + doc.length() + " characters), 3 sentences");
        printSummary(call("POST", "/docs-en/_mover/summarize",
                "{ \"ids\": [" + JSON.writeValueAsString(id) + "], \"field\": \"body\", \"max_sentences\": 3 }"), doc);
        String qt = spec.path("query_text").asText();
        heading("Summarize docs-en/" + id + " for \"" + qt + "\", 2 sentences");
        printSummary(call("POST", "/docs-en/_mover/summarize", "{ \"ids\": [" + JSON.writeValueAsString(id)
                + "], \"field\": \"body\", \"max_sentences\": 2, \"query_text\": " + JSON.writeValueAsString(qt)
                + " }"), doc);
    }

    private void printSummary(JsonNode r, String doc) {
        for (JsonNode hit : r.path("hits")) {
            for (JsonNode s : hit.path("sentences")) {
                int start = s.path("start").asInt();
                int end = s.path("end").asInt();
                boolean exact = start >= 0 && end <= doc.length() && start <= end
                        && doc.substring(start, end).equals(s.path("text").asText());
                out.printf(Locale.ROOT, "  [%4d-%4d] %.3f %s%s%n", start, end, s.path("score").asDouble(),
                        s.path("text").asText(), exact ? "" : "   (!) offsets do not match the source");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    private JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        return call(method, path, body, "application/json");
    }

    private JsonNode call(String method, String path, String body, String contentType)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(2));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(method + " " + path + " answered [" + r.statusCode() + "]: " + r.body());
        }
        return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    }

    private static JsonNode resource(String name) throws IOException {
        return JSON.readTree(text(name));
    }

    private static String text(String name) throws IOException {
        try (InputStream in = Demo.class.getResourceAsStream("/demo/" + name)) {
            if (in == null) {
                throw new IOException("missing demo resource [/demo/" + name + "]");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, String> docs(JsonNode sample) {
        Map<String, String> docs = new java.util.LinkedHashMap<>();
        sample.path("docs").fields().forEachRemaining(e -> docs.put(e.getKey(), e.getValue().asText()));
        return docs;
    }

    private static Path requiredPath(String property) {
        String v = System.getProperty(property);
        if (v == null || !Files.isRegularFile(Paths.get(v))) {
            throw new IllegalStateException("[" + property + "] is [" + v + "]: build first (./mover demo does)");
        }
        return Paths.get(v);
    }

    private void heading(String s) {
        out.println();
        out.println("== " + s);
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String join(List<Long> pids) {
        StringBuilder sb = new StringBuilder();
        for (long p : pids) {
            sb.append(p).append('\n');
        }
        return sb.toString();
    }
}
