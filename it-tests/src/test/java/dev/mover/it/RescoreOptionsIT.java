package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every option of the {@code mover} rescorer over HTTP on a real node (issue 6): metrics and solvers, exact pruning,
 * alignments, explanations, idf weights, the pooled blend, the stats counters, documents without the field, a value
 * from another model, and the bounds.
 */
class RescoreOptionsIT {
    private static final String INDEX = "options-en";
    private static final String QUERY = "A doctor treated the patient in the hospital.";
    private static Nodes.Node n;
    private static Map<String, String> docs;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        Http.ok(n.rest, "PUT", "/_ingest/pipeline/options-en", Fixtures.pipelineJson(Fixtures.EN_MODEL, true));
        Http.call(n.rest, "DELETE", "/" + INDEX, null);
        Http.ok(n.rest, "PUT", "/" + INDEX, Fixtures.indexJson("options-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS)
            .replace("\"number_of_shards\": 1", "\"number_of_shards\": 2"));
        docs = Fixtures.docs(Fixtures.corpus("en.json"));
        Fixtures.bulk(n, INDEX, docs);
        // a document without the text: the pipeline skips it (ignore_missing), the rescorer gives it similarity 0
        Http.ok(n.rest, "PUT", "/" + INDEX + "/_doc/no-body?refresh=true", "{ \"title\": \"the doctor and the patient\" }");
    }

    private static String body(int size, String moverOptions) {
        return """
            { "size": %d, "query": { "bool": { "should": [ { "match": { "body": %s } }, { "match": { "title": %s } } ] } },
              "rescore": { "window_size": 50, "mover": { "field": "body_tokens", "query_text": %s %s } } }
            """.formatted(size, Http.str(QUERY), Http.str(QUERY), Http.str(QUERY), moverOptions.isEmpty() ? "" : ", " + moverOptions);
    }

    private static JsonNode hits(String moverOptions, int size) throws Exception {
        return Http.ok(n.rest, "POST", "/" + INDEX + "/_search", body(size, moverOptions)).path("hits").path("hits");
    }

    /** Every document rescored (match_all first pass), so pruning has a whole window to work on. */
    private static JsonNode allHits(String moverOptions, int size) throws Exception {
        String b = """
            { "size": %d, "query": { "match_all": {} },
              "rescore": { "window_size": 50, "mover": { "field": "body_tokens", "query_text": %s, %s } } }
            """.formatted(size, Http.str(QUERY), moverOptions);
        return Http.ok(n.rest, "POST", "/" + INDEX + "/_search", b).path("hits").path("hits");
    }

    private static List<String> ids(JsonNode hits) {
        List<String> out = new ArrayList<>();
        hits.forEach(h -> out.add(h.path("_id").asText()));
        return out;
    }

    private static void assertSortedNonNegative(JsonNode hits, String what) {
        double prev = Double.POSITIVE_INFINITY;
        for (JsonNode h : hits) {
            double s = h.path("_score").asDouble();
            assertTrue(s >= 0 && s <= prev + 1e-6, what + ": scores not sorted / negative: " + hits);
            prev = s;
        }
    }

    @Test
    void everyMetricAndSolverGivesSortedNonNegativeScores() throws Exception {
        String best = null;
        for (String metric : List.of("wrd", "wmd", "maxsim")) {
            for (String solver : List.of("emd", "sinkhorn")) {
                if (metric.equals("maxsim") && solver.equals("sinkhorn")) {
                    continue;
                }
                JsonNode h = hits("\"metric\": \"" + metric + "\", \"solver\": \"" + solver + "\","
                    + " \"sinkhorn\": { \"epsilon\": 0.05, \"epsilon_relative_to\": \"max_cost\", \"tolerance\": 1e-6,"
                    + " \"max_iterations\": 2000 }", 5);
                assertSortedNonNegative(h, metric + "/" + solver);
                assertFalse(h.isEmpty());
                if (metric.equals("wrd") && solver.equals("emd")) {
                    best = h.path(0).path("_id").asText();
                }
                if (metric.equals("wrd") && solver.equals("sinkhorn")) {
                    assertEquals(best, h.path(0).path("_id").asText(), "entropic WRD changes the best hit");
                }
            }
        }
    }

