package dev.mover.bench.ot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.scoring.CostMatrix;
import dev.mover.scoring.LowerBounds;
import dev.mover.scoring.Metric;
import dev.mover.scoring.NetworkSimplex;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Sinkhorn;
import dev.mover.scoring.TokenMatrix;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * {@code ./mover ot-bench DIR [--json FILE]}: times the Java OT solvers on the problems written by
 * {@code ../shared/bench/pot_side_by_side.py} (same vectors, one thread), checks that the values agree with POT's and
 * prints Java ms, POT ms and Java/POT per step: cost matrix (masses + C from the vectors, as POT's {@code cost_ms}),
 * exact EMD given C, cost + EMD, RWMD given C, and Sinkhorn given C at each epsilon of {@code pot.json}, plus the cost
 * matrix GFLOP/s ({@code 2 n m d} flops). Times are medians after warm-up, like the Python side.
 *
 * <p>Sinkhorn stops here on the L1 column-marginal violation below 1e-9, which is stricter than POT's L2 < 1e-9, so
 * the Java side never does less work than POT for the same stop threshold.
 */
public final class OtBench {
    private static final double EXACT_TOL = 1e-9;
    private static final double SINKHORN_TOL = 1e-6;

    private OtBench() {}

    public static int run(String[] args) throws Exception {
        String dir = null;
        String json = null;
        double budget = 1.5;
        for (int k = 0; k < args.length; k++) {
            switch (args[k]) {
                case "--json":
                    json = args[++k];
                    break;
                case "--budget":
                    budget = Double.parseDouble(args[++k]);
                    break;
                default:
                    if (dir != null) {
                        System.err.println("usage: mover ot-bench DIR [--json FILE] [--budget SECONDS]");
                        return 2;
                    }
                    dir = args[k];
            }
        }
        if (dir == null) {
            System.err.println("usage: mover ot-bench DIR [--json FILE] [--budget SECONDS]");
            return 2;
        }
        ObjectMapper mapper = new ObjectMapper();
        File base = new File(dir);
        JsonNode manifest = mapper.readTree(new File(base, "manifest.json"));
        if (!"mover-ot-bench/1".equals(manifest.path("format").asText())) {
            System.err.println("[ot-bench] unsupported manifest format [" + manifest.path("format").asText() + "]");
            return 2;
        }
        JsonNode pot = mapper.readTree(new File(base, "pot.json"));
        System.out.println("POT side: " + pot.path("reference").asText() + "; machine " + pot.path("machine").asText());
        System.out.println("Java side: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
            + ", cost kernels [" + CostMatrix.implementation() + "], one thread");
        double warm = warmUp(2.0);
        System.out.printf(Locale.ROOT, "JIT warm-up: %.1f s on synthetic 64x64x384 WMD/WRD problems%n", warm);
        List<ObjectNode> records = new ArrayList<>();
        int mismatches = 0;
        for (JsonNode p : manifest.path("problems")) {
            String id = p.path("id").asText();
            JsonNode ref = null;
            for (JsonNode r : pot.path("results")) {
                if (id.equals(r.path("id").asText())) {
                    ref = r;
                }
            }
            if (ref == null) {
                System.err.println("[ot-bench] no POT result for [" + id + "], skipped");
                continue;
            }
            mismatches += benchProblem(base, p, ref, budget, records, mapper);
        }
        if (json != null) {
            ObjectNode out = mapper.createObjectNode();
            out.put("format", "mover-figures/1");
            out.put("command", "mover ot-bench " + String.join(" ", args));
            out.put("git", gitCommit());
            ArrayNode arr = out.putArray("records");
            records.forEach(arr::add);
            mapper.writerWithDefaultPrettyPrinter().writeValue(new File(json), out);
            System.out.println("wrote " + records.size() + " records to " + json);
        }
        if (mismatches > 0) {
            System.out.println(mismatches + " value(s) disagree with POT");
            return 1;
        }
        return 0;
    }

    private static int benchProblem(File base, JsonNode p, JsonNode ref, double budget, List<ObjectNode> records,
                                    ObjectMapper mapper) throws IOException {
        String id = p.path("id").asText();
        Metric metric = "wrd".equals(p.path("metric").asText()) ? Metric.WRD : Metric.WMD;
        int n = p.path("n").asInt();
        int m = p.path("m").asInt();
        int d = p.path("d").asInt();
        TokenMatrix x = TokenMatrix.ofDoubles(readF64(new File(base, p.path("x").asText()), n * d), n, d);
        TokenMatrix y = TokenMatrix.ofDoubles(readF64(new File(base, p.path("y").asText()), m * d), m, d);
        OtScorer scorer = OtScorer.builder(metric).build();

        // cost: masses + cost matrix from the vectors (query preparation included, as in POT's cost_ms)
        Timing cost = time(() -> scorer.buildProblem(scorer.prepareQuery(x, null), y, null).costMax(), budget);
        OtScorer.Problem prob = scorer.buildProblem(scorer.prepareQuery(x, null), y, null);
        double[] a = prob.queryMasses().clone();
        double[] b = prob.docMasses().clone();
        double[] c = Arrays.copyOf(prob.cost(), n * m);
        double costMax = prob.costMax();
        // kernel alone (same arithmetic as inside buildProblem), for the GFLOP/s figure
        double[] xs = new double[n * d];
        double[] ys = new double[m * d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                xs[i * d + k] = x.get(i, k);
            }
        }
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < d; k++) {
                ys[j * d + k] = y.get(j, k);
            }
        }
        double[] scratch = new double[n * m];
        Timing kernel = time(() -> {
            if (metric == Metric.WMD) {
                CostMatrix.euclidean(xs, n, ys, m, d, scratch);
            } else {
                CostMatrix.dot(xs, n, ys, m, d, scratch);
            }
            return scratch[0];
        }, budget);

        NetworkSimplex ns = new NetworkSimplex();
        Timing emd = time(() -> ns.solve(a, n, b, m, c), budget);
        long pivots = ns.pivots();
        double[] colMin = new double[m];
        Timing rwmd = time(() -> LowerBounds.rwmd(a, n, b, m, c, colMin), budget);

        double flops = 2.0 * n * m * d;
        double gflops = flops / (cost.ms * 1e6);
        double kernelGflops = flops / (kernel.ms * 1e6);
        double kernelBestGflops = flops / (kernel.bestMs * 1e6);
        int mismatches = 0;
        System.out.println();
        System.out.printf(Locale.ROOT, "%s  (n=%d m=%d d=%d, cost_max %.6g)%n", id, n, m, d, costMax);
        System.out.printf(Locale.ROOT, "  %-22s %10s %10s %9s  %s%n", "step", "java ms", "POT ms", "java/POT", "check");
        double potCost = ref.path("cost_ms").asDouble();
        double potEmd = ref.path("emd_ms").asDouble();
        double potTotal = ref.path("total_ms").asDouble();
        double potRwmd = ref.path("rwmd_ms").asDouble();
        row("cost matrix", cost.ms, potCost, String.format(Locale.ROOT,
            "%.1f GFLOP/s; kernel alone %.1f GFLOP/s median (%.3f ms), %.1f best", gflops, kernelGflops, kernel.ms,
            kernelBestGflops));
        double dd = Math.abs(emd.value - ref.path("distance").asDouble()) / costMax;
        boolean okD = dd <= EXACT_TOL;
        mismatches += okD ? 0 : 1;
        row("exact EMD", emd.ms, potEmd, String.format(Locale.ROOT, "%s |diff|/cost_max %.1e, %d pivots, %d runs",
            okD ? "ok" : "MISMATCH", dd, pivots, emd.runs));
        row("cost + EMD", cost.ms + emd.ms, potTotal, "");
        double dr = Math.abs(rwmd.value - ref.path("rwmd").asDouble()) / costMax;
        boolean okR = dr <= EXACT_TOL;
        mismatches += okR ? 0 : 1;
        row("RWMD", rwmd.ms, potRwmd, String.format(Locale.ROOT, "%s |diff|/cost_max %.1e", okR ? "ok" : "MISMATCH", dr));
        add(records, mapper, id, "mover-cost", "ratio_vs_pot", cost.ms / potCost, n, null);
        add(records, mapper, id, "mover-cost", "gflops", gflops, n, "masses + cost matrix, query preparation included");
        add(records, mapper, id, "mover-cost-kernel", "gflops", kernelGflops, n, "cost kernel alone, median, " + CostMatrix.implementation());
        add(records, mapper, id, "mover-cost-kernel", "gflops_best", kernelBestGflops, n, "cost kernel alone, fastest run");
        add(records, mapper, id, "mover-emd", "ratio_vs_pot", emd.ms / potEmd, n, null);
        add(records, mapper, id, "mover-emd", "ms", emd.ms, n, null);
        add(records, mapper, id, "mover-cost+emd", "ratio_vs_pot", (cost.ms + emd.ms) / potTotal, n, null);
        add(records, mapper, id, "mover-rwmd", "ratio_vs_pot", rwmd.ms / potRwmd, n, null);

        Sinkhorn sk = new Sinkhorn();
        for (JsonNode s : ref.path("sinkhorn")) {
            double eps = s.path("eps").asDouble();
            double epsAbs = s.path("eps_abs").asDouble();
            Timing t = time(() -> sk.solve(a, n, b, m, c, epsAbs, 1e-9, 10_000), budget / 2);
            boolean conv = sk.converged();
            boolean potConv = s.path("converged").asBoolean();
            double ds = Math.abs(t.value - s.path("value").asDouble()) / costMax;
            String check;
            if (conv && potConv) {
                boolean ok = ds <= SINKHORN_TOL;
                mismatches += ok ? 0 : 1;
                check = (ok ? "ok" : "MISMATCH") + String.format(Locale.ROOT, " |diff|/cost_max %.1e", ds);
            } else {
                check = "not compared (converged: java " + conv + ", POT " + potConv + ")";
            }
            row(String.format(Locale.ROOT, "sinkhorn eps=%s", eps), t.ms, s.path("ms").asDouble(),
                String.format(Locale.ROOT, "%s, sweeps java %d / POT %d", check, sk.iterations(), s.path("iterations").asInt()));
            add(records, mapper, id, "mover-sinkhorn-eps" + eps, "ratio_vs_pot", t.ms / s.path("ms").asDouble(), n,
                "java sweeps " + sk.iterations() + " (L1 < 1e-9), POT " + s.path("iterations").asInt() + " (L2 < 1e-9)");
        }
        return mismatches;
    }

    /**
     * Runs every timed code path on synthetic problems until C2 has compiled them (the Vector API is very slow
     * interpreted, so a short per-step warm-up would time the interpreter).
     */
    static double warmUp(double seconds) {
        java.util.Random r = new java.util.Random(1);
        int n = 64;
        int d = 384;
        double[] xs = new double[n * d];
        double[] ys = new double[n * d];
        for (int k = 0; k < xs.length; k++) {
            xs[k] = r.nextGaussian();
            ys[k] = r.nextGaussian();
        }
        TokenMatrix x = TokenMatrix.ofDoubles(xs, n, d);
        TokenMatrix y = TokenMatrix.ofDoubles(ys, n, d);
        NetworkSimplex ns = new NetworkSimplex();
        Sinkhorn sk = new Sinkhorn();
        double[] out = new double[n * n];
        double[] colMin = new double[n];
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        double sink = 0;
        while (System.nanoTime() < deadline) {
            for (Metric metric : Metric.values()) {
                OtScorer scorer = OtScorer.builder(metric).build();
                OtScorer.Problem p = scorer.buildProblem(scorer.prepareQuery(x, null), y, null);
                sink += ns.solve(p.queryMasses(), n, p.docMasses(), n, p.cost());
                sink += LowerBounds.rwmd(p.queryMasses(), n, p.docMasses(), n, p.cost(), colMin);
                sink += sk.solve(p.queryMasses(), n, p.docMasses(), n, p.cost(), 0.1 * p.costMax(), 1e-9, 50);
                CostMatrix.euclidean(xs, n, ys, n, d, out);
                CostMatrix.dot(xs, n, ys, n, d, out);
                sink += out[0];
            }
        }
        if (Double.isNaN(sink)) {
            System.out.println("warm-up produced NaN");
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void row(String step, double javaMs, double potMs, String check) {
        System.out.printf(Locale.ROOT, "  %-22s %10.3f %10.3f %9.2f  %s%n", step, javaMs, potMs, javaMs / potMs, check);
    }

    private static void add(List<ObjectNode> records, ObjectMapper mapper, String dataset, String system, String metric,
                            double value, int n, String note) {
        ObjectNode r = mapper.createObjectNode();
        r.put("task", "ot-bench");
        r.put("dataset", dataset);
        r.put("system", system);
        r.put("metric", metric);
        r.put("value", value);
        r.put("n", n);
        if (note != null) {
            r.put("note", note);
        }
        records.add(r);
    }

    /** Median wall time of repeated runs after warm-up. */
    static final class Timing {
        double ms;
        double bestMs;
        double value;
        int runs;
    }

    static Timing time(DoubleSupplier fn, double budgetSeconds) {
        Timing t = new Timing();
        // warm-up: let the JIT compile the hot loops (at least 5 runs or 0.3 s)
        long warmStart = System.nanoTime();
        for (int k = 0; k < 5 || (System.nanoTime() - warmStart < 300_000_000L && k < 2000); k++) {
            t.value = fn.getAsDouble();
        }
        List<Double> times = new ArrayList<>();
        double spent = 0;
        while (times.size() < 101 && (times.size() < 5 || spent < budgetSeconds)) {
            long t0 = System.nanoTime();
            t.value = fn.getAsDouble();
            double dt = (System.nanoTime() - t0) / 1e9;
            times.add(dt);
            spent += dt;
        }
        times.sort(null);
        int k = times.size();
        double med = k % 2 == 1 ? times.get(k / 2) : 0.5 * (times.get(k / 2 - 1) + times.get(k / 2));
        t.ms = med * 1000.0;
        t.bestMs = times.get(0) * 1000.0;
        t.runs = k;
        return t;
    }

    static double[] readF64(File f, int count) throws IOException {
        byte[] bytes = Files.readAllBytes(f.toPath());
        if (bytes.length != count * 8L) {
            throw new IOException("[ot-bench] file [" + f + "] has [" + bytes.length + "] bytes, expected [" + (count * 8L) + "]");
        }
        double[] out = new double[count];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
        return out;
    }

    /** The checked-out commit: {@code git rev-parse HEAD}, or read from {@code .git} (git may refuse a foreign-owned repo). */
    static String gitCommit() {
        try {
            Process pr = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String s = new String(pr.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            if (pr.waitFor() == 0 && s.matches("[0-9a-f]{40}")) {
                return s;
            }
        } catch (IOException e) {
            // fall through to reading .git
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (File dir = new File("").getAbsoluteFile(); dir != null; dir = dir.getParentFile()) {
            File git = new File(dir, ".git");
            if (!git.isDirectory()) {
                continue;
            }
            try {
                String head = Files.readString(new File(git, "HEAD").toPath()).trim();
                if (!head.startsWith("ref: ")) {
                    return head;
                }
                String ref = head.substring(5);
                File loose = new File(git, ref);
                if (loose.isFile()) {
                    return Files.readString(loose.toPath()).trim();
                }
                for (String line : Files.readAllLines(new File(git, "packed-refs").toPath())) {
                    if (line.endsWith(" " + ref)) {
                        return line.substring(0, line.indexOf(' '));
                    }
                }
            } catch (IOException e) {
                return "unknown";
            }
        }
        return "unknown";
    }
}
