package dev.mover.bench.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./mover eval <sts|summarize|knn|retrieval> --data DIR [--limit N] [--json FILE] [--threads N]
 * [--bootstrap B] [--only NAME,...]}: evaluates Mover beside its baselines on public data (issue 8) and prints a
 * table per task; {@code --json} writes the same figures in the {@code mover-figures/1} format.
 */
public final class EvalCli {

    static final String USAGE = String.join("\n",
        "usage: mover eval <sts|summarize|knn|retrieval> --data DIR [options]",
        "  --data DIR       folder in one of the layouts of ../shared/data (recognised by header and layout)",
        "  --limit N        at most N items per file (pairs, documents, test documents, queries); 0 = all",
        "  --json FILE      also write the figures as mover-figures/1 JSON",
        "  --threads N      ONNX Runtime intra-op threads (default 2)",
        "  --bootstrap B    paired bootstrap resamples for difference intervals (default 1000, 0 = off)",
        "  --only A,B       only the datasets with these names",
        "  --variants       sts, retrieval: also the issue-9 variants (hybrids with pooled, idf, centered; see Variants)",
        "  --url URL        retrieval: use this running node (with the plugin) instead of starting one",
        "  --systems A,B    retrieval: only these systems (bm25, the baseline of every interval, always runs)",
        "  --scores DIR     sts: also write every pair's similarity per system to DIR/<dataset>.tsv",
        "  -Dmover.models.dir=DIR  models directory (default encoder/target/models)");

    /**
     * Parsed options.
     *
     * @param task      subcommand
     * @param data      data directory
     * @param limit     items per file, 0 = all
     * @param json      JSON output file or null
     * @param threads   ONNX Runtime threads
     * @param bootstrap bootstrap resamples
     * @param only      dataset names to keep (empty = all)
     * @param url       retrieval: URL of a running node with the plugin, or null to start one
     * @param variants  sts: also compute the hybrid and idf-weighted systems
     * @param scores    sts: directory for per-pair similarity files, or null
     * @param systems   retrieval: systems to run (empty = all)
     */
    record Options(String task, Path data, int limit, Path json, int threads, int bootstrap, Set<String> only, String url,
                   boolean variants, Path scores, Set<String> systems) {}

    /** The metric whose notes the printed table shows, per task (the JSON keeps every note). */
    private static final java.util.Map<String, String> NOTE_METRIC = java.util.Map.of(
        "sts", "spearman", "summarize", "cail_score", "knn", "error", "retrieval", "ndcg@10");

    private EvalCli() {}

    /** Runs the command; returns the exit code. */
    public static int run(String[] args) throws Exception {
        Options opt;
        try {
            opt = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        String command = "mover eval " + String.join(" ", args);
        Figures figures = new Figures(command);
        long t0 = System.nanoTime();
        int rc;
        try (Models models = new Models(opt.threads())) {
            switch (opt.task()) {
                case "sts":
                    rc = new StsEval(opt, figures, models).run();
                    break;
                case "summarize":
                    rc = new SummarizeEval(opt, figures, models).run();
                    break;
                case "knn":
                    rc = new KnnEval(opt, figures, models).run();
                    break;
                case "retrieval":
                    rc = new RetrievalEval(opt, figures, models).run();
                    break;
                default:
                    throw new AssertionError(opt.task());
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.println();
        System.out.println("== " + command);
        for (String task : figures.tasks()) {
            System.out.print(figures.table(task, NOTE_METRIC.get(task)));
        }
        System.out.printf(Locale.ROOT, "wall time %.1fs%n", secs);
        if (opt.json() != null) {
            figures.writeJson(opt.json());
            System.err.println("[eval] wrote " + figures.records().size() + " records to " + opt.json());
        }
        return rc;
    }

    static Options parse(String[] args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("[eval] missing subcommand");
        }
        String task = args[0];
        if (!Set.of("sts", "summarize", "knn", "retrieval").contains(task)) {
            throw new IllegalArgumentException("[eval] unknown subcommand [" + task + "]");
        }
        Path data = null;
        int limit = 0;
        Path json = null;
        int threads = 2;
        int bootstrap = 1000;
        Set<String> only = new LinkedHashSet<>();
        String url = null;
        boolean variants = false;
        Path scores = null;
        Set<String> systems = new LinkedHashSet<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--variants")) {
                variants = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("[eval] option [" + a + "] needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--data":
                    data = Path.of(v);
                    break;
                case "--limit":
                    limit = parseInt(a, v, 0);
                    break;
                case "--json":
                    json = Path.of(v);
                    break;
                case "--threads":
                    threads = parseInt(a, v, 1);
                    break;
                case "--bootstrap":
                    bootstrap = parseInt(a, v, 0);
                    break;
                case "--only":
                    only.addAll(Arrays.asList(v.split(",")));
                    break;
                case "--systems":
                    systems.addAll(Arrays.asList(v.split(",")));
                    break;
                case "--scores":
                    scores = Path.of(v);
                    break;
                case "--url":
                    url = v.endsWith("/") ? v : v + "/";
                    break;
                default:
                    throw new IllegalArgumentException("[eval] unknown option [" + a + "]");
            }
        }
        if (data == null) {
            throw new IllegalArgumentException("[eval] --data DIR is required");
        }
        if (!Files.isDirectory(data)) {
            throw new IllegalArgumentException("[eval] --data [" + data + "] is not a directory");
        }
        return new Options(task, data, limit, json, threads, bootstrap, only, url, variants, scores, systems);
    }

    private static int parseInt(String name, String v, int min) {
        try {
            int x = Integer.parseInt(v);
            if (x < min) {
                throw new IllegalArgumentException("[eval] " + name + " must be >= " + min + " but was [" + v + "]");
            }
            return x;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("[eval] " + name + " must be an integer but was [" + v + "]");
        }
    }

    /** Dataset name of a file: its name without the last extension ({@code stsb-dev.tsv} gives {@code stsb-dev}). */
    static String datasetName(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
