package dev.mover.it;

import co.elastic.clients.elasticsearch.core.GetResponse;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.json.JsonData;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mover.scoring.codec.TokenVectorCodec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code mover_encode} processor on a real node: ONNX Runtime loads under ES's entitlements (simulate), and a
 * {@code _bulk} through a default pipeline stores per-token vectors in doc values, outside {@code _source}.
 */
class IngestIT {
    private static final String INDEX = "ingest-docs";
    private static final Map<String, String> DOCS = new LinkedHashMap<>();

    static {
        DOCS.put("1", "The cat is sleeping on the warm sofa in the living room.");
        DOCS.put("2", "Heavy rain and strong winds are expected across the region tomorrow.");
        DOCS.put("3", "Preheat the oven, mix flour, eggs and sugar, then bake the cake for thirty minutes.");
    }

    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        Fixtures.createIndex(n, INDEX, "ingest-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, INDEX, DOCS);
    }

    static void assertSimulateEncodes(Nodes.Node node, String model, int dims, String text) throws Exception {
        String body = """
            { "pipeline": %s,
              "docs": [ { "_source": { "body": %s } } ] }
            """.formatted(Fixtures.pipelineJson(model, false), Http.str(text));
        JsonNode doc = Http.ok(node.rest, "POST", "/_ingest/pipeline/_simulate", body).path("docs").path(0);
        JsonNode source = doc.path("doc").path("_source");
        assertTrue(source.path("body_tokens").isTextual(), "no body_tokens in simulate output: " + doc);
        byte[] bytes = Base64.getDecoder().decode(source.path("body_tokens").asText());
        TokenVectorCodec.Decoded d = TokenVectorCodec.decode(bytes, 0, bytes.length);
        assertEquals(dims, d.dims());
        assertTrue(d.tokens() >= 3, "too few tokens: " + d.tokens());
        JsonNode pooled = source.path("body_vector");
        assertEquals(dims, pooled.size(), "pooled vector size");
        double norm = 0;
        for (JsonNode x : pooled) {
            assertTrue(Double.isFinite(x.asDouble()));
            norm += x.asDouble() * x.asDouble();
        }
        assertTrue(norm > 0.25, "pooled vector is (near) zero: squared norm " + norm);
    }

    @Test
    void simulateRunsOnnxRuntimeOnTheNodeForBothBundledModels() throws Exception {
        assertSimulateEncodes(n, Fixtures.EN_MODEL, Fixtures.EN_DIMS, "ONNX Runtime runs inside Elasticsearch.");
        assertSimulateEncodes(n, Fixtures.ZH_MODEL, Fixtures.ZH_DIMS, "向量在节点上生成。");
    }

    /** ONNX Runtime loads its libraries from the plugin's native/ folder: nothing extracted to the temp dir. */
    @Test
    void onnxRuntimeLibrariesAreNotExtractedToTempDir() throws Exception {
        assertSimulateEncodes(n, Fixtures.EN_MODEL, Fixtures.EN_DIMS, "Nothing is written to the temp dir.");
        java.nio.file.Path tmp = n.node.dir().resolve("tmp");
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(tmp)) {
            List<String> libs = files.map(p -> p.getFileName().toString())
                    .filter(f -> f.contains("onnxruntime") && f.endsWith(".so")).toList();
            assertTrue(libs.isEmpty(), "ONNX Runtime extracted libraries into " + tmp + ": " + libs);
        }
        java.nio.file.Path plugin = n.node.dir().getParent().resolve("home/plugins/mover/native");
        assertTrue(java.nio.file.Files.isRegularFile(plugin.resolve("libonnxruntime.so")), "missing " + plugin);
    }

    @Test
    void bulkThroughDefaultPipelineStoresTokenVectorsInDocValues() throws Exception {
        for (Map.Entry<String, String> e : DOCS.entrySet()) {
            SearchResponse<Map> r = n.es.search(s -> s.index(INDEX)
                    .query(q -> q.ids(i -> i.values(e.getKey())))
                    .docvalueFields(f -> f.field("body_tokens")), Map.class);
            assertEquals(1, r.hits().hits().size());
            Hit<Map> hit = r.hits().hits().get(0);
            JsonData value = hit.fields().get("body_tokens");
            assertNotNull(value, "no doc value for body_tokens of doc [" + e.getKey() + "]: " + hit.fields());
            List<?> values = value.to(List.class);
            assertEquals(1, values.size());
            byte[] bytes = Base64.getDecoder().decode((String) values.get(0));
            TokenVectorCodec.Decoded d = TokenVectorCodec.decode(bytes, 0, bytes.length);
            assertEquals(Fixtures.EN_DIMS, d.dims());
            String text = e.getValue();
            // roughly one token per word: the stored sequence covers the document
            assertTrue(d.tokens() >= text.split(" ").length, "tokens [" + d.tokens() + "] for [" + text + "]");
            int covered = 0;
            for (int t = 0; t < d.tokens(); t++) {
                int s = d.starts()[t];
                int end = d.ends()[t];
                assertTrue(0 <= s && s <= end && end <= text.length(),
                        "token " + t + " offsets [" + s + ", " + end + "] outside [0, " + text.length() + "]");
                covered = Math.max(covered, end);
            }
            assertTrue(covered >= text.length() - 1, "tokens end at [" + covered + "] of [" + text.length() + "]");
        }
    }

    @Test
    void tokensStayOutOfSourceButPooledVectorIsIndexed() throws Exception {
        GetResponse<Map> doc = n.es.get(g -> g.index(INDEX).id("2"), Map.class);
        assertTrue(doc.found());
        Map<?, ?> source = doc.source();
        assertFalse(source.containsKey("body_tokens"), "body_tokens leaked into _source: " + source.keySet());
        assertEquals(DOCS.get("2"), source.get("body"));
        // first-stage kNN on the pooled vector finds the document itself first
        List<?> vector = (List<?>) source.get("body_vector");
        assertEquals(Fixtures.EN_DIMS, vector.size());
        StringBuilder v = new StringBuilder();
        for (Object x : vector) {
            v.append(v.length() == 0 ? "" : ",").append(x);
        }
        JsonNode knn = Http.ok(n.rest, "POST", "/" + INDEX + "/_search",
                "{ \"knn\": { \"field\": \"body_vector\", \"query_vector\": [" + v + "], \"k\": 3,"
                        + " \"num_candidates\": 10 }, \"_source\": false }");
        assertEquals("2", knn.path("hits").path("hits").path(0).path("_id").asText(), knn.toString());
    }

    @Test
    void ignoreMissingSkipsDocumentsWithoutTheField() throws Exception {
        String index = "ingest-ignore-missing";
        Http.ok(n.rest, "PUT", "/_ingest/pipeline/ingest-en-lenient", Fixtures.pipelineJson(Fixtures.EN_MODEL, true));
        Http.call(n.rest, "DELETE", "/" + index, null);
        Http.ok(n.rest, "PUT", "/" + index, Fixtures.indexJson("ingest-en-lenient", Fixtures.EN_MODEL, Fixtures.EN_DIMS));
        Http.Reply r = Http.call(n.rest, "PUT", "/" + index + "/_doc/1?refresh=true", "{ \"title\": \"no body here\" }");
        assertEquals(201, r.status(), r.toString());
        JsonNode got = Http.ok(n.rest, "GET", "/" + index + "/_doc/1", null).path("_source");
        assertEquals("no body here", got.path("title").asText());
        assertTrue(got.path("body_vector").isMissingNode(), "pooled vector written for a missing field: " + got);
    }
}
