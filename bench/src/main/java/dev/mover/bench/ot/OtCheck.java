package dev.mover.bench.ot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.scoring.MassRule;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtResult;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./mover ot-check FILE}: checks the scoring module against any {@code mover-ot-golden/1} file.
 *
 * <p>Per case: the exact distance, similarity (when given), both RWMD halves and their max, WCD and cost_max within
 * {@code 1e-9 x cost_max} (double path, Euclidean cost from differences); each Sinkhorn entry whose
 * {@code plain_sweeps_to_1e-9} is within the sweep cap (100000) within {@code 1e-6 x cost_max}, converged, and not
 * below the exact value; a case whose {@code expected.distance} is null passes only if it is rejected with an
 * {@link IllegalArgumentException}. Prints one line per failing case, then {@code N passed, M failed}; exit code 0
 * iff nothing failed.
 */
public final class OtCheck {
    static final double EXACT_TOL = 1e-9;
    static final double SINKHORN_TOL = 1e-6;
    static final int SINKHORN_CAP = 100_000;

    private OtCheck() {}

    public static int run(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: mover ot-check FILE   (a mover-ot-golden/1 JSON file)");
            return 2;
        }
        File file = new File(args[0]);
        if (!file.isFile()) {
            System.err.println("[ot-check] file not found [" + file + "]");
            return 2;
        }
        JsonNode root = new ObjectMapper().readTree(file);
        String format = root.path("format").asText();
        if (!"mover-ot-golden/1".equals(format)) {
            System.err.println("[ot-check] unsupported format [" + format + "], expected [mover-ot-golden/1]");
            return 2;
        }
        int passed = 0;
        int failed = 0;
        int sinkhornChecked = 0;
        int sinkhornSkipped = 0;
        for (JsonNode c : root.path("cases")) {
            String id = c.path("id").asText("?");
            List<String> problems = new ArrayList<>();
            int[] sk = new int[2];
            try {
                checkCase(c, problems, sk);
            } catch (RuntimeException e) {
                problems.add("unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            sinkhornChecked += sk[0];
            sinkhornSkipped += sk[1];
            if (problems.isEmpty()) {
                passed++;
            } else {
                failed++;
                System.out.println("FAIL " + id + ": " + String.join("; ", problems));
            }
        }
        System.out.println(String.format(Locale.ROOT, "sinkhorn entries checked [%d], skipped (plain_sweeps_to_1e-9 > %d or null) [%d]",
            sinkhornChecked, SINKHORN_CAP, sinkhornSkipped));
        System.out.println(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static void checkCase(JsonNode c, List<String> problems, int[] sk) {
        Metric metric = metric(c.path("metric").asText());
        MassRule rule = rule(c.path("weights").path("rule").asText());
        int d = c.path("d").asInt();
        int n = c.path("n").asInt();
        int m = c.path("m").asInt();
        JsonNode e = c.path("expected");
        boolean undefined = e.path("distance").isNull() || e.path("distance").isMissingNode();
        TokenMatrix x;
        TokenMatrix y;
        double[] wx;
        double[] wy;
        OtScorer scorer = OtScorer.builder(metric).massRule(rule).build();
        OtResult r;
        try {
            x = matrix(c.path("x"), n, d);
            y = matrix(c.path("y"), m, d);
            wx = doubles(c.path("weights").path("x"));
            wy = doubles(c.path("weights").path("y"));
            r = scorer.score(scorer.prepareQuery(x, wx), y, wy, 0);
        } catch (IllegalArgumentException ex) {
            if (!undefined) {
                problems.add("rejected a defined case: " + ex.getMessage());
            }
            return;
        }
        if (undefined) {
            problems.add(String.format(Locale.ROOT, "undefined distance (%s) was not rejected, got [%s]",
                e.path("error").asText("null"), r.distance()));
            return;
        }
        double cmax = e.path("cost_max").asDouble();
        double tol = EXACT_TOL * cmax;
        compare(problems, "cost_max", cmax, r.costMax(), tol);
        compare(problems, "distance", e.path("distance").asDouble(), r.distance(), tol);
        if (e.has("similarity") && !e.path("similarity").isNull()) {
            compare(problems, "similarity", e.path("similarity").asDouble(), r.similarity(), tol);
        }
        compare(problems, "rwmd", e.path("rwmd").asDouble(), r.rwmd(), tol);
        compare(problems, "rwmd_x_to_y", e.path("rwmd_x_to_y").asDouble(), r.rwmdQueryToDoc(), tol);
        compare(problems, "rwmd_y_to_x", e.path("rwmd_y_to_x").asDouble(), r.rwmdDocToQuery(), tol);
        compare(problems, "wcd", e.path("wcd").asDouble(), r.wcd(), tol);
        for (JsonNode s : e.path("sinkhorn")) {
            JsonNode sweeps = s.path("plain_sweeps_to_1e-9");
            if (sweeps.isNull() || sweeps.isMissingNode() || sweeps.asLong() > SINKHORN_CAP) {
                sk[1]++;
                continue;
            }
            sk[0]++;
            double epsAbs = s.path("eps_abs").asDouble();
            OtScorer sinkhorn = OtScorer.builder(metric).massRule(rule).solver(Solver.SINKHORN)
                .sinkhornEpsilon(epsAbs, false).sinkhornTolerance(1e-9).sinkhornMaxIterations(SINKHORN_CAP).build();
            OtResult rs = sinkhorn.score(sinkhorn.prepareQuery(x, wx), y, wy, 0);
            String what = String.format(Locale.ROOT, "sinkhorn(eps_abs=%s)", epsAbs);
            if (!rs.converged()) {
                problems.add(String.format(Locale.ROOT, "%s not converged after [%d] sweeps, violation [%s]",
                    what, rs.iterations(), rs.marginalViolation()));
                continue;
            }
            compare(problems, what, s.path("value").asDouble(), rs.distance(), SINKHORN_TOL * cmax);
            if (rs.distance() < r.distance() - tol) {
                problems.add(String.format(Locale.ROOT, "%s value [%s] below exact [%s]", what, rs.distance(), r.distance()));
            }
        }
        if (r.rwmd() > r.distance() + tol || r.wcd() > r.distance() + tol) {
            problems.add(String.format(Locale.ROOT, "bound above distance: rwmd [%s], wcd [%s], distance [%s]",
                r.rwmd(), r.wcd(), r.distance()));
        }
    }

    private static void compare(List<String> problems, String what, double expected, double got, double tol) {
        if (!(Math.abs(got - expected) <= tol)) {
            problems.add(String.format(Locale.ROOT, "%s expected [%s] got [%s] |diff| [%.3g] > tol [%.3g]",
                what, expected, got, Math.abs(got - expected), tol));
        }
    }

    static Metric metric(String s) {
        switch (s) {
            case "wmd":
                return Metric.WMD;
            case "wrd":
                return Metric.WRD;
            default:
                throw new IllegalArgumentException("[ot-check] unknown metric [" + s + "]");
        }
    }

    static MassRule rule(String s) {
        switch (s) {
            case "uniform":
                return MassRule.UNIFORM;
            case "norm":
                return MassRule.NORM;
            case "explicit":
                return MassRule.EXPLICIT;
            default:
                throw new IllegalArgumentException("[ot-check] unknown weights rule [" + s + "]");
        }
    }

    static TokenMatrix matrix(JsonNode rows, int count, int d) {
        if (rows.size() != count) {
            throw new IllegalArgumentException("[ot-check] expected [" + count + "] rows but found [" + rows.size() + "]");
        }
        double[] data = new double[count * d];
        for (int r = 0; r < count; r++) {
            JsonNode row = rows.get(r);
            if (row.size() != d) {
                throw new IllegalArgumentException("[ot-check] row [" + r + "] has [" + row.size() + "] numbers, expected [" + d + "]");
            }
            for (int k = 0; k < d; k++) {
                data[r * d + k] = Double.parseDouble(row.get(k).asText());
            }
        }
        return TokenMatrix.ofDoubles(data, count, d);
    }

    static double[] doubles(JsonNode arr) {
        if (arr == null || arr.isNull() || arr.isMissingNode()) {
            return null;
        }
        double[] out = new double[arr.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = Double.parseDouble(arr.get(k).asText());
        }
        return out;
    }
}