    @Test
    void pruningKeepsTheTopHitsAndSkipsSolves() throws Exception {
        long skippedBefore = Http.ok(n.rest, "GET", "/_mover/stats", null).path("solves_skipped_by_pruning").asLong();
        // every metric and solver: the bounds (WCD, RWMD, ICT, dual) differ per solver, the top hits must not
        for (String config : List.of("\"metric\": \"wrd\"", "\"metric\": \"wmd\"",
                "\"metric\": \"wrd\", \"solver\": \"sinkhorn\"", "\"metric\": \"wmd\", \"solver\": \"sinkhorn\"")) {
            for (int size : new int[] {1, 2, 3}) {
                JsonNode pruned = allHits(config + ", \"prune\": true", size);
                JsonNode full = allHits(config + ", \"prune\": false", size);
                assertEquals(ids(full), ids(pruned), "pruning changed the top " + size + " of " + config);
                for (int i = 0; i < full.size(); i++) {
                    assertEquals(full.path(i).path("_score").asDouble(), pruned.path(i).path("_score").asDouble(), 1e-6, config);
                }
            }
        }
        long skippedAfter = Http.ok(n.rest, "GET", "/_mover/stats", null).path("solves_skipped_by_pruning").asLong();
        assertTrue(skippedAfter > skippedBefore, "pruning skipped no exact solve at size 1..3 of " + docs.size() + " hits");
    }

    @Test
    void alignmentsShowTokensAtTheirOffsets() throws Exception {
        JsonNode h = hits("\"metric\": \"wrd\", \"alignments\": 3, \"text_field\": \"body\"", 3);
        for (JsonNode hit : h) {
            if (hit.path("_id").asText().equals("no-body")) {
                continue;
            }
            JsonNode m = hit.path("fields").path("_mover").path(0);
            assertEquals("wrd", m.path("metric").asText(), hit.toString());
            double distance = m.path("distance").asDouble();
            assertEquals(1 - distance, hit.path("_score").asDouble(), 1e-4, "score is not 1 - WRD: " + hit);
            JsonNode al = m.path("alignments");
            assertEquals(3, al.size(), hit.toString());
            String text = docs.get(hit.path("_id").asText());
            double lastFlow = Double.POSITIVE_INFINITY;
            for (JsonNode a : al) {
                assertTrue(QUERY.toLowerCase().contains(a.path("query_token").asText().toLowerCase().replace("##", "")), a.toString());
                int s = a.path("doc_start").asInt();
                int e = a.path("doc_end").asInt();
                assertEquals(text.substring(s, e), a.path("doc_token").asText(), "doc token not at its offsets: " + a);
                assertTrue(a.path("flow").asDouble() <= lastFlow + 1e-12, "alignments not strongest first: " + al);
                lastFlow = a.path("flow").asDouble();
            }
        }
    }

