package dev.mover.bench.rescore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RescoreBenchTests {

    @Test
    void parseDefaultsAndErrors() {
        RescoreBench.Options o = RescoreBench.parse(new String[0]);
        assertEquals(50, o.queries());
        assertEquals(5, o.warmup());
        assertEquals(100, o.window());
        assertEquals(10, o.size());
        assertTrue(o.pot());
        assertFalse(o.simd());
        RescoreBench.Options p = RescoreBench.parse(new String[] {"--queries", "7", "--json", "x.json", "--no-pot", "--simd"});
        assertEquals(7, p.queries());
        assertEquals(Path.of("x.json"), p.json());
        assertFalse(p.pot());
        assertTrue(p.simd());
        assertNull(RescoreBench.parse(new String[] {"--help"}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> RescoreBench.parse(new String[] {"--size", "20", "--window", "10"}));
        assertEquals("[--size] [20] must not exceed [--window] [10]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RescoreBench.parse(new String[] {"--queries", "0"}));
        assertThrows(IllegalArgumentException.class, () -> RescoreBench.parse(new String[] {"--queries"}));
        assertThrows(IllegalArgumentException.class, () -> RescoreBench.parse(new String[] {"--bogus"}));
    }

    @Test
    void everyMetricAndSolverWithAndWithoutPruning() {
        List<RescoreBench.Config> cs = RescoreBench.configs();
        assertEquals(12, cs.size());
        Set<String> systems = new HashSet<>();
        cs.forEach(c -> systems.add(c.system()));
        assertEquals(12, systems.size());
        assertTrue(systems.containsAll(List.of("bm25+wrd-emd-prune", "bm25+wmd-sinkhorn-noprune", "bm25+maxsim-prune",
            "bm25+wrd-partial-prune", "bm25+wrd-partial-noprune")));
    }

    @Test
    void prunableShareCountsBoundsAboveTheKthDistance() {
        // query 0: distances 1..5, k = 2 -> d_k = 2; bounds above 2: 2.5 and 4.5 (2.0 is not strictly above)
        double[][] dist = {{1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}};
        double[][] lb = {{0.5, 1.5, 2.5, 2.0, 4.5}, {0, 0, 0, 0, 0}};
        assertEquals(2.0 / 10, RescoreBench.prunableShare(dist, lb, 2), 1e-15);
        assertEquals(0.0, RescoreBench.prunableShare(dist, lb, 5), 1e-15);
    }

    @Test
    void percentiles() {
        assertEquals(2.0, RescoreBench.p(new double[] {3, 1, 2}, 0.5), 1e-15);
        assertEquals(2.9, RescoreBench.p(new double[] {3, 1, 2}, 0.95), 1e-12);
    }

    /** The POT script reads the documented files and computes the same WRD / WMD as OtScorer (needs POT; skipped without). */
    @Test
    void potScriptAgreesWithOtScorer(@TempDir Path dir) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Path script = Path.of("src/main/python/pot_rescore.py");
        Assumptions.assumeTrue(Files.isExecutable(python) && Files.isRegularFile(script), "no /usr/bin/python3 or script");
        Process check = new ProcessBuilder(python.toString(), "-c", "import ot, numpy").redirectErrorStream(true).start();
        check.getInputStream().readAllBytes();
        Assumptions.assumeTrue(check.waitFor(60, TimeUnit.SECONDS) && check.exitValue() == 0, "POT is not installed");

        int d = 8;
        int n = 3;
        int[] ms = {5, 4};
        Random r = new Random(7);
        float[] q = randomRows(r, n, d);
        float[][] docs = {randomRows(r, ms[0], d), randomRows(r, ms[1], d)};
        write(dir.resolve("queries.f32"), q);
        write(dir.resolve("docs.f32"), concat(docs[0], docs[1]));
        ObjectMapper om = new ObjectMapper();
        ObjectNode m = om.createObjectNode().put("format", "mover-rescore-pot/1").put("dims", d)
            .put("queries_file", "queries.f32").put("docs_file", "docs.f32").put("repeats", 1);
        m.putArray("docs").add(om.createObjectNode().put("id", "a").put("row", 0).put("m", ms[0]))
            .add(om.createObjectNode().put("id", "b").put("row", ms[0]).put("m", ms[1]));
        ObjectNode qn = om.createObjectNode().put("id", "q").put("row", 0).put("n", n).put("warmup", false);
        qn.putArray("docs").add(0).add(1);
        m.putArray("queries").add(qn);
        ArrayNode cfgs = m.putArray("configs");
        cfgs.addObject().put("name", "wrd-emd").put("metric", "wrd").put("solver", "emd");
        cfgs.addObject().put("name", "wmd-emd").put("metric", "wmd").put("solver", "emd");
        cfgs.addObject().put("name", "wrd-sinkhorn").put("metric", "wrd").put("solver", "sinkhorn").put("epsilon", 0.1)
            .put("epsilon_relative_to", "max_cost").put("tolerance", 1e-12).put("max_iterations", 100000);
        Files.writeString(dir.resolve("manifest.json"), om.writeValueAsString(m));

        Process p = new ProcessBuilder(python.toString(), script.toString(), "--dir", dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        JsonNode res = om.readTree(dir.resolve("pot.json").toFile()).path("configs");

        TokenMatrix qm = TokenMatrix.of(q, n, d);
        for (String name : List.of("wrd-emd", "wmd-emd", "wrd-sinkhorn")) {
            OtScorer.Builder b = OtScorer.builder(name.startsWith("wmd") ? Metric.WMD : Metric.WRD);
            if (name.endsWith("sinkhorn")) {
                b.solver(Solver.SINKHORN).sinkhornEpsilon(0.1, true).sinkhornTolerance(1e-12).sinkhornMaxIterations(100000);
            }
            OtScorer s = b.build();
            OtScorer.Prepared prep = s.prepareQuery(qm, null);
            JsonNode c = res.path(name);
            assertEquals(1, c.path("ms").size(), name);
            for (int i = 0; i < 2; i++) {
                double java = s.score(prep, TokenMatrix.of(docs[i], ms[i], d), null, 0).distance();
                double pot = c.path("distances").get(0).get(i).asDouble();
                double costMax = c.path("cost_max").get(0).get(i).asDouble();
                assertEquals(java, pot, 1e-9 * costMax, name + " doc " + i);
            }
        }
    }

    private static float[] randomRows(Random r, int rows, int d) {
        float[] v = new float[rows * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void write(Path f, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(f, b.array());
    }
}
