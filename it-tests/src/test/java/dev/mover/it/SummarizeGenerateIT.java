package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Summaries beyond the walking skeleton (issue 7): a generator named in node settings (a chat endpoint faked in this
 * JVM on 127.0.0.1), a generator endpoint that is down or too slow (extractive result with a warning, never a hang),
 * the compressive mode, a 20,000-character hit, Chinese text, several shards, and bad budgets.
 */
class SummarizeGenerateIT {
    private static final String INDEX = "summarize-gen";
    private static final Map<String, String> DOCS = new LinkedHashMap<>();
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        String base = Fixtures.longEnglish();
        StringBuilder huge = new StringBuilder();
        int i = 0;
        while (huge.length() < 20_000) {
            huge.append("Part ").append(++i).append(". ").append(base).append("\n\n");
        }
        DOCS.put("long", base);
        DOCS.put("huge", huge.toString());
        DOCS.put("zh", "自行车在十九世纪逐渐成形。早期的车子没有踏板，骑车人用脚蹬地前进；后来出现了链条驱动后轮的安全自行车。"
            + "充气轮胎让骑车更加舒适，也让速度更快。今天，许多城市修建了自行车道，鼓励市民骑车出行。");
        for (int d = 0; d < 6; d++) {
            DOCS.put("short-" + d, "Cycling report number " + d + ". Riders crossed the valley at dawn. The bicycle had new tyres. "
                + "Everyone rested by the river afterwards.");
        }
        Http.ok(n.rest, "PUT", "/_ingest/pipeline/summarize-gen", Fixtures.pipelineJson(Fixtures.EN_MODEL, false));
        Http.call(n.rest, "DELETE", "/" + INDEX, null);
        Http.ok(n.rest, "PUT", "/" + INDEX, Fixtures.indexJson("summarize-gen", Fixtures.EN_MODEL, Fixtures.EN_DIMS)
            .replace("\"number_of_shards\": 1", "\"number_of_shards\": 3"));
        Fixtures.bulk(n, INDEX, DOCS);
    }

    private static JsonNode summarize(String body) throws Exception {
        return Http.ok(n.rest, "POST", "/" + INDEX + "/_mover/summarize", body).path("hits");
    }

    private static void assertUnitsAtOffsets(JsonNode hit, String arrayName) {
        String source = DOCS.get(hit.path("_id").asText());
        JsonNode units = hit.path(arrayName);
        assertTrue(units.size() > 0, "no " + arrayName + ": " + hit);
        int lastEnd = -1;
        for (JsonNode s : units) {
            int start = s.path("start").asInt();
            int end = s.path("end").asInt();
            assertTrue(start >= lastEnd && end <= source.length(), "offsets out of order or range: " + units);
            assertEquals(source.substring(start, end), s.path("text").asText());
            lastEnd = end;
        }
    }

    @Test
    void generatorTextIsCheckedForSupport() throws Exception {
        int before = FakeLlm.calls();
        JsonNode hit = summarize("{ \"ids\": [\"long\"], \"field\": \"body\", \"max_sentences\": 3, \"generator\": \"fake\" }").path(0);
        assertEquals(before + 1, FakeLlm.calls(), "the generator endpoint was not called once");
        assertEquals("extractive", hit.path("mode").asText());
        assertUnitsAtOffsets(hit, "sentences");
        JsonNode g = hit.path("generated");
        assertEquals("fake", g.path("generator").asText(), hit.toString());
        assertEquals("openai_compatible", g.path("type").asText());
        assertTrue(g.path("text").asText().contains(FakeLlm.INVENTED), g.toString());
        assertFalse(g.path("all_supported").asBoolean(), "an invented sentence passed as supported: " + g);
        boolean copiedSupported = false;
        boolean inventedFlagged = false;
        for (JsonNode s : g.path("sentences")) {
            if (s.path("text").asText().equals(FakeLlm.INVENTED)) {
                inventedFlagged = s.path("supported").asBoolean() == false;
            } else if (s.path("supported").asBoolean()) {
                copiedSupported = true;
            }
        }
        assertTrue(inventedFlagged, "invented sentence not flagged: " + g);
        assertTrue(copiedSupported, "the sentence copied from the source was not found supported: " + g);
    }

    @Test
    void generatorDownOrSlowKeepsTheExtractiveSummary() throws Exception {
        for (String gen : new String[] {"down", "slow"}) {
            long t0 = System.nanoTime();
            JsonNode hit = summarize("{ \"ids\": [\"long\"], \"field\": \"body\", \"generator\": \"" + gen + "\" }").path(0);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds < 15, "generator [" + gen + "] held the request for " + seconds + " s");
            assertTrue(hit.path("generation_warning").asText().contains(gen), hit.toString());
            assertTrue(hit.path("generated").isMissingNode(), hit.toString());
            assertUnitsAtOffsets(hit, "sentences");
        }
        Http.assertNodeUp(n.rest);
    }

    @Test
    void unknownGeneratorAndBadBudgetsAre400() throws Exception {
        String path = "/" + INDEX + "/_mover/summarize";
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body\", \"generator\": \"nope\" }"), "generator");
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body\", \"max_sentences\": 0 }"), "max_sentences");
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body\", \"max_sentences\": 100000 }"), "max_sentences");
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body\", \"size\": 100000 }"), "size");
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body_vector\" }"), "field");
        Http.assertBadRequest(Http.call(n.rest, "POST", path, "{ \"field\": \"body\", \"mode\": \"poetic\" }"), "mode");
        Http.assertNodeUp(n.rest);
    }

    @Test
    void compressiveModeFusesClausesFromTheSource() throws Exception {
        JsonNode hit = summarize("{ \"ids\": [\"zh\"], \"field\": \"body\", \"max_sentences\": 3, \"mode\": \"compressive\","
            + " \"query_text\": \"轮胎\" }").path(0);
        assertEquals("compressive", hit.path("mode").asText(), hit.toString());
        assertUnitsAtOffsets(hit, "clauses");
        String text = hit.path("text").asText();
        for (JsonNode c : hit.path("clauses")) {
            assertTrue(text.contains(c.path("text").asText().replaceAll("[，。；：]$", "")), "fused text lacks a clause: " + hit);
        }
    }

    @Test
    void twentyThousandCharacterHitAndSeveralShards() throws Exception {
        JsonNode hits = summarize("{ \"query\": { \"match\": { \"body\": \"bicycle tyres riders\" } }, \"field\": \"body\","
            + " \"size\": 9, \"max_sentences\": 4, \"query_text\": \"pneumatic tyre\" }");
        Set<String> ids = new HashSet<>();
        for (JsonNode hit : hits) {
            ids.add(hit.path("_id").asText());
            assertUnitsAtOffsets(hit, "sentences");
            assertTrue(hit.path("sentences").size() <= 4);
        }
        assertTrue(ids.contains("huge"), "the 20,000-character hit is missing: " + ids);
        assertTrue(ids.size() >= 6, "hits from the three shards are missing: " + ids);
        JsonNode huge = summarize("{ \"ids\": [\"huge\"], \"field\": \"body\", \"max_sentences\": 5 }").path(0);
        int maxEnd = 0;
        for (JsonNode s : huge.path("sentences")) {
            maxEnd = Math.max(maxEnd, s.path("end").asInt());
        }
        assertTrue(DOCS.get("huge").length() >= 20_000);
        assertEquals(5, huge.path("sentences").size(), huge.toString());
        assertTrue(maxEnd > 0);
    }
}