    @Test
    void explanationMatchesTheScore() throws Exception {
        JsonNode r = Http.ok(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"metric\": \"wrd\"").replaceFirst("\\{", "{ \"explain\": true,"));
        for (JsonNode hit : r.path("hits").path("hits")) {
            assertEquals(hit.path("_score").asDouble(), hit.path("_explanation").path("value").asDouble(), 1e-5, hit.toString());
            assertTrue(hit.path("_explanation").toString().contains("wrd distance"), hit.toString());
        }
    }

    @Test
    void idfWeightsChangeScoresAndNeedTheTextField() throws Exception {
        JsonNode plain = hits("\"metric\": \"wrd\"", 3);
        for (String w : List.of("idf", "norm_idf")) {
            JsonNode weighted = hits("\"metric\": \"wrd\", \"weights\": \"" + w + "\", \"text_field\": \"body\"", 3);
            assertSortedNonNegative(weighted, w);
            assertFalse(plain.path(0).path("_score").asDouble() == weighted.path(0).path("_score").asDouble()
                && plain.path(1).path("_score").asDouble() == weighted.path(1).path("_score").asDouble(), w + " changed nothing");
        }
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"metric\": \"wrd\", \"weights\": \"idf\"")), "weights", "text_field");
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search",
            body(3, "\"metric\": \"wrd\", \"weights\": \"idf\", \"text_field\": \"body_vector\"")), "text_field");
    }

    @Test
    void pooledBlendIsTheWeightedMean() throws Exception {
        JsonNode h = hits("\"pooled_field\": \"body_vector\", \"pooled_weight\": 0.4, \"alignments\": 1", 3);
        for (JsonNode hit : h) {
            JsonNode m = hit.path("fields").path("_mover").path(0);
            if (m.path("missing").asBoolean()) {
                continue;
            }
            double sim = m.path("similarity").asDouble();
            double cos = m.path("pooled_cosine").asDouble();
            assertEquals(0.6 * sim + 0.4 * Math.max(0, cos), hit.path("_score").asDouble(), 1e-4, hit.toString());
        }
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"pooled_weight\": 0.4")), "pooled_weight");
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search",
            body(3, "\"pooled_field\": \"body\", \"pooled_weight\": 0.4")), "pooled_field");
    }

    @Test
    void defaultsAreMaxsimBlendedWithThePooledCosineWhenThereIsAPooledField() throws Exception {
        for (double w : new double[] {0, 0.5}) {
            String options = w == 0 ? "\"alignments\": 1" : "\"pooled_field\": \"body_vector\", \"alignments\": 1";
            for (JsonNode hit : hits(options, 5)) {
                JsonNode m = hit.path("fields").path("_mover").path(0);
                if (m.path("missing").asBoolean()) {
                    continue;
                }
                assertEquals("maxsim", m.path("metric").asText(), hit.toString());
                double cos = w == 0 ? 0 : Math.max(0, m.path("pooled_cosine").asDouble());
                assertEquals((1 - w) * m.path("similarity").asDouble() + w * cos, hit.path("_score").asDouble(), 1e-4, hit.toString());
            }
        }
        // options that need a transport metric name the default that refused them
        for (String bad : List.of("\"weights\": \"idf\", \"text_field\": \"body\"", "\"doc_mass\": \"auto\"",
            "\"solver\": \"sinkhorn\"")) {
            Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, bad)), "metric", "maxsim");
        }
    }

    /** Similarity per id of a match_all search rescored with {@code options} (documents with tokens only). */
    private static Map<String, Double> scoresById(String options) throws Exception {
        Map<String, Double> out = new java.util.HashMap<>();
        for (JsonNode h : allHits(options, 50)) {
            if (!h.path("_id").asText().equals("no-body")) {
                out.put(h.path("_id").asText(), h.path("_score").asDouble());
            }
        }
        return out;
    }

    /**
     * A document that holds the query verbatim inside a long unrelated text: partial transport matches the query to
     * that part and ranks it first although its centroid lies far from the query's (the centroid distance does not bound
     * partial transport, see PartialTransportTests). Pruning must keep it, for both metrics.
     */
    @Test
    void partialTransportPruningKeepsADocumentWhoseCentroidIsFar() throws Exception {
        String index = "partial-prune";
        Http.call(n.rest, "DELETE", "/" + index, null);
        Http.ok(n.rest, "PUT", "/" + index, Fixtures.indexJson("options-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS));
        Map<String, String> d = new java.util.LinkedHashMap<>();
        d.put("verbatim", "Stock markets fell sharply on Monday as investors weighed rising interest rates, weak factory "
            + "output in Europe and a stronger dollar. Oil prices slipped and bond yields climbed to their highest level "
            + "in a decade, while technology shares led the decline. " + QUERY + " Analysts expect central banks to keep "
            + "tightening policy through the next quarter, and currency traders are betting on further volatility.");
        d.put("nurse", "A nurse looked after a sick man at the clinic.");
        d.put("physician", "The physician examined the child and wrote a prescription.");
        d.put("ward", "Patients rest in the ward after surgery.");
        d.put("ambulance", "An ambulance took the injured driver to the emergency room.");
        Fixtures.bulk(n, index, d);
        String body = """
            { "size": 1, "query": { "match_all": {} },
              "rescore": { "window_size": 10, "mover": { "field": "body_tokens", "query_text": %s, "metric": %s,
                "doc_mass": "auto", "prune": %s } } }
            """;
        for (String metric : List.of("wrd", "wmd")) {
            JsonNode full = Http.ok(n.rest, "POST", "/" + index + "/_search", body.formatted(Http.str(QUERY), Http.str(metric), "false"))
                .path("hits").path("hits");
            assertEquals("verbatim", full.path(0).path("_id").asText(), metric + ": the verbatim document should win: " + full);
            JsonNode pruned = Http.ok(n.rest, "POST", "/" + index + "/_search", body.formatted(Http.str(QUERY), Http.str(metric), "true"))
                .path("hits").path("hits");
            assertEquals(ids(full), ids(pruned), metric + ": pruning dropped the partial-transport winner: " + pruned);
            assertEquals(full.path(0).path("_score").asDouble(), pruned.path(0).path("_score").asDouble(), 1e-6);
        }
    }

    @Test
    void partialTransportLiesBetweenWrdAndItsOneSidedBound() throws Exception {
        Map<String, Double> wrd = scoresById("\"metric\": \"wrd\", \"prune\": false");
        Map<String, Double> one = scoresById("\"metric\": \"wrd\", \"prune\": false, \"doc_mass\": 1");
        Map<String, Double> auto = scoresById("\"metric\": \"wrd\", \"prune\": false, \"doc_mass\": \"auto\"");
        Map<String, Double> tiny = scoresById("\"metric\": \"wrd\", \"prune\": false, \"doc_mass\": 0.001");
        assertEquals(wrd.keySet(), auto.keySet());
        int higher = 0;
        for (String id : wrd.keySet()) {
            assertEquals(wrd.get(id), one.get(id), 1e-6, "doc_mass 1 is not plain WRD for " + id);
            // RWMD(q -> d) <= partial <= EMD, so 1 - WRD <= partial similarity <= similarity at a vanishing fraction
            assertTrue(auto.get(id) >= wrd.get(id) - 1e-6, id + ": partial " + auto.get(id) + " below WRD " + wrd.get(id));
            assertTrue(auto.get(id) <= tiny.get(id) + 1e-6, id + ": partial " + auto.get(id) + " above its bound " + tiny.get(id));
            if (auto.get(id) > wrd.get(id) + 1e-4) {
                higher++;
            }
        }
        assertTrue(higher > 0, "doc_mass auto changed no score: the query is shorter than every document");
        for (int size : new int[] {1, 3}) {
            JsonNode pruned = allHits("\"doc_mass\": \"auto\", \"metric\": \"wrd\", \"prune\": true", size);
            JsonNode full = allHits("\"doc_mass\": \"auto\", \"metric\": \"wrd\", \"prune\": false", size);
            assertEquals(ids(full), ids(pruned), "pruning changed the partial-transport top " + size);
        }
        JsonNode h = hits("\"metric\": \"wrd\", \"doc_mass\": 0.5, \"alignments\": 2, \"text_field\": \"body\"", 3);
        for (JsonNode hit : h) {
            JsonNode m = hit.path("fields").path("_mover").path(0);
            if (m.path("missing").asBoolean()) {
                continue;
            }
            assertEquals(1 - m.path("distance").asDouble(), hit.path("_score").asDouble(), 1e-4, hit.toString());
            assertEquals(2, m.path("alignments").size(), hit.toString());
            String text = docs.get(hit.path("_id").asText());
            for (JsonNode a : m.path("alignments")) {
                assertEquals(text.substring(a.path("doc_start").asInt(), a.path("doc_end").asInt()), a.path("doc_token").asText(), a.toString());
            }
        }
        for (String bad : List.of("\"doc_mass\": 0", "\"doc_mass\": 1.5", "\"doc_mass\": \"half\"",
            "\"doc_mass\": \"auto\", \"metric\": \"maxsim\"", "\"doc_mass\": 0.5, \"metric\": \"wrd\", \"solver\": \"sinkhorn\"")) {
            Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, bad)), "doc_mass");
        }
    }

    @Test
    void documentWithoutTheFieldGetsOnlyItsWeightedFirstPassScore() throws Exception {
        JsonNode h = hits("\"query_weight\": 0.0", 20);
        boolean seen = false;
        for (JsonNode hit : h) {
            if (hit.path("_id").asText().equals("no-body")) {
                seen = true;
                assertEquals(0.0, hit.path("_score").asDouble(), 1e-9, "doc without tokens got a mover score: " + hit);
            }
        }
        assertTrue(seen, "the document without body was not among the hits: " + ids(h));
    }

    @Test
    void valueFromAnotherModelIsRejectedAtIndexTime() throws Exception {
        // the English pipeline's output, indexed into a field mapped for the Chinese model
        JsonNode sim = Http.ok(n.rest, "POST", "/_ingest/pipeline/options-en/_simulate",
            "{ \"docs\": [ { \"_source\": { \"body\": \"The cat sat on the mat.\" } } ] }");
        String value = sim.path("docs").path(0).path("doc").path("_source").path("body_tokens").asText();
        assertFalse(value.isEmpty(), sim.toString());
        Http.call(n.rest, "DELETE", "/options-zh-raw", null);
        Http.ok(n.rest, "PUT", "/options-zh-raw",
            "{ \"mappings\": { \"properties\": { \"t\": { \"type\": \"mover_tokens\", \"model\": \"" + Fixtures.ZH_MODEL + "\" } } } }");
        Http.Reply r = Http.call(n.rest, "PUT", "/options-zh-raw/_doc/1?refresh=true", "{ \"t\": " + Http.str(value) + " }");
        Http.assertBadRequest(r, "t");
        JsonNode count = Http.ok(n.rest, "GET", "/options-zh-raw/_count", null);
        assertEquals(0, count.path("count").asInt(), "a rejected document was indexed");
        Http.Reply corrupt = Http.call(n.rest, "PUT", "/options-zh-raw/_doc/2?refresh=true", "{ \"t\": \"bm90IHZlY3RvcnM=\" }");
        Http.assertBadRequest(corrupt, "t");
    }

    @Test
    void boundsAreEnforced() throws Exception {
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search",
            body(3, "\"metric\": \"wrd\", \"solver\": \"sinkhorn\", \"sinkhorn\": { \"max_iterations\": 100000000 }")), "sinkhorn.max_iterations");
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"solver\": \"simplex\"")), "solver");
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"alignments\": 1000")), "alignments");
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", body(3, "\"bogus\": 1")), "bogus");
        String longQuery = Http.str("word ".repeat(400));
        String tooLong = """
            { "query": { "match_all": {} },
              "rescore": { "window_size": 10, "mover": { "field": "body_tokens", "query_text": %s } } }
            """.formatted(longQuery);
        Http.assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search", tooLong), "query_text");
        Http.assertNodeUp(n.rest);
    }
}
