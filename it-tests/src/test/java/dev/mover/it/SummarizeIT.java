package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /{index}/_mover/summarize}: extractive summaries whose sentences exist in the source at the returned
 * offsets, in document order, within the sentence budget, query-aware when {@code query_text} is given.
 */
class SummarizeIT {
    private static final String INDEX = "summarize-docs";
    private static final Map<String, String> DOCS = new LinkedHashMap<>();
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        DOCS.put("bicycle", Fixtures.longEnglish());
        DOCS.put("short", "Rain is expected tomorrow. Take an umbrella when you go out. The sun returns on Sunday.");
        DOCS.put("zh", "自行车在十九世纪逐渐成形。早期的车子没有踏板，骑车人用脚蹬地前进。"
                + "后来出现了链条驱动后轮的安全自行车。充气轮胎让骑车更加舒适。今天，许多城市修建了自行车道。");
        Fixtures.createIndex(n, INDEX, "summarize-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, INDEX, DOCS);
    }

    /** Checks every hit's sentences against the indexed text; returns the hits. */
    private static JsonNode summarize(String body, int maxSentences) throws Exception {
        JsonNode r = Http.ok(n.rest, "POST", "/" + INDEX + "/_mover/summarize", body);
        JsonNode hits = r.path("hits");
        assertTrue(hits.isArray() && hits.size() > 0, "no hits: " + r);
        for (JsonNode hit : hits) {
            assertEquals(INDEX, hit.path("_index").asText());
            String source = DOCS.get(hit.path("_id").asText());
            assertEquals("extractive", hit.path("mode").asText(), hit.toString());
            JsonNode sentences = hit.path("sentences");
            assertTrue(sentences.size() >= 1 && sentences.size() <= maxSentences,
                    "[" + sentences.size() + "] sentences for max_sentences [" + maxSentences + "]: " + hit);
            int lastEnd = -1;
            for (JsonNode s : sentences) {
                int start = s.path("start").asInt();
                int end = s.path("end").asInt();
                assertTrue(0 <= start && start < end && end <= source.length(), "offsets out of range: " + s);
                assertEquals(source.substring(start, end), s.path("text").asText(),
                        "sentence is not the source text at its offsets");
                assertTrue(start >= lastEnd, "sentences overlap or are not in document order: " + sentences);
                lastEnd = end;
                double score = s.path("score").asDouble(Double.NaN);
                assertTrue(Double.isFinite(score), "score " + s.path("score"));
            }
        }
        return hits;
    }

    @Test
    void summaryOfLongDocumentByIds() throws Exception {
        JsonNode hits = summarize("{ \"ids\": [\"bicycle\"], \"field\": \"body\", \"max_sentences\": 3 }", 3);
        assertEquals(1, hits.size());
        assertEquals("bicycle", hits.path(0).path("_id").asText());
        assertEquals(3, hits.path(0).path("sentences").size(), "a 20-sentence text yields the full budget");
    }

    @Test
    void queryTextSelectsTheMatchingSentence() throws Exception {
        JsonNode hits = summarize("{ \"ids\": [\"bicycle\"], \"field\": \"body\", \"max_sentences\": 2,"
                + " \"query_text\": \"Who invented the pneumatic tyre?\" }", 2);
        boolean dunlop = false;
        for (JsonNode s : hits.path(0).path("sentences")) {
            dunlop |= s.path("text").asText().contains("Dunlop");
        }
        assertTrue(dunlop, "query-aware summary misses the Dunlop sentence: " + hits);
    }

    @Test
    void summaryOfQueryHitsHonoursSize() throws Exception {
        JsonNode hits = summarize("{ \"query\": { \"match\": { \"body\": \"rain bicycle\" } }, \"field\": \"body\","
                + " \"size\": 2, \"max_sentences\": 1 }", 1);
        assertTrue(hits.size() <= 2, "size 2 returned " + hits.size() + " hits");
        assertEquals(2, hits.size());
    }

    @Test
    void defaultQueryIsMatchAllAndChineseOffsetsAreExact() throws Exception {
        JsonNode hits = summarize("{ \"field\": \"body\", \"size\": 10, \"max_sentences\": 2 }", 2);
        assertEquals(DOCS.size(), hits.size(), "match_all default should return every document");
    }
}
