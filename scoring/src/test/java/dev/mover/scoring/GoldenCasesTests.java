package dev.mover.scoring;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of the POT golden file: exact, similarity, RWMD halves, WCD, cost_max, Sinkhorn; undefined rejected. */
class GoldenCasesTests {
    static final double EXACT_TOL = 1e-9;
    static final double SINKHORN_TOL = 1e-6;
    static final int SINKHORN_CAP = 100_000;

    @Test
    void testGoldenFile_hasAll54Cases() throws IOException {
        assertEquals(54, GoldenCases.load().size());
    }

    @TestFactory
    List<DynamicTest> testGoldenCase() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : GoldenCases.load()) {
            tests.add(DynamicTest.dynamicTest(c.get("id").asText(), () -> check(c)));
        }
        return tests;
    }

    private static void check(JsonNode c) {
        String id = c.get("id").asText();
        int d = c.get("d").asInt();
        int n = c.get("n").asInt();
        int m = c.get("m").asInt();
        TokenMatrix x = GoldenCases.matrix(c.get("x"), n, d);
        TokenMatrix y = GoldenCases.matrix(c.get("y"), m, d);
        JsonNode w = c.get("weights");
        double[] wx = GoldenCases.doubles(w.get("x"));
        double[] wy = GoldenCases.doubles(w.get("y"));
        JsonNode e = c.get("expected");
        OtScorer scorer = OtScorer.builder(GoldenCases.metric(c)).massRule(GoldenCases.rule(c)).build();
        if (e.get("distance").isNull()) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> scorer.score(scorer.prepareQuery(x, wx), y, wy, 0), id + " must be rejected");
            assertTrue(ex.getMessage().startsWith("[mover] "), ex.getMessage());
            return;
        }
        OtResult r = scorer.score(scorer.prepareQuery(x, wx), y, wy, 3);
        double cmax = e.get("cost_max").asDouble();
        double tol = EXACT_TOL * cmax;
        assertEquals(cmax, r.costMax(), tol, id + " cost_max");
        assertEquals(e.get("distance").asDouble(), r.distance(), tol, id + " distance");
        if (e.has("similarity") && !e.get("similarity").isNull()) {
            assertEquals(e.get("similarity").asDouble(), r.similarity(), tol, id + " similarity");
        }
        assertEquals(e.get("rwmd").asDouble(), r.rwmd(), tol, id + " rwmd");
        assertEquals(e.get("rwmd_x_to_y").asDouble(), r.rwmdQueryToDoc(), tol, id + " rwmd_x_to_y");
        assertEquals(e.get("rwmd_y_to_x").asDouble(), r.rwmdDocToQuery(), tol, id + " rwmd_y_to_x");
        assertEquals(e.get("wcd").asDouble(), r.wcd(), tol, id + " wcd");
        for (JsonNode s : e.get("sinkhorn")) {
            JsonNode sweeps = s.get("plain_sweeps_to_1e-9");
            if (sweeps.isNull() || sweeps.asInt() > SINKHORN_CAP) {
                continue;
            }
            OtScorer sk = OtScorer.builder(GoldenCases.metric(c)).massRule(GoldenCases.rule(c)).solver(Solver.SINKHORN)
                .sinkhornEpsilon(s.get("eps_abs").asDouble(), false).sinkhornTolerance(1e-9)
                .sinkhornMaxIterations(SINKHORN_CAP).build();
            OtResult rs = sk.score(sk.prepareQuery(x, wx), y, wy, 0);
            String what = id + " sinkhorn eps_abs=" + s.get("eps_abs").asDouble();
            assertTrue(rs.converged(), what + " did not converge: " + rs.iterations() + " sweeps, violation " + rs.marginalViolation());
            assertEquals(s.get("value").asDouble(), rs.distance(), SINKHORN_TOL * cmax, what);
            // same iterates as plain log-domain Sinkhorn from zero potentials: the sweep count matches the hint
            assertEquals(sweeps.asInt(), rs.iterations(), 1.0, what + " sweeps");
            assertTrue(rs.distance() >= r.distance() - tol, what + " below EMD");
        }
    }
}
