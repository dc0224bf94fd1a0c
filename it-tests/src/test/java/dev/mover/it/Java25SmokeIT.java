package dev.mover.it;

import co.elastic.clients.elasticsearch.cat.plugins.PluginsRecord;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Smoke tests on a node running Temurin 25 (real users run ES's bundled JDK 24+, where the entitlement checks
 * are the only sandbox): the plugin loads, ONNX Runtime runs, rescoring works.
 */
class Java25SmokeIT {
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java25();
        Assumptions.assumeTrue(n != null, "Temurin 25 is not installed at /usr/lib/jvm/temurin-25-jdk-amd64");
    }

    @Test
    void runsOnJava25WithPluginLoaded() throws Exception {
        JsonNode node = Http.ok(n.rest, "GET", "/_nodes/jvm", null).path("nodes").elements().next();
        assertTrue(node.path("jvm").path("version").asText().startsWith("25"), node.path("jvm").toString());
        List<PluginsRecord> plugins = n.es.cat().plugins().valueBody();
        assertTrue(plugins.stream().anyMatch(p -> "mover".equals(p.component())), plugins.toString());
    }

    @Test
    void onnxRuntimeEncodesOnJava25() throws Exception {
        IngestIT.assertSimulateEncodes(n, Fixtures.EN_MODEL, Fixtures.EN_DIMS, "Entitlements allow native code.");
    }

    @Test
    void rescoringWorksOnJava25() throws Exception {
        Fixtures.createIndex(n, "smoke25", "smoke25-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, "smoke25", Fixtures.docs(Fixtures.corpus("en.json")));
        JsonNode r = Http.ok(n.rest, "POST", "/smoke25/_search",
                Fixtures.search("A doctor treated the patient in the hospital.", true, 5));
        assertEquals("physician", r.path("hits").path("hits").path(0).path("_id").asText(), r.toString());
        Http.Reply bad = Http.call(n.rest, "POST", "/smoke25/_search", """
            { "query": { "match_all": {} }, "rescore": { "mover": { "field": "body", "query_text": "x" } } }
            """);
        Http.assertBadRequest(bad, "body", "field");
        Http.assertNodeUp(n.rest);
    }
}
