package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code mover} rescorer (WRD) on hand-made English and Chinese corpora where BM25's first hit is a lexical
 * distractor: rescoring must bring the paraphrase to the top. With {@code query_weight: 0} the score is
 * {@code 1 - WRD}, in [0, 1].
 */
class RescoreIT {
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        Fixtures.createIndex(n, "rescore-en", "rescore-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, "rescore-en", Fixtures.docs(Fixtures.corpus("en.json")));
        Fixtures.createIndex(n, "rescore-zh", "rescore-zh", Fixtures.ZH_MODEL, Fixtures.ZH_DIMS);
        Fixtures.bulk(n, "rescore-zh", Fixtures.docs(Fixtures.corpus("zh.json")));
    }

    private record Ranked(List<String> ids, List<Double> scores) {}

    static Ranked search(Nodes.Node node, String index, String text, boolean rescore) throws Exception {
        JsonNode r = Http.ok(node.rest, "POST", "/" + index + "/_search", Fixtures.search(text, rescore, 20));
        List<String> ids = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        for (JsonNode h : r.path("hits").path("hits")) {
            ids.add(h.path("_id").asText());
            scores.add(h.path("_score").asDouble());
        }
        return new Ranked(ids, scores);
    }

    private static void assertWrdScores(Ranked r) {
        for (int i = 0; i < r.scores().size(); i++) {
            double s = r.scores().get(i);
            assertTrue(s >= 0.0 && s <= 1.0 + 1e-6, "1 - WRD outside [0, 1]: " + s + " in " + r);
            if (i > 0) {
                assertTrue(r.scores().get(i - 1) >= s, "hits not sorted by rescored score: " + r);
            }
        }
    }

    private static void assertCorpus(String index, String corpusFile) throws Exception {
        JsonNode corpus = Fixtures.corpus(corpusFile);
        int flips = 0;
        for (JsonNode q : corpus.path("queries")) {
            String text = q.path("text").asText();
            String relevant = q.path("relevant").asText();
            Ranked bm25 = search(n, index, text, false);
            Ranked wrd = search(n, index, text, true);
            assertTrue(bm25.ids().contains(relevant), "[" + text + "]: BM25 does not match [" + relevant + "]");
            assertEquals(bm25.ids().size(), wrd.ids().size(), "rescoring changed the hit count");
            assertWrdScores(wrd);
            if ("flip".equals(q.path("kind").asText())) {
                flips++;
                // the corpus is hard: BM25 puts the distractor first
                assertEquals(q.path("bm25_top").asText(), bm25.ids().get(0), "[" + text + "] BM25 order " + bm25);
                assertNotEquals(relevant, bm25.ids().get(0));
            }
            assertEquals(relevant, wrd.ids().get(0), "[" + text + "] rescored order " + wrd + ", BM25 " + bm25);
        }
        assertTrue(flips >= 2, "corpus has too few BM25-wrong queries");
    }

    @Test
    void wrdFixesBm25OrderOnEnglishCorpus() throws Exception {
        assertCorpus("rescore-en", "en.json");
    }

    @Test
    void wrdFixesBm25OrderOnChineseCorpus() throws Exception {
        assertCorpus("rescore-zh", "zh.json");
    }

    /** A document's own text has WRD ~0 to its stored vectors (int8 storage costs a little): score ~1, first. */
    @Test
    void identicalTextScoresNearOneAndRanksFirst() throws Exception {
        Map<String, String> docs = Fixtures.docs(Fixtures.corpus("en.json"));
        for (Map.Entry<String, String> e : docs.entrySet()) {
            Ranked r = search(n, "rescore-en", e.getValue(), true);
            assertEquals(e.getKey(), r.ids().get(0), "own text does not rank its doc first: " + r);
            assertTrue(r.scores().get(0) > 0.97, "own text scores only " + r.scores().get(0));
            if (r.scores().size() > 1) {
                assertTrue(r.scores().get(1) < r.scores().get(0) - 0.05, "no margin to the second hit: " + r);
            }
        }
    }

    /**
     * Only the window is rescored. With {@code query_weight: 1} (ES's query-rescorer semantics) hits past the window
     * keep their BM25 score and order, and window hits get BM25 + (1 - WRD), so they stay on top.
     */
    @Test
    void windowSizeLimitsRescoring() throws Exception {
        String text = "A doctor treated the patient in the hospital.";
        JsonNode plain = Http.ok(n.rest, "POST", "/rescore-en/_search", Fixtures.search(text, false, 20));
        String body = """
            { "size": 20, "_source": false, "query": { "match": { "body": %s } },
              "rescore": { "window_size": 2,
                "mover": { "field": "body_tokens", "query_text": %s, "query_weight": 1.0, "rescore_query_weight": 1.0 } } }
            """.formatted(Http.str(text), Http.str(text));
        JsonNode rescored = Http.ok(n.rest, "POST", "/rescore-en/_search", body);
        Map<String, Double> bm25 = new java.util.LinkedHashMap<>();
        plain.path("hits").path("hits").forEach(h -> bm25.put(h.path("_id").asText(), h.path("_score").asDouble()));
        List<String> bm25Ids = new ArrayList<>(bm25.keySet());
        JsonNode hits = rescored.path("hits").path("hits");
        assertEquals(bm25.size(), hits.size());
        for (int i = 0; i < hits.size(); i++) {
            String id = hits.path(i).path("_id").asText();
            double score = hits.path(i).path("_score").asDouble();
            double first = bm25.get(id);
            if (i < 2) {
                assertTrue(bm25Ids.subList(0, 2).contains(id), "hit " + i + " [" + id + "] is not from the window");
                assertTrue(score >= first - 1e-4 && score <= first + 1.0 + 1e-4,
                        "window hit [" + id + "] score " + score + " not in [bm25, bm25 + 1] for bm25 " + first);
            } else {
                assertEquals(bm25Ids.get(i), id, "hits outside the window moved: " + hits);
                assertEquals(first, score, 1e-4, "score of [" + id + "] outside the window changed");
            }
        }
    }
}
